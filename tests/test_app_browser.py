"""The app in a real browser: Debian's Chromium driven by Playwright (no browser download).

Starts `streamlit run app.py` on a free loopback port, opens it, waits for the map canvas, runs
the flagship scenario and checks the KPIs. Screenshots go to $TWIN_SCREENSHOT_DIR when it is set
(that is how the README's pictures are made), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
    pytest.mark.browser,
]
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

REPO = Path(__file__).resolve().parents[1]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "log.txt"
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO / "app.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO,
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"streamlit did not start: {log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_map_flagship_playback_and_living_lab_in_chromium(app_url, tmp_path):
    shots = Path(os.environ.get("TWIN_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url, wait_until="networkidle")
        page.get_by_text("English").click()
        page.wait_for_selector("canvas", timeout=180_000)
        page.wait_for_timeout(5000)  # let deck.gl draw
        page.screenshot(path=str(shots / "app_map.png"))
        # the flagship, as shipped; the pages are the sidebar's navigation links
        nav = page.locator('[data-testid="stSidebarNav"]')
        assert [x.strip() for x in nav.get_by_role("link").all_inner_texts()] == [
            "City map",
            "Run a scenario",
            "Compare a proposal",
            "CCTV blind spots and placement",
            "Building and slope collapse early warning",
        ]
        nav.get_by_text("Run a scenario").click()
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Peak stage at 신곡교").wait_for(timeout=180_000)
        page.get_by_text("Play back").wait_for(timeout=60_000)
        page.wait_for_selector("canvas", timeout=60_000)
        body = page.inner_text("body")
        assert "Riverside access points flooded" in body and "106 / 120" in body
        assert "Traceback" not in body
        # the evening walkers: people on the map and the evacuation curve
        page.locator('[data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="flash_flood_evening_walkers.yaml").click()
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Evacuation curve").wait_for(timeout=180_000)
        page.set_viewport_size({"width": 1400, "height": 3000})
        page.wait_for_timeout(6000)
        body = page.inner_text("body")
        assert "People still on a path when it flooded" in body and "Traceback" not in body
        page.screenshot(path=str(shots / "app_run.png"))
        # a workshop: Korean, living-lab mode
        page.set_viewport_size({"width": 1400, "height": 2000})
        page.get_by_text("한국어").click()
        page.get_by_text("리빙랩 모드").click()
        nav.get_by_text("시나리오 실행").wait_for(timeout=60_000)  # the links follow the language
        assert "도시 지도" in nav.inner_text() and "/run" in page.url  # and the page stays
        page.get_by_text("침수 때 산책로에 남은 사람").wait_for(timeout=120_000)
        page.wait_for_timeout(6000)
        page.screenshot(path=str(shots / "app_living_lab.png"))
        # CCTV coverage in the workshop: the big numbers and the map, no tables
        nav.get_by_text("CCTV 사각지대와 배치").click()
        page.get_by_text("낮에 보이는 하천 산책로").wait_for(timeout=180_000)
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_timeout(4000)
        body = page.inner_text("body")
        assert "새 카메라 10대" in body and "→" in body and "Traceback" not in body
        page.screenshot(path=str(shots / "app_cctv_living_lab.png"))
        # the slope failures of August 2022 in the workshop: the outcome in words, the map, a site's charts
        nav.get_by_text("건물·급경사지 붕괴 조기경보").click()
        page.get_by_role("button", name="실행", exact=True).click()
        page.get_by_text("9곳이 무너졌고").first.wait_for(timeout=180_000)
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_selector(".vega-embed", timeout=60_000)
        page.wait_for_timeout(4000)
        body = page.inner_text("body")
        assert "66명" in body and "대피" in body and "Traceback" not in body
        page.screenshot(path=str(shots / "app_collapse_living_lab.png"), full_page=True)
        browser.close()
    for name in ("app_map.png", "app_run.png", "app_living_lab.png", "app_cctv_living_lab.png",
                 "app_collapse_living_lab.png"):  # fmt: skip
        assert (shots / name).stat().st_size > 20_000, name


def _minute(page) -> int:
    """The minute the playback slider shows."""
    return int(page.locator('[data-testid="stSlider"]').get_by_role("slider").first.get_attribute("aria-valuetext"))


def test_play_animates_without_blocking_and_stops_at_the_end_then_compare(app_url, tmp_path):
    """▶ moves the slider and the map by itself (a fragment on a timer), the page answers while it
    plays (❚❚ stops it), and played to the end it stops at the last minute."""
    shots = Path(os.environ.get("TWIN_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(f"{app_url}/run", wait_until="networkidle")  # a page's own address
        page.get_by_text("English").click()
        page.get_by_role("heading", name="Run a scenario").wait_for(timeout=120_000)
        page.locator('[data-testid="stSelectbox"]').first.click()
        page.get_by_role("option", name="flash_flood_evening_walkers.yaml").click()
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("button", name="▶ Play").wait_for(timeout=180_000)
        page.wait_for_selector("canvas", timeout=60_000)
        slider = page.locator('[data-testid="stSlider"]').get_by_role("slider").first
        slider.focus()
        slider.press("Home")  # from the start: about 30 frames, half a second each
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stSlider] input').getAttribute('aria-valuetext') === '0'",
            timeout=30_000,
        )
        page.wait_for_timeout(1500)
        first = _minute(page)
        page.get_by_role("button", name="▶ Play").click()
        pause = page.get_by_role("button", name="❚❚ Pause")
        pause.wait_for(timeout=30_000)
        seen = [first]
        for _ in range(10):
            page.wait_for_timeout(500)
            seen.append(_minute(page))
        assert seen[-1] > first and len(set(seen)) >= 3, seen  # it moves by itself, frame by frame
        page.screenshot(path=str(shots / "app_playing.png"))
        pause.click()  # the page answers while it plays
        page.get_by_role("button", name="▶ Play").wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        paused = _minute(page)
        page.wait_for_timeout(2000)
        assert _minute(page) == paused < 240
        page.get_by_role("button", name="▶ Play").click()
        pause.wait_for(timeout=30_000)
        page.get_by_role("button", name="▶ Play").wait_for(timeout=120_000)  # back to ▶ at the end
        page.wait_for_timeout(2000)
        assert _minute(page) == 240  # the last minute of the 4-hour run, and it stays there
        body = page.inner_text("body")
        assert "Traceback" not in body and "Error" not in body
        # the compare page: both runs, their difference and both maps
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Compare a proposal").click()
        page.get_by_role("button", name="Compare", exact=True).click()
        page.get_by_text("Map of the worst state").first.wait_for(timeout=300_000)
        page.wait_for_timeout(6000)
        assert page.locator("canvas").count() >= 2
        page.screenshot(path=str(shots / "app_compare.png"), full_page=True)
        browser.close()
    for name in ("app_playing.png", "app_compare.png"):
        assert (shots / name).stat().st_size > 20_000, name
