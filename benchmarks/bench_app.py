"""The Streamlit app in a real browser (Debian chromium via Playwright), against the same work headless.

    python benchmarks/bench_app.py [--repeat N]

Starts `streamlit run app.py` on a loopback port and prints, best of N fresh browser sessions:
* first map render: from opening the page to the city map's canvas on screen (a cold server
  start is printed separately: it loads and validates the dataset once);
* run to results: from pressing Run on the flagship scenario (a new rain depth each time, so
  nothing is cached) to the KPIs and the playback map on screen;
* baselines measured in the same run: the city map built and serialised headless
  (load_city + pydeck JSON), and `run_scenario` of the same flagship headless, so the ratios show
  what the app adds on top of the work it cannot avoid.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-quic"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, log: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log.open("w"), stderr=subprocess.STDOUT)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise SystemExit(f"streamlit did not start; see {log}")


def _baselines(total_mm: float) -> tuple[float, float]:
    from twin.app.map_layers import deck
    from twin.city import load_city
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    t0 = time.perf_counter()
    city = load_city()
    deck(city, lang="en").to_json()
    t_map = time.perf_counter() - t0
    s = load_scenario(
        REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", overrides=[f"rainfall.total_mm={total_mm}"]
    )
    t0 = time.perf_counter()
    run_scenario(s, city=city)
    return t_map, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    os.environ["TWIN_CACHE_DIR"] = tempfile.mkdtemp(prefix="twin-bench-app-")  # a cold server
    port = _port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(port, Path(os.environ["TWIN_CACHE_DIR"]) / "streamlit.log")
    maps, runs = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.repeat + 1):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                t0 = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("canvas", timeout=300_000)
                maps.append(time.perf_counter() - t0)
                page.get_by_text("English").click()
                page.get_by_text("Run a scenario").click()
                box = page.get_by_label("Total rain (mm)")
                box.fill(f"{91 + i}")  # a new rain depth: never a cached run
                box.press("Enter")
                page.wait_for_timeout(500)
                t0 = time.perf_counter()
                page.get_by_role("button", name="Run", exact=True).click()
                page.get_by_text("Peak stage at 신곡교").wait_for(timeout=300_000)
                page.wait_for_selector("canvas", timeout=300_000)
                runs.append(time.perf_counter() - t0)
                page.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    t_map, t_run = _baselines(91.0)
    cold, warm = maps[0], min(maps[1:])
    best_run = min(runs[1:]) if len(runs) > 1 else runs[0]
    print(f"first map render, cold server : {cold:6.2f} s (loads and validates the dataset once)")
    print(f"first map render, new session : {warm:6.2f} s  baseline map built headless {t_map:5.2f} s")
    print(f"run to results (flagship)     : {best_run:6.2f} s  baseline run_scenario headless {t_run:5.2f} s")
    print(f"ratios app / headless         : map {warm / t_map:4.1f}x, run {best_run / t_run:4.1f}x")


if __name__ == "__main__":
    main()
