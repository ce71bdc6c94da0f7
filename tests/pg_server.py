"""A PostgreSQL server for the proposals tests: Debian's postgresql (installed by scripts/setup.sh
test), started by the test on 127.0.0.1 with trust authentication in a temporary folder.

Registered in conftest.py (``pytest_plugins``), so every test module can ask for them.
``db_url`` runs a test on SQLite and on PostgreSQL. Wall time: the server gets 60 s to start (a
budget broken is said as such).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from twin.errors import ProposalError
from twin.proposals.store import open_store

PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin"))  # Debian's layout, one folder per major version
PG_BUDGET_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own (Debian's postgresql 15, installed by scripts/setup.sh test) on
    127.0.0.1, trust authentication, in a temporary folder; stopped at the end."""
    initdb = shutil.which("initdb") or (str(PG_BINS[-1] / "initdb") if PG_BINS else "")
    pg_ctl = shutil.which("pg_ctl") or (str(PG_BINS[-1] / "pg_ctl") if PG_BINS else "")
    if not initdb or not Path(initdb).exists():
        pytest.skip("PostgreSQL is not installed (scripts/setup.sh test installs Debian's postgresql)")
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
        pytest.skip("running as root without a postgres user to run the server as")
    data = Path(tempfile.mkdtemp(prefix="twin-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(data / "db"), "-U", "twin", "--auth=trust", "-E", "UTF8",
                                 "--no-locale"]), check=True, capture_output=True)
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data / "db"), "-l", str(data / "log"), "-w", "-t",
                                 str(int(PG_BUDGET_S)), "-o", f"-c listen_addresses=127.0.0.1 -p {port} "
                                 f"-c unix_socket_directories={data}", "start"]), check=True, capture_output=True)
    url = f"postgresql+psycopg://twin@127.0.0.1:{port}/postgres"
    t0 = time.monotonic()
    while True:
        try:
            open_store(url)
            break
        except ProposalError:
            if time.monotonic() - t0 > PG_BUDGET_S:
                pytest.fail(f"timing budget broken: PostgreSQL did not answer within {PG_BUDGET_S:.0f} s")
            time.sleep(0.5)
    yield url
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data / "db"), "-m", "fast", "stop"]), capture_output=True)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'proposals.sqlite'}"
    url = request.getfixturevalue("postgresql_fresh")
    return url


@pytest.fixture
def postgresql_fresh(postgres_url):
    """The module's server, emptied: every test starts from a database with no table."""
    from sqlalchemy import create_engine

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url
