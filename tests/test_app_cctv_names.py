"""The CCTV page (twin.app.coverage_view) shows names and words, not ids or keys: the map's
tooltips, the focus picker, the smart-path table and the solver's status, in both languages."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app import coverage_view as cv  # noqa: E402
from twin.app.names import Names  # noqa: E402

RAW_ID = re.compile(r"\b(G\d\d|AP-[A-Z]+-[LR]\d+|E\d{5}|CAM-[\w-]+|CCTV-\d+|LS-\w+)\b")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def assessment(city):
    """The shipped cameras with 3 new ones placed (twin.coverage.assess)."""
    from twin.coverage.assess import CoverageOptions, assess

    return assess(city, CoverageOptions(add=3))


def _first(roads, **where) -> str:
    sel = roads
    for k, v in where.items():
        sel = sel[sel[k].notna()] if v is ... else sel[sel[k] == v]
    return str(sel["edge_id"].iloc[0])


def test_an_edge_is_named_by_its_access_point_stream_street_or_dong(city):
    names = Names.of(city)
    roads = city.layer("roads")
    ramp = roads[roads["access_id"].notna()].iloc[0]
    path = _first(roads, kind="riverside_path", stream="중랑천")
    street = roads[(roads["kind"] == "road") & roads["name"].notna()].iloc[0]
    side = roads[(roads["kind"] == "sidewalk") & roads["name"].isna() & roads["access_id"].isna()].iloc[0]
    ids = [str(ramp["edge_id"]), path, str(street["edge_id"]), str(side["edge_id"]), "NO-SUCH-EDGE"]
    ko = cv.edge_places(city, ids, "ko")
    en = cv.edge_places(city, ids, "en")
    assert ko[0] == names.entity(ramp["access_id"], "ko") and en[0] == names.entity(ramp["access_id"], "en")
    assert ko[1] == "중랑천 산책로" and en[1] == "Jungnangcheon riverside path"
    assert ko[2] == names.entity(str(street["edge_id"]), "ko") and street["name"] in ko[2]
    assert ko[3].endswith(" 보도") and en[3].startswith("sidewalk in ") and en[3].endswith("-dong")
    assert ko[4] == en[4] == "NO-SUCH-EDGE"  # unknown: the id, never an error
    assert not any(HANGUL.search(x) for x in en[:4]) and not any(RAW_ID.search(x) for x in ko[:4] + en[:4])


def test_solver_status_and_zones_are_words():
    assert cv.solver_status("optimal", "en") == "proven best" and cv.solver_status("optimal", "ko") == "최적해 확인"
    assert cv.solver_status("time_limit", "en") == "stopped at the time limit"
    assert cv.solver_status("some_new_status", "en") == "some new status"  # readable, never raised
    assert cv.words(cv.ZONE_WORDS, "child_protection_zone", "en") == "children's protection zones"


def test_focus_places_tooltips_and_smart_paths_name_every_place(city, assessment):
    names = Names.of(city)
    for lang in ("ko", "en"):
        places = cv.focus_places(city, assessment, lang)
        gates = sorted(k for k in places if k.startswith("gate:"))
        assert gates and places["city"][1] is None and list(places)[0] == "city"
        for key in gates:
            label, where = places[key]
            assert label.startswith(names.entity(key.split(":")[1], lang) + ": ") and where is not None
        news = [v[0] for k, v in places.items() if k.startswith("new:")]
        assert len(news) == 3
        labels = [v[0] for v in places.values()]
        assert not any(RAW_ID.search(x) for x in labels), labels
        if lang == "en":
            assert not any(HANGUL.search(x) for x in labels), labels
        rows = cv.smart_rows(city, assessment.coverage.get("smart_path_candidates") or [], lang)
        assert rows, "the shipped city has back roads for smart paths"
        text = json.dumps(rows, ensure_ascii=False)
        assert not RAW_ID.search(text) and "no camera sees" not in text
        unseen, length = (cv.words(cv.SMART_WORDS, k, lang) for k in ("unseen", "length"))
        assert all(0 < r[unseen] <= r[length] for r in rows)
        if lang == "en":
            assert not HANGUL.search(text) and rows[0]["Street"] == "back road" and rows[0]["Distance (m)"] > 0
            assert rows[0]["Nearest school or zone"].endswith(("School", "Zone"))
    spec = json.loads(cv.coverage_deck(city, assessment, "en").to_json())
    layers = {x["id"]: x["data"] for x in spec["layers"]}
    cams = layers["cameras"]
    assert cams and all(re.fullmatch(r".+ \([A-Z][\w-]+\)", d["label"]) for d in cams)  # "name (ID)"
    assert all(not HANGUL.search(d["label"]) for d in cams)
    new = layers["new_cameras"]
    assert len(new) == 3 and all(d["label"].startswith("Proposed camera ") and "°" in d["label"] for d in new)
    assert not any(RAW_ID.search(d["label"]) or HANGUL.search(d["label"]) for d in new + layers["blind_spots"])


def test_the_legend_is_a_twin_legend_with_each_colour_of_the_map():
    for lang in ("ko", "en"):
        html = cv.legend_html(lang)
        assert html.startswith('<div class="twin-legend"')
        for lv in ("detection", "observation", "recognition", "identification"):
            assert f"<span>{cv.words(cv.LEVEL_WORDS, lv, lang)}</span>" in html
    assert "rgba(220,20,60,1.00)" in cv.legend_html("ko")  # the blind spots' red


def _page() -> None:
    import streamlit as st

    from twin.app.coverage_view import coverage_page
    from twin.city import load_city
    from twin.coverage.assess import CoverageOptions, assess

    @st.cache_resource
    def city():
        return load_city()

    @st.cache_resource
    def assessment(add: int):
        return assess(city(), CoverageOptions(add=add))

    lang = st.session_state.get("lang", "ko")
    coverage_page(st, city(), lang, assessment, living_lab=bool(st.session_state.get("living_lab")))


def test_the_page_shows_names_and_keeps_the_focus_across_languages():
    at = AppTest.from_function(_page, default_timeout=180)
    at.session_state["cctv_add"] = 3
    at.run()
    assert not at.exception
    focus = at.selectbox(key="cctv_focus:ko")
    gate = next(o for o in focus.options if "동일로" in o)
    assert not any(RAW_ID.search(o) for o in focus.options)
    focus.set_value("gate:G02").run()
    close = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert not at.exception and close["initialViewState"]["zoom"] == 17 and "중랑천" in gate
    caption = " ".join(c.value for c in at.caption)
    assert "최적해 확인" in caption or "시간 제한에서 멈춤" in caption
    assert "optimal" not in caption
    assert any("twin-legend" in m.value for m in at.markdown)
    frames = [d.value for d in at.dataframe]
    assert len(frames) == 2 and not RAW_ID.search(frames[1].to_json(force_ascii=False))
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception and at.selectbox(key="cctv_focus:en").value == "gate:G02"
    assert at.selectbox(key="cctv_focus:en").options[0] == "Whole city"
    en = at.dataframe[1].value
    assert "Street" in en.columns and not any(HANGUL.search(str(v)) for v in en.to_numpy().ravel())
