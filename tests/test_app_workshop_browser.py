"""A living-lab workshop in a real browser, in Korean: Debian's Chromium driven by Playwright (no browser
download) against ``streamlit run app.py`` on a loopback port, its data folder a temporary one.

A fixture makes two proposals in that folder's database: one evaluated for real (the evening walkers
told to leave at the attention level: two runs of a few seconds each) and one whose title, description
and comment are script injection. The test opens the proposals page, opens the evaluated proposal, sees
its comparison (the KPI table and the two maps), votes and comments, and checks that the database holds
them; it opens the hostile one and sees its text as text, with no dialog fired and no script, image or
javascript: link made from it; then the facilitator view in large text. Both pages pass the checks of
tests/test_app_browser.py (no raw ID, enumeration key or file name shown; no traceback).

Screenshots go to $TWIN_SCREENSHOT_DIR when it is set (docs/img/workshop-*.png are made that way), else
to the test's temporary folder. Every wait has a budget (the app's first draw and the maps: 300 s on the
shared 2-core machine; a rerun: 60 s); a timeout fails the test with "budget broken: <what> took more
than N s".
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_app import BROWSER_MARKS, MAIN, MAPS, REPO, free_port, serve_app

from twin.app.widgets import WORD_JOINER

pytestmark = BROWSER_MARKS
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from test_app_browser import check_page  # noqa: E402  (the app's own checks of what a page shows)

WALKERS = REPO / "scenarios" / "flash_flood_evening_walkers.yaml"
FLAGSHIP = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
PORTS = range(8650, 8700)  # this test's loopback ports
LONG_S = 300.0  # s: the first draw of a page (the city loaded) and the maps
SHORT_S = 60.0  # s: a rerun after a click
TITLE = "산책로 대피를 관심 수위에서"
HOSTILE_TITLE = "<script>alert(1)</script> 위험한 제목"
HOSTILE_TEXT = ("[x](javascript:alert(2)) ![t](http://evil/x.png) <img src=x onerror=alert(3)> `code` "
                ":red[빨강] :material/warning: https://evil.example/p www.evil.com a@evil.com")
COMMENT = "아이들도 이 산책로를 걸어요. 찬성합니다!"
PARTICIPANT = "김하늘"


# --- the data, the server and the browser ------------------------------------------------------
@pytest.fixture(scope="module")
def workshop(tmp_path_factory) -> dict[str, Any]:
    """A data folder with the proposals database: the hostile proposal, then the evaluated one (the
    newest, so the page opens it first)."""
    from twin.proposals.evaluate import evaluate_proposal
    from twin.proposals.store import open_store

    data = tmp_path_factory.mktemp("data")
    url = f"sqlite:///{data / 'proposals.sqlite'}"
    store = open_store(url)
    hostile = store.new(title_ko=HOSTILE_TITLE, title_en=HOSTILE_TITLE, author="<b>누군가</b>", scenario=str(FLAGSHIP),
                        overrides=["rainfall.total_mm=120"], description_ko=HOSTILE_TEXT,
                        description_en=HOSTILE_TEXT)  # fmt: skip
    store.comment(hostile, participant="익명", text=HOSTILE_TEXT)
    evaluated = store.new(
        title_ko=TITLE, title_en="Leave the paths at the attention level", author="의정부 리빙랩 3모둠",
        scenario=str(WALKERS), overrides=["crowd.evacuation_trigger=attention"],
        description_ko="첫 산책로가 잠길 때까지 기다리지 말고, 신곡교 수위가 관심 단계에 닿으면 바로 "
        "산책로에서 나오도록 안내합니다.",
        description_en="Tell people to leave the paths when the Singok bridge gauge reaches the attention level.",
    )  # fmt: skip
    evaluate_proposal(store, evaluated, data=data)
    return {"data": data, "url": url, "store": store, "hostile": hostile, "evaluated": evaluated}




@pytest.fixture(scope="module")
def app_url(workshop, tmp_path_factory) -> Iterator[str]:
    """``streamlit run app.py`` on 127.0.0.1 with TWIN_DATA_DIR = the workshop's data folder."""
    env = {k: v for k, v in os.environ.items() if k != "TWIN_DB_URL"}
    env["TWIN_DATA_DIR"] = str(workshop["data"])
    with serve_app(env, tmp_path_factory.mktemp("streamlit") / "log.txt", free_port(PORTS)) as url:
        yield url




# --- waiting -----------------------------------------------------------------------------------------
def _until(page, ok: Callable[[], bool], what: str, timeout_s: float = LONG_S) -> None:
    """Poll ``ok()`` until it holds; else fail saying the budget for ``what`` is broken."""
    deadline = time.monotonic() + timeout_s
    while not ok():
        if time.monotonic() > deadline:
            pytest.fail(f"budget broken: {what} took more than {timeout_s:.0f} s")
        page.wait_for_timeout(100)


_BUSY_JS = """() => !!document.querySelector('[data-testid="stStatusWidget"]')
    || !!document.querySelector('[data-stale="true"]')
    || !!document.querySelector('[data-testid="stSpinner"]')
    || !!document.querySelector('[data-testid="stSkeleton"]')"""


def _settle(page, what: str, timeout_s: float = LONG_S) -> None:
    """Wait until Streamlit is idle for 4 polls of 250 ms in a row, then two animation frames."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while quiet < 4:
        if time.monotonic() > deadline:
            pytest.fail(f"budget broken: {what} (the app idle) took more than {timeout_s:.0f} s")
        quiet = 0 if page.evaluate(_BUSY_JS) else quiet + 1
        page.wait_for_timeout(250)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _shown(page, text: str, what: str, timeout_s: float = SHORT_S) -> None:
    """Wait until ``text`` is shown in the page's main part, as a reader reads it (the invisible
    word joiners that keep addresses in user text from becoming links left out)."""
    deadline = time.monotonic() + timeout_s
    while text not in page.locator(MAIN).inner_text().replace(WORD_JOINER, ""):
        if time.monotonic() > deadline:
            pytest.fail(f"budget broken: {what} ({text!r} shown) took more than {timeout_s:.0f} s")
        page.wait_for_timeout(200)


def _press(page, name: str, what: str) -> None:
    """Press the main part's button called ``name``."""
    try:
        page.locator(MAIN).get_by_role("button", name=name).first.click(timeout=SHORT_S * 1000)
    except playwright.TimeoutError:
        pytest.fail(f"budget broken: the button {name!r} ({what}) was not there within {SHORT_S:.0f} s")


def _type(page, label: str, text: str, *, area: bool = False) -> None:
    """Type ``text`` into the text box (or area) labelled ``label`` and commit it (Enter, or a click away)."""
    box = page.locator(MAIN).get_by_role("textbox", name=label, exact=True).first
    box.fill(text)
    if area:
        box.blur()  # committed to the form before its button is pressed (else a quick click may send the old text)
        page.wait_for_timeout(300)
        return  # a form's text area is sent with the form's button
    box.press("Enter")
    _settle(page, f"typing into {label!r}", SHORT_S)


def _choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label``."""
    box = page.locator(MAIN).get_by_role("combobox", name=label, exact=True).first
    box.scroll_into_view_if_needed(timeout=SHORT_S * 1000)  # a scroll while the list is open closes it
    page.wait_for_timeout(300)
    item = page.get_by_role("option", name=option, exact=True).first
    deadline = time.monotonic() + SHORT_S
    while not item.is_visible():
        if time.monotonic() > deadline:
            pytest.fail(f"budget broken: the option {option!r} of {label!r} took more than {SHORT_S:.0f} s")
        box.click()
        page.wait_for_timeout(500)
    item.click(timeout=SHORT_S * 1000)
    _settle(page, f"choosing {option!r}", LONG_S)


def _maps_drawn(page, n: int, what: str) -> None:
    def drawn() -> bool:
        texts = page.locator(MAPS).all_inner_texts()
        if any("Error" in x for x in texts):
            pytest.fail(f"{what}: a map shows an error instead of drawing")
        return page.locator(f"{MAPS} canvas").count() >= n

    _until(page, drawn, f"{what} ({n} maps drawn)")


def _screenshot(page, path: Path, height_px: int = 2400) -> None:
    """The page's top ``height_px`` (the main part scrolls inside the window, so a full-page shot would
    miss it: the window is made that tall instead), then the window as it was."""
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height_px})
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    _settle(page, "resizing the window", SHORT_S)
    page.wait_for_timeout(1000)  # the maps redraw at the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    _settle(page, "resizing the window back", SHORT_S)


INJECTED_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  return {
    scripts: [...main.querySelectorAll('script')].length,
    evil_images: [...main.querySelectorAll('img')].filter(i => /evil|^x$/.test(i.getAttribute('src') || '')).length,
    js_links: [...main.querySelectorAll('a')]
      .filter(a => /^\\s*javascript:|evil/i.test(a.getAttribute('href') || '')).length,
    bold_tags: [...main.querySelectorAll('b')].filter(b => b.textContent.includes('누군가')).length,
    coloured: [...main.querySelectorAll('span')].filter(x => x.textContent === '빨강' && x.style.color).length,
    icons: [...main.querySelectorAll('[data-testid="stIconMaterial"]')].filter(i => /warning/.test(i.textContent))
      .length,
  };
}"""


# --- the workshop -------------------------------------------------------------------------------------
def test_a_workshop_in_korean(workshop, app_url, browser, shots) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="ko-KR")
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{app_url}/proposals")
    _settle(page, "opening the proposals page")
    _shown(page, "제안 열기", "the proposals list", LONG_S)
    # who I am, then open the evaluated proposal and see its comparison
    _type(page, "참가자 이름 (투표에 필요)", PARTICIPANT)
    _choose(page, "제안 열기", TITLE)
    _shown(page, "대피 지시 시점: 관심 수위에 닿을 때", "the change in words")
    _shown(page, "평가: 현재와 제안 비교", "the evaluation")
    _maps_drawn(page, 2, "the baseline and proposal maps")
    _settle(page, "drawing the comparison")
    # vote and comment
    _press(page, "찬성하기", "voting for")
    _shown(page, f"{PARTICIPANT} 님의 투표를 저장했습니다.", "the vote saved")
    _settle(page, "the page after the vote")  # a rerun still drawing would reset what is typed next
    _type(page, "의견", COMMENT, area=True)
    page.locator(MAIN).get_by_text("내 이름을 공개해도 됩니다", exact=False).first.click()
    _press(page, "의견 보내기", "sending the comment")
    _shown(page, "의견을 저장했습니다.", "the comment saved")
    _shown(page, COMMENT, "the comment listed")
    got = workshop["store"].get(workshop["evaluated"])
    assert (got["votes_for"], got["votes_against"]) == (1, 0)
    assert [(c["participant"], c["text"], c["public_name"]) for c in got["comments"]] == [(PARTICIPANT, COMMENT, True)]
    _shown(page, "찬성 1 · 반대 0", "the tally")
    _screenshot(page, shots / "workshop-proposal.png")
    problems = check_page(page, "/proposals [ko]", "ko")  # names, not IDs, keys or file names; no traceback
    # the hostile proposal: its text as text, nothing run, loaded or linked from it
    _choose(page, "제안 열기", HOSTILE_TITLE)
    _shown(page, HOSTILE_TITLE, "the hostile title, as text")
    _shown(page, HOSTILE_TEXT, "the hostile description, as text")
    made = page.evaluate(INJECTED_JS)
    assert made == {"scripts": 0, "evil_images": 0, "js_links": 0, "bold_tags": 0, "coloured": 0, "icons": 0}, made
    # the facilitator view: the proposals one by one, large text
    page.goto(f"{app_url}/facilitator")
    _settle(page, "opening the facilitator view")
    _shown(page, "1 / 2", "the facilitator view", LONG_S)
    _press(page, "다음 ▶", "the next proposal")
    _shown(page, "2 / 2", "the next proposal")
    _shown(page, TITLE, "the evaluated proposal on the facilitator view")
    _shown(page, COMMENT, "the latest comment on the facilitator view")
    size = page.locator(MAIN).locator(".stMarkdown p").filter(has_text="첫 산책로가").first.evaluate(
        "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 24, size  # px: large text for the room
    _screenshot(page, shots / "workshop-facilitator.png", 1400)
    problems += check_page(page, "/facilitator [ko]", "ko")
    problems = [p for p in problems if HOSTILE_TITLE not in p]  # people's own text is shown as typed
    assert not problems, "\n".join(problems)
    page.goto(f"{app_url}/facilitator")  # the hostile one (first) on the facilitator view too
    _settle(page, "opening the facilitator view again")
    _shown(page, HOSTILE_TITLE, "the hostile title on the facilitator view", LONG_S)
    assert page.evaluate(INJECTED_JS)["scripts"] == 0
    assert dialogs == []  # no alert() ran anywhere
    page.close()
