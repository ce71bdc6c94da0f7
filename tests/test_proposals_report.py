"""The HTML report of a proposal: every user text escaped (script injection shows as text), names only
with consent, the latest evaluation as baseline vs proposal with better/worse marks, in Korean and
English; and, in headless Chromium, no dialog fires.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from twin.proposals.records import Evaluation
from twin.proposals.report import patch_words, proposal_html
from twin.proposals.store import open_store
from twin.resources import shipped_scenarios

FLAGSHIP = str(shipped_scenarios() / "flash_flood_jungnangcheon.yaml")
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
KPIS = {
    "baseline": {"kpi/flooded_paths": 3.0, "kpi/first_flooding_min": 30.0, "gauge/LS-1018665/peak_stage_m": 2.25,
                 "kpi/min_warning_lead_min": None, "access_point/AP-JN-L07/flooded": 1.0},
    "proposal": {"kpi/flooded_paths": 1.0, "kpi/first_flooding_min": 20.0, "gauge/LS-1018665/peak_stage_m": 2.10,
                 "kpi/min_warning_lead_min": 12.0, "access_point/AP-JN-L07/flooded": 1.0},
}


class _Tags(HTMLParser):
    """Every start tag and every attribute name of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [a for a, _ in attrs]

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


@pytest.fixture
def proposal(tmp_path):
    """A stored proposal with a hostile title and comment, a named and an unnamed commenter, votes,
    an evaluation and a device patch (as ``store.get`` gives it)."""
    store = open_store(f"sqlite:///{tmp_path / 'p.sqlite'}")
    pid = store.new(title_ko=f"{SCRIPT} 신곡교", title_en=f"{SCRIPT} Singok bridge", author="리빙랩 & <b>팀</b>",
                    author_public=True, scenario=FLAGSHIP, overrides=["thresholds.LS-1018665.attention_m=1.5"],
                    description_en="line one\nline two")
    store.comment(pid, participant="김민수", text="좋아요", public_name=True)
    store.comment(pid, participant="이영희", text=IMG)
    store.comment(pid, participant="박철수", text="두 번째 익명")
    store.vote(pid, participant="이영희", value=1)
    store.vote(pid, participant="박철수", value=-1)
    store.vote(pid, participant="최지우", value=1)
    with store.transaction() as s:
        s.add(Evaluation(proposal_id=pid, kind="run", baseline_key="a" * 64, proposal_key="b" * 64, kpis=KPIS))
    got = store.get(pid)
    got["dataset_patch"] = {"devices": {"add": [{"device_id": "CAM-P1", "kind": "cctv", "name": "신곡교 <CCTV>",
                                                 "lon": 127.046, "lat": 37.745}], "remove": ["SB-G03"]}}
    return got


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_injected_script_and_markup_show_as_text(proposal, lang):
    page = proposal_html(proposal, lang)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower() and "<img" not in page.lower()
    parsed = _parse(page)
    assert not {"script", "img", "iframe", "object"} & set(parsed.tags)
    assert not [a for a in parsed.attrs if a.startswith("on")]  # no event handler attribute at all
    text = "".join(parsed.text)
    assert IMG in text and SCRIPT in text and "리빙랩 & <b>팀</b>" in text  # shown exactly as typed
    assert "Content-Security-Policy" in page and "script-src 'none'" in page


def test_names_only_with_consent_and_pseudonyms_otherwise(proposal):
    ko, en = proposal_html(proposal, "ko"), proposal_html(proposal, "en")
    for page in (ko, en):
        assert "김민수" in page and "이영희" not in page and "박철수" not in page and "최지우" not in page
    assert "참여자 1" in ko and "참여자 2" in ko and "participant 1" in en and "participant 2" in en
    assert "찬성 2 · 반대 1" in ko and "for 2 · against 1" in en


def test_the_latest_evaluation_is_a_table_with_names_units_and_marks(proposal):
    en = proposal_html(proposal, "en", place_names={("gauge", "LS-1018665"): "Singok bridge gauge"})
    rows = {}
    for line in en.splitlines():
        if line.startswith("<tr><td"):
            cells = [c.rsplit(">", 1)[1] for c in line.split("</td>")[:-1]]
            rows[cells[0]] = cells[1:]
    assert rows["Riverside paths flooded"] == ["paths", "3", "1", "▲ better"]
    assert rows["First path flooded after"] == ["min", "30", "20", "▼ worse"]  # higher is better
    assert rows["Peak stage — gauge Singok bridge gauge"] == ["m", "2.25", "2.1", "▲ better"]
    assert rows["Shortest warning lead time"] == ["min", "—", "12", ""]  # not comparable
    assert not [r for r in rows if "AP-JN-L07" in r]  # a place whose result did not change: counted, not listed
    assert "The other 1 places: the same result." in en
    ko = proposal_html(proposal, "ko")
    assert "침수된 산책로" in ko and "▲ 나아짐" in ko and "▼ 나빠짐" in ko and "최고 수위 — 수위계 LS-1018665" in ko
    assert 'title="kpi/flooded_paths"' in ko  # the column id only as a tooltip


def test_the_change_is_said_in_words(proposal):
    assert patch_words(proposal["dataset_patch"], "ko") == [
        "CCTV “신곡교 <CCTV>” 추가: 127.04600, 37.74500 (WGS84)", "시설 “SB-G03” 제거"]
    assert patch_words(proposal["dataset_patch"], "en")[0] == "Add camera “신곡교 <CCTV>”: 127.04600, 37.74500 (WGS84)"
    page = proposal_html(proposal, "en")
    assert "신곡교 &lt;CCTV&gt;" in page and "thresholds.LS-1018665.attention_m=1.5" in page
    assert "flash_flood_jungnangcheon.yaml" in page and str(shipped_scenarios()) not in page  # no server folder
    assert "Not evaluated yet." in proposal_html({**proposal, "evaluations": []}, "en")
    sweep = {"kind": "sweep", "kpis": {**KPIS, "baseline_runs": 20, "proposal_runs": 19}}
    assert "기준 20회, 제안 19회" in proposal_html({**proposal, "evaluations": [sweep]}, "ko")


@pytest.mark.browser
def test_no_dialog_fires_in_a_real_browser(proposal, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "report.html"
    page_file.write_text(proposal_html(proposal, "ko"), encoding="utf-8")
    dialogs: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            page.wait_for_load_state("load")
            shown = page.inner_text("body")
            n_img = page.locator("img").count()
            n_script = page.locator("script").count()
        finally:
            browser.close()
    assert dialogs == [] and n_img == 0 and n_script == 0
    assert IMG in shown and SCRIPT in shown


def test_an_author_who_did_not_consent_is_a_pseudonym_numbered_as_in_the_open_data(proposal):
    own = {"participant": "홍길동", "public_name": False, "text": "제가 제안했어요", "created_at": "2026-12-01T00:00Z"}
    private = {**proposal, "author": "홍길동", "author_public": False, "comments": [*proposal["comments"], own]}
    ko = proposal_html(private, "ko")
    assert "홍길동" not in ko
    assert "<b>제안자</b>: 참여자 1 ·" in ko  # the author first, then the commenters: 이영희 2, 박철수 3
    assert ko.count("참여자 1") == 2  # the author's own comment carries the author's pseudonym


def test_places_and_devices_are_named_from_the_dataset():
    from twin.proposals.report import place_names_of
    from twin.resources import default_dataset

    ko, en = place_names_of(default_dataset(), "ko"), place_names_of(default_dataset(), "en")
    assert ko[("gauge", "LS-1018665")] == "의정부시(신곡교)" and ko[("device", "SB-G01")] == "중랑천 G01 재해문자전광판"
    assert ko[("access_point", "AP-JN-L01")] == "중랑천 좌안 0.8 km"
    assert en[("access_point", "AP-JN-L01")] == "Jungnangcheon left bank 0.8 km"
    page = proposal_html({"title_ko": "가", "title_en": "a", "author": "b", "author_public": True,
                          "dataset_patch": {"devices": {"remove": ["SB-G01"]}}, "comments": [], "evaluations": [
                              {"kind": "run", "kpis": {"baseline": {"access_point/AP-JN-L01/flooded": 1.0},
                                                       "proposal": {"access_point/AP-JN-L01/flooded": 0.0}}}]},
                         "ko", place_names=ko)
    assert "“중랑천 G01 재해문자전광판” 제거" in page and "중랑천 좌안 0.8 km" in page and ">AP-JN-L01<" not in page
