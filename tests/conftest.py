"""Shared fixtures. Tests never touch the network; the reference data is optional."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from twin.city import DEFAULT_DATASET, load_city

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Tests use a cache of their own, never the user's ~/.cache (subprocesses inherit it)."""
    old = os.environ.get("TWIN_CACHE_DIR")
    os.environ["TWIN_CACHE_DIR"] = str(tmp_path_factory.mktemp("twin-cache"))
    yield
    if old is None:
        os.environ.pop("TWIN_CACHE_DIR", None)
    else:
        os.environ["TWIN_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def _main_module_kept():
    """Streamlit's AppTest runs its script as ``__main__`` and leaves it there: a process pool
    started later with the spawn method (the HIL runs) re-runs that module in each worker, and a
    script of ``AppTest.from_function`` fails there (``__args`` is not defined). Put it back."""
    main = sys.modules.get("__main__")
    yield
    if main is not None and sys.modules.get("__main__") is not main:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def city():
    """The shipped Uijeongbu dataset, loaded once."""
    return load_city()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference-data beside the repository; skipped with a reason when absent."""
    if not (REFERENCE / "README.md").is_file():
        pytest.skip(f"reference data not found at {REFERENCE}: checks against the real data need ../shared")
    return REFERENCE


@pytest.fixture
def dataset_copy(tmp_path) -> Path:
    """A writable copy of the shipped dataset, for tests that break it."""
    dst = tmp_path / "uijeongbu"
    shutil.copytree(DEFAULT_DATASET, dst)
    return dst


@pytest.fixture(scope="session")
def headless(city, tmp_path_factory):
    """Run a scenario file headless once per session, into a run folder of its own:
    ``headless(path)`` -> twin.runner.RunResult (its ``out`` is the folder). Tests read it, never
    change it."""
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    done = {}

    def run(path):
        key = str(Path(path).resolve())
        if key not in done:
            out = tmp_path_factory.mktemp(Path(path).stem) / "run"
            done[key] = run_scenario(load_scenario(path), out=out, city=city)
        return done[key]

    return run


@pytest.fixture(scope="session")
def walkers_run(headless):
    """The evening-walkers flash flood (flood + crowd), run once into a run folder and read back."""
    from twin.results import read_run_folder

    return read_run_folder(headless(REPO / "scenarios" / "flash_flood_evening_walkers.yaml").out)


@pytest.fixture(scope="session")
def gate_runs(tmp_path_factory):
    """Run a shipped gate scenario (scenarios/gates/NAME.yaml) headless once per session, with
    ``twin run``: ``gate_runs(name, *extra_cli_args)`` -> (exit code, run folder)."""
    from click.testing import CliRunner

    from twin.cli import main

    done: dict[str, tuple[int, Path]] = {}

    def run(name: str, *extra: str) -> tuple[int, Path]:
        key = " ".join((name, *extra))
        if key not in done:
            out = tmp_path_factory.mktemp(name)
            gates = REPO / "scenarios" / "gates"
            r = CliRunner().invoke(main, ["run", str(gates / f"{name}.yaml"), "--out", str(out), "--quiet", *extra])
            assert r.exception is None or isinstance(r.exception, SystemExit), r.output
            done[key] = (r.exit_code, out)
        return done[key]

    return run
pytest_plugins = ["pg_server", "browser_app"]  # fixtures: the PostgreSQL server (proposals), the browser (app)
