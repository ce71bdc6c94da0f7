"""The app's workshop pages (twin.app.proposals_view, twin.app.facilitator_view) drawn headless with
AppTest against real proposals databases (SQLite files in temporary folders): the list, its filter and
search, an opened proposal with its evaluation (two real runs of the evening-walkers scenario), comments
and votes stored, hostile text shown as text, two sessions writing at the same time without losing
anything, a stale status change refused, both languages with names, not IDs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("streamlit")
from app_pages import as_shown  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app.proposals_view import matches  # noqa: E402
from twin.app.proposals_words import (  # noqa: E402
    kpi_rows,
    kpi_value,
    kpi_verdict,
    override_words,
    patch_words,
    status_word,
    w,
)
from twin.app.widgets import md_text  # noqa: E402
from twin.proposals.store import open_store  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WALKERS = REPO / "scenarios" / "flash_flood_evening_walkers.yaml"
FLAGSHIP = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
TIMEOUT = 180  # s: one AppTest run may load the city and draw two maps on the shared 2-core machine
HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_TEXT = "[x](javascript:alert(1)) ![t](http://evil/x.png) `rm -rf` <img src=x onerror=alert(1)> &lt;b&gt;"
HOSTILE_NAME = "<b>Mallory</b> [me](http://evil)"
NEW_CAMERA = {"device_id": "CAM-P1", "kind": "cctv", "name": "역 앞 카메라", "lon": 127.045, "lat": 37.738,
              "mount_height_m": 6.0, "heading_deg": 90.0, "fov_deg": 90.0, "resolution_px": 1920}  # fmt: skip
RAW_ID = re.compile(r"\b(LS-[0-9A-Z]+|RG-[0-9A-Z]+|AP-[A-Z]{2}-[LR]\d{2}|CAM-[A-Z0-9]+|SB-[A-Z0-9]+|G\d{2})\b")
KEYS = re.compile(r"under_evaluation|kpi/|access_point/|crowd\.evacuation_trigger|people_on_paths|_min\b")
UNESCAPED = re.compile(r"(?<!\\)[\[\]<>`]")  # a markdown link, image, HTML tag or code span would start here
FIXED_HTML = ('<div class="twin-legend"', "<style>")  # the app's own HTML (legends, the style block)


# --- the pages in AppTest ------------------------------------------------------------------------
def _page(url: str, data: str, which: str) -> None:
    from pathlib import Path

    import streamlit as st

    from twin.app.facilitator_view import facilitator_page
    from twin.app.proposals_view import cached_store, proposals_page
    from twin.city import load_city

    @st.cache_resource
    def city():
        return load_city()

    lang = st.session_state.get("lang", "ko")
    if which == "facilitator":
        facilitator_page(st, city(), lang, cached_store(url))
    else:
        proposals_page(st, city(), lang, cached_store(url), data=Path(data))


def _app(db: dict[str, Any], which: str = "proposals", lang: str = "ko") -> AppTest:
    at = AppTest.from_function(_page, args=(db["url"], str(db["data"]), which), default_timeout=TIMEOUT)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    return at


def _open(at: AppTest, pid: int) -> AppTest:
    """Open proposal ``pid`` in the "open a proposal" select box (its options show titles)."""
    at.selectbox(key=f"prop_open:{at.session_state['lang']}").select(pid)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest, kinds=("header", "subheader", "markdown", "caption", "info", "warning", "error",
                                "success")) -> list[str]:  # fmt: skip
    """Every markdown text a person sees (not tooltips), as the page gives it (escapes kept)."""
    return [str(getattr(x, "value", "")) for kind in kinds for x in at.get(kind)]


def _shown(at: AppTest) -> str:
    """Every text a person sees, as shown: markdown's escapes undone; widget labels and options, metric
    labels and values, data frame headers and cells."""
    parts = [as_shown(x) for x in _texts(at) if not x.startswith(FIXED_HTML)]
    parts += [o for s in at.selectbox for o in s.options] + [s.label for s in at.selectbox]
    parts += [b.label for b in at.button] + [x.label for x in at.text_input] + [x.label for x in at.text_area]
    parts += [f"{m.label} {m.value}" for m in at.metric] + [e.label for e in at.expander]
    for d in at.dataframe:
        parts += [str(c) for c in d.value.columns] + [str(v) for v in d.value.to_numpy().ravel()]
    return "\n".join(parts)


# --- the databases ----------------------------------------------------------------------------------
def _world(data: Path) -> dict[str, Any]:
    """A proposals database in ``data``: an evaluated proposal (the evening walkers told to leave at the
    attention level, evaluated for real), a hostile one with a dataset patch and a hostile comment, and
    an adopted one."""
    from twin.proposals.evaluate import evaluate_proposal

    url = f"sqlite:///{data / 'proposals.sqlite'}"
    store = open_store(url)
    evaluated = store.new(title_ko="관심 수위에서 대피", title_en="Leave at the attention level", author="김민지",
                          scenario=str(WALKERS), overrides=["crowd.evacuation_trigger=attention"],
                          description_ko="산책로 이용자에게 더 일찍 알립니다.",
                          description_en="Tell the people on the paths earlier.")  # fmt: skip
    evaluate_proposal(store, evaluated, data=data)
    hostile = store.new(title_ko=HOSTILE_TITLE, title_en=HOSTILE_TITLE, author=HOSTILE_NAME, scenario=str(FLAGSHIP),
                        overrides=["rainfall.total_mm=120"], description_ko=HOSTILE_TEXT, description_en=HOSTILE_TEXT,
                        dataset_patch={"devices": {"add": [NEW_CAMERA], "remove": ["CAM-G01"]}})  # fmt: skip
    store.comment(hostile, participant=HOSTILE_NAME, text=HOSTILE_TEXT, public_name=True)
    store.comment(hostile, participant="숨은 이름", text="좋아요", public_name=False)
    adopted = store.new(title_ko="비 120 mm 대비", title_en="Ready for 120 mm", author="Park",
                        scenario=str(FLAGSHIP), overrides=["rainfall.total_mm=120"])  # fmt: skip
    store.update(adopted, version=store.get(adopted)["version"], status="adopted")
    return {"url": url, "data": data, "store": store,
            "ids": {"evaluated": evaluated, "hostile": hostile, "adopted": adopted}}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Any]:
    return _world(tmp_path_factory.mktemp("workshop"))


@pytest.fixture
def fresh(tmp_path) -> dict[str, Any]:
    """A database of its own with one draft proposal (for the tests that write)."""
    url = f"sqlite:///{tmp_path / 'proposals.sqlite'}"
    store = open_store(url)
    pid = store.new(title_ko="건널목 신호 연장", title_en="Longer crossing lights", author="이수진",
                    scenario=str(FLAGSHIP), overrides=["rainfall.total_mm=120"])  # fmt: skip
    return {"url": url, "data": tmp_path, "store": store, "id": pid}


# --- words -------------------------------------------------------------------------------------------
def test_a_change_in_words() -> None:
    assert override_words("crowd.evacuation_trigger=attention", "ko") == "대피 지시 시점: 관심 수위에 닿을 때"
    assert override_words("rainfall.total_mm=120", "en") == "Total rain: 120 mm"
    assert override_words("hydraulics.mystery=3", "en") == "hydraulics.mystery = 3"
    patch = {"devices": {"add": [NEW_CAMERA], "move": [{"device_id": "SB-G01", "lon": 127.0, "lat": 37.7}],
                         "remove": ["CAM-G01"]}}  # fmt: skip

    class Names:
        def entity(self, i: str, lang: str) -> str:
            return {"SB-G01": "신곡교 전광판", "CAM-G01": "동일로 카메라"}[i]

    kinds = {"SB-G01": "signboard", "CAM-G01": "cctv"}
    assert patch_words(patch, "ko", Names(), kinds) == [
        "새 CCTV '역 앞 카메라' 추가", "전광판 '신곡교 전광판' 위치 옮김", "CCTV '동일로 카메라' 없앰"]
    assert patch_words(patch, "en", Names(), kinds)[0] == "Add a new CCTV camera '역 앞 카메라'"
    assert patch_words({}, "ko") == [] and patch_words(None, "en") == []


def test_kpis_in_words() -> None:
    assert kpi_verdict("kpi/exposed_people", 10, 4) == "better"
    assert kpi_verdict("kpi/exposed_people", 4, 10) == "worse"
    assert kpi_verdict("kpi/min_warning_lead_min", 4, 10) == "better"  # longer warning is better
    assert kpi_verdict("kpi/flooded_paths", 3, 3.0) == "same"
    assert kpi_verdict("kpi/flooded_paths", None, 3) is None
    assert kpi_value("kpi/flooded_paths", 3.0, "ko") == "3 곳"
    assert kpi_value("kpi/t90_min", 12.345, "en") == "12.3 min"
    assert kpi_value("access_point/AP-JN-L07/flooded", 1.0, "ko") == "예"
    assert kpi_value("gauge/LS-1/highest_level", 2.0, "ko") == "주의"
    assert kpi_value("kpi/t90_min", None, "ko") == "–"
    kpis = {"baseline": {"kpi/exposed_people": 10.0, "access_point/AP-JN-L07/flooded": 1.0,
                         "access_point/AP-JN-L08/flooded": 1.0},
            "proposal": {"kpi/exposed_people": 4.0, "access_point/AP-JN-L07/flooded": 0.0,
                         "access_point/AP-JN-L08/flooded": 1.0}}  # fmt: skip
    run = kpi_rows(kpis, "en")
    assert [(r["measure"], r["baseline"], r["proposal"], r["verdict"]) for r in run] == [
        ("People the water reached", "10 people", "4 people", "better")]
    places = kpi_rows(kpis, "en", places=True)  # only the place that changed
    assert [(r["place"], r["measure"], r["verdict"]) for r in places] == [("AP-JN-L07", "Path flooded", "better")]


def test_md_text_escapes_markdown() -> None:
    for text in (HOSTILE_TITLE, HOSTILE_TEXT, HOSTILE_NAME, "1. first\n2) second\n===", "a & b"):
        escaped = md_text(text)
        assert UNESCAPED.search(escaped) is None
        assert as_shown(escaped) == text  # shown as typed


def test_filter() -> None:
    row = {"title_ko": "관심 수위에서 대피", "title_en": "Leave early", "author": "Kim", "status": "draft"}
    assert matches(row, "all", "") and matches(row, "draft", "LEAVE") and matches(row, "all", "kim")
    assert not matches(row, "adopted", "") and not matches(row, "all", "gate")
    assert status_word("under_evaluation", "ko") == "평가 중" and status_word("adopted", "en") == "Adopted"


# --- the proposals page -------------------------------------------------------------------------------
def test_list_filter_and_open(world) -> None:
    ids = world["ids"]
    at = _app(world)
    table = at.dataframe[0].value
    assert list(table.columns) == ["제목", "제안자", "상태", "찬성", "반대", "의견"]
    assert list(table["제목"]) == ["비 120 mm 대비", HOSTILE_TITLE, "관심 수위에서 대피"]  # newest first
    assert list(table["상태"]) == ["채택", "초안", "평가 완료"]
    assert list(table["의견"]) == [0, 2, 0]
    # filter by status (words), then by search text
    at.selectbox(key="prop_status:ko").select("adopted").run()
    assert list(at.dataframe[0].value["제목"]) == ["비 120 mm 대비"]
    at.selectbox(key="prop_status:ko").select("all")
    at.text_input(key="prop_search").input("관심").run()
    assert list(at.dataframe[0].value["제목"]) == ["관심 수위에서 대피"]
    at.text_input(key="prop_search").input("").run()
    # open the evaluated one: its change in words, the KPIs in words, the two maps
    _open(at, ids["evaluated"])
    assert at.subheader[0].value == "관심 수위에서 대피"
    text = _shown(at)
    assert "대피 지시 시점: 관심 수위에 닿을 때" in text
    assert "제안자 김민지 · 평가 완료" in text
    kpi = at.dataframe[1].value
    assert list(kpi.columns) == ["지표", "현재 (기준)", "제안", "나아졌나"]
    row = kpi[kpi["지표"] == "대피 명령 때 산책로에 있던 사람"].iloc[0]
    ev = world["store"].get(ids["evaluated"])["evaluations"][-1]["kpis"]
    base, prop = ev["baseline"]["kpi/people_on_paths"], ev["proposal"]["kpi/people_on_paths"]
    assert (row["현재 (기준)"], row["제안"]) == (f"{base:.0f} 명", f"{prop:.0f} 명")
    assert row["나아졌나"] == ("나아짐" if prop < base else "나빠짐" if prop > base else "같음")
    maps = [e for e in at.main if getattr(e, "type", "") == "deck_gl_json_chart"]
    assert len(maps) == 2  # baseline and proposal side by side
    assert w("runs_missing", "ko") not in text


def test_evaluation_without_its_runs_says_so(world, tmp_path) -> None:
    db = {**world, "data": tmp_path}  # the same database, but no run folders here
    at = _open(_app(db), world["ids"]["evaluated"])
    assert w("runs_missing", "ko") in [x.value for x in at.info]
    assert not [e for e in at.main if getattr(e, "type", "") == "deck_gl_json_chart"]
    assert "대피 명령 때 산책로에 있던 사람" in set(at.dataframe[1].value["지표"])  # the figures still are


def test_comment_and_vote_are_stored(fresh) -> None:
    store, pid = fresh["store"], fresh["id"]
    at = _app(fresh)
    at.button(key=f"prop_vote_for:{pid}").click().run()  # no name yet: refused
    assert [x.value for x in at.warning] == [w("need_name", "ko")]
    assert store.get(pid)["votes_for"] == 0
    at.text_input(key="participant").input("박지훈").run()
    at.button(key=f"prop_vote_for:{pid}").click().run()
    assert store.get(pid)["votes_for"] == 1
    assert "찬성 1 · 반대 0" in _shown(at)
    at.button(key=f"prop_vote_against:{pid}").click().run()  # a second vote replaces the first
    got = store.get(pid)
    assert (got["votes_for"], got["votes_against"]) == (0, 1)
    at.text_area(key=f"prop_c_text:{pid}").input("아이들 통학로도 봐 주세요")
    at.checkbox(key=f"prop_c_public:{pid}").check()
    next(b for b in at.button if b.label == w("send", "ko")).click().run()
    assert not at.exception
    comments = store.get(pid)["comments"]
    assert [(c["participant"], c["text"], c["public_name"]) for c in comments] == [
        ("박지훈", "아이들 통학로도 봐 주세요", True)]
    assert at.text_area(key=f"prop_c_text:{pid}").value == ""  # emptied for the next one
    assert "박지훈 · " in _shown(at) and "아이들 통학로도 봐 주세요" in _shown(at)


def test_hostile_text_is_shown_as_text(world) -> None:
    at = _open(_app(world, lang="en"), world["ids"]["hostile"])
    texts = [x for x in _texts(at) if not x.startswith(FIXED_HTML)]
    for x in texts:
        assert UNESCAPED.search(x) is None, x  # no link, image, tag or code span can start anywhere
    shown = _shown(at)
    assert HOSTILE_TITLE in shown and HOSTILE_TEXT in shown and HOSTILE_NAME in shown
    assert any("\\<script\\>" in x for x in texts)  # the title as given to the page: escaped
    assert "Add a new CCTV camera '역 앞 카메라'" in shown  # the patch in words
    assert "숨은 이름" not in shown and w("anonymous", "en") in shown  # a name shown only with consent
    assert at.dataframe[0].value.iloc[1, 0] == HOSTILE_TITLE  # a data frame cell is plain text


def _session(db: dict[str, Any], who: str, n: int, pid: int, start, out) -> None:
    """One browser session's work, in its own process: ``n`` times, type the name ``<who><i>``, vote
    (for on even ``i``, against on odd) and send a comment; what went wrong goes to the queue ``out``."""
    try:
        at = _app(db)
        start.wait(timeout=TIMEOUT)
        for i in range(n):
            at.text_input(key="participant").input(f"{who}{i}")
            at.button(key=f"prop_vote_for:{pid}" if i % 2 == 0 else f"prop_vote_against:{pid}").click().run()
            assert not at.exception, at.exception
            assert [x.value for x in at.success] == [w("voted", "ko").format(name=f"{who}{i}")], at.success
            at.text_area(key=f"prop_c_text:{pid}").input(f"{who} says {i}")
            next(b for b in at.button if b.label == w("send", "ko")).click().run()
            assert not at.exception, at.exception
            assert [x.value for x in at.success] == [w("commented", "ko")], at.success
    except BaseException as exc:  # noqa: BLE001 - handed to the test, in the parent process
        out.put(f"{who}: {exc!r}")
    else:
        out.put(None)


def test_two_sessions_at_once_lose_nothing(fresh) -> None:
    """Two app sessions, each 10 comments and 10 votes (one per participant name), at the same time
    against one SQLite file: every comment and every vote is there. Each session runs in its own process
    (forked): AppTest swaps a process-wide mock runtime on every run, so two AppTests in threads of one
    process disturb each other's runs (a click's callback now and then does not run at all)."""
    import multiprocessing

    store, pid, n = fresh["store"], fresh["id"], 10
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Barrier(2), ctx.Queue()
    db = {"url": fresh["url"], "data": fresh["data"]}
    procs = [ctx.Process(target=_session, args=(db, who, n, pid, start, out)) for who in ("A", "B")]
    for p in procs:
        p.start()
    results = [out.get(timeout=2 * TIMEOUT) for _ in procs]
    for p in procs:
        p.join(timeout=TIMEOUT)
    assert results == [None, None], results
    got = store.get(pid)
    assert sorted(c["text"] for c in got["comments"]) == sorted(f"{who} says {i}" for who in "AB" for i in range(n))
    from sqlalchemy import select

    from twin.proposals.records import Vote

    with store.transaction() as s:
        voters = sorted(s.scalars(select(Vote.participant).where(Vote.proposal_id == pid)))
    assert voters == sorted(f"{who}{i}" for who in "AB" for i in range(n))  # one vote each, none lost
    assert (got["votes_for"], got["votes_against"]) == (n, n)


def test_a_stale_status_change_is_refused_and_reloaded(fresh) -> None:
    store, pid = fresh["store"], fresh["id"]
    at = _app(fresh)
    version = store.get(pid)["version"]
    store.update(pid, version=version, status="under_evaluation")  # someone else, meanwhile
    at.selectbox(key=f"prop_new_status:{pid}").select("adopted")
    at.button(key=f"prop_save_status:{pid}").click().run()
    assert [x.value for x in at.warning] == [w("conflict", "ko")]
    assert store.get(pid)["status"] == "under_evaluation"  # nothing overwritten
    assert "평가 중" in at.caption[1].value  # reloaded: the status now
    at.selectbox(key=f"prop_new_status:{pid}").select("adopted")
    at.button(key=f"prop_save_status:{pid}").click().run()  # from the version just seen: saved
    assert [x.value for x in at.success] == [w("saved", "ko").format(status="채택")]
    assert store.get(pid)["status"] == "adopted"


def test_a_decision_made_meanwhile_in_another_session_is_not_overwritten(fresh) -> None:
    """Two facilitators' pages: A rejects; B, whose page still showed the old status, picks another
    (the pick reruns B's page, which then shows A's rejection) and saves: refused, A's decision kept."""
    store, pid = fresh["store"], fresh["id"]
    a, b = _app(fresh), _app(fresh)
    a.selectbox(key=f"prop_new_status:{pid}").select("rejected").run()
    a.button(key=f"prop_save_status:{pid}").click().run()
    assert store.get(pid)["status"] == "rejected"
    b.selectbox(key=f"prop_new_status:{pid}").select("adopted").run()  # a rerun between the pick and the save
    b.button(key=f"prop_save_status:{pid}").click().run()
    assert [x.value for x in b.warning] == [w("conflict", "ko")]
    assert store.get(pid)["status"] == "rejected"


def test_the_participants_name_survives_a_visit_to_another_page(fresh, monkeypatch) -> None:
    from app_pages import open_page

    from twin.app.proposals_view import PARTICIPANT_KEY

    monkeypatch.setenv("TWIN_DATA_DIR", str(fresh["data"]))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=TIMEOUT).run()
    open_page(at, "proposals")
    at.text_input(key=PARTICIPANT_KEY).input("김하늘").run()
    open_page(at, "facilitator")  # the name box is not drawn here: Streamlit forgets its value
    open_page(at, "proposals")
    assert at.text_input(key=PARTICIPANT_KEY).value == "김하늘"


def test_with_a_facilitator_code_only_who_types_it_may_decide(fresh, monkeypatch) -> None:
    monkeypatch.setenv("TWIN_FACILITATOR_CODE", "리빙랩-2026")
    pid = fresh["id"]
    at = _app(fresh)
    assert not [x for x in at.selectbox if x.key == f"prop_new_status:{pid}"]
    at.text_input(key="facilitator_code").input("wrong").run()
    assert not [x for x in at.selectbox if x.key == f"prop_new_status:{pid}"]
    at.text_input(key="facilitator_code").input("리빙랩-2026").run()
    at.selectbox(key=f"prop_new_status:{pid}").select("adopted").run()
    at.button(key=f"prop_save_status:{pid}").click().run()
    assert fresh["store"].get(pid)["status"] == "adopted"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_names_not_ids_in_both_languages(world, lang) -> None:
    at = _open(_app(world, lang=lang), world["ids"]["evaluated"])
    shown = _shown(at)
    assert at.header[0].value == {"ko": "제안", "en": "Proposals"}[lang]
    assert RAW_ID.search(shown) is None, RAW_ID.search(shown)
    assert KEYS.search(shown) is None, KEYS.search(shown)
    if lang == "en":
        # the author's name is shown as typed; a place's English name may give the Korean one in brackets
        rest = re.sub(r" \([^()]*\)", "", shown.replace("김민지", ""))
        assert not re.search(r"[\uac00-\ud7a3]", rest), rest
        assert "Leave at the attention level" in shown and "When people are told to leave" in shown


# --- the facilitator view --------------------------------------------------------------------------------
def test_facilitator_walks_through_the_proposals(world) -> None:
    from twin.app.facilitator_view import FACILITATOR_CSS

    at = _app(world, "facilitator")
    assert FACILITATOR_CSS in [x.value for x in at.markdown]  # the style block, fixed text
    assert "**1 / 3**" in [x.value for x in at.markdown]
    assert at.subheader[0].value == "관심 수위에서 대피"  # the oldest first
    assert at.button(key="fac_prev").disabled
    labels = {m.label: m.value for m in at.metric}
    ev = world["store"].get(world["ids"]["evaluated"])["evaluations"][-1]["kpis"]
    b, p = ev["baseline"]["kpi/people_on_paths"], ev["proposal"]["kpi/people_on_paths"]
    assert labels["대피 명령 때 산책로에 있던 사람"] == f"{b:.0f} 명 → {p:.0f} 명"
    at.button(key="fac_next").click().run()
    assert "**2 / 3**" in [x.value for x in at.markdown]
    assert at.subheader[0].value == md_text(HOSTILE_TITLE)
    shown = _shown(at)
    assert HOSTILE_TEXT in shown and "좋아요" in shown and "새 CCTV '역 앞 카메라' 추가" in shown
    for x in _texts(at):  # a comment is quoted ("> " at each line's start: the page's own markdown)
        assert x.startswith(FIXED_HTML) or UNESCAPED.search(re.sub(r"(?m)^> ?", "", x)) is None, x
    at.button(key="fac_next").click().run()
    assert "**3 / 3**" in [x.value for x in at.markdown] and at.button(key="fac_next").disabled
    at.session_state["lang"] = "en"
    at.run()
    assert at.header[0].value == "Facilitator" and at.subheader[0].value == "Ready for 120 mm"
    assert "Total rain: 120 mm" in _shown(at)


def test_an_empty_database(tmp_path) -> None:
    db = {"url": f"sqlite:///{tmp_path / 'proposals.sqlite'}", "data": tmp_path}
    at = _app(db)
    assert [x.value for x in at.info] == [w("none", "ko")] and not at.dataframe
    at = _app(db, "facilitator", "en")
    assert [x.value for x in at.info] == [w("none_short", "en")] and not at.button


def test_the_report_downloads(world) -> None:
    pytest.importorskip("twin.proposals.report")
    at = _open(_app(world), world["ids"]["hostile"])
    labels = [e.proto.label for e in at.main if type(e).__name__ == "DownloadButton"]
    assert labels == [w("report", "ko")]


def _broken_pages() -> None:
    import streamlit as st
    from sqlalchemy.exc import OperationalError

    from twin.app.facilitator_view import facilitator_page
    from twin.app.proposals_view import proposals_page

    class Broken:  # a database that went away (a PostgreSQL server stopped)
        def proposals(self, status=None):
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    proposals_page(st, None, "en", Broken())
    facilitator_page(st, None, "en", Broken())


def test_a_database_that_fails_is_one_message_not_a_traceback() -> None:
    at = AppTest.from_function(_broken_pages, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert [x.value for x in at.error] == [w("store_error", "en")] * 2
    assert "server closed" not in _shown(at)
