"""The app in a real browser, for the browser tests: ``streamlit run app.py`` on a loopback port and
Debian's Chromium driven by Playwright (no browser download).

:func:`serve_app` starts the app and yields its URL once it answers (120 s budget, said as such when
broken); the ``browser`` and ``shots`` fixtures (registered in conftest.py) give one headless
Chromium per module and the folder screenshots go to ($TWIN_SCREENSHOT_DIR, else the test's
temporary folder).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip
BROWSER_MARKS = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
    pytest.mark.browser,
]
"""The ``pytestmark`` of a browser test module: skipped without Chromium, in the ``browser`` tier."""
MAIN = '[data-testid="stMain"]'
MAPS = '[data-testid="stDeckGlJsonChart"]'
START_BUDGET_S = 120.0


def free_port(ports: range | None = None) -> int:
    """A free loopback port: any, or the first free one of ``ports``."""
    for port in ports or [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    pytest.skip(f"no free port in {ports}")


@contextmanager
def serve_app(env: dict[str, str], log: Path, port: int | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on 127.0.0.1 with ``env``, its output in ``log``; yields its URL."""
    port = port or free_port()
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_BUDGET_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"budget broken: streamlit did not start in {START_BUDGET_S:.0f} s: "
                                f"{log.read_text()[-2000:]}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test opens its own page (a new session)."""
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: $TWIN_SCREENSHOT_DIR, else the test's temporary folder."""
    out = Path(os.environ.get("TWIN_SCREENSHOT_DIR", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    return out
