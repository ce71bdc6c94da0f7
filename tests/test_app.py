"""The Streamlit app through streamlit.testing.AppTest (no browser): every page and control,
both languages, living-lab mode, invalid input shown as a message."""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from app_pages import as_shown, open_page  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app.i18n import TEXT, t  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")
WALKERS = "flash_flood_evening_walkers"


def _app(timeout: int = 300) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout).run()
    assert not at.exception
    return at


def _run_page(at: AppTest, scenario: str | None = None) -> AppTest:
    open_page(at, "run")
    if scenario:
        at.selectbox(key="scenario:ko").set_value(f"{scenario}.yaml").run()
    assert not at.exception
    return at


def _flooded_links(deck_json: str) -> int:
    """Riverside path links drawn in the flooded colour on a playback map."""
    from twin.app.playback import PATH_STATE_RGB

    spec = json.loads(deck_json)
    assert "http" not in json.dumps(spec.get("mapStyle")) and spec.get("mapProvider") is None  # no tiles
    layer = next(x for x in spec["layers"] if x["id"] == "path_state")
    return sum(1 for d in layer["data"] if d["color"] == PATH_STATE_RGB["flooded"])


def test_every_text_has_korean_and_english():
    for key, texts in TEXT.items():
        assert set(texts) == {"ko", "en"} and all(texts.values()), key
        fields = [sorted(f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f) for lang in ("ko", "en")]
        assert fields[0] == fields[1], key  # the same placeholders in both languages


def test_map_page_language_switch_and_layer_choice():
    at = _app(120)
    assert at.title[0].value == t("title", "ko")
    assert len(at.get("deck_gl_json_chart")) == 1
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception and at.title[0].value == t("title", "en")
    assert at.header[0].value == t("page_map", "en")
    full = at.get("deck_gl_json_chart")[0].proto.json
    at.multiselect(key="layers:en").set_value(["streams", "paths"]).run()
    assert not at.exception
    light = at.get("deck_gl_json_chart")[0].proto.json
    assert '"id":"building_grid"' in full and '"id":"buildings"' not in full  # flat grid at the city view
    assert '"id":"building_grid"' not in light and '"id":"streams"' in light


def test_flagship_run_every_control_playback_and_downloads():
    at = _run_page(_app())
    s = "flash_flood_jungnangcheon"
    at.number_input(key=f"total_mm:{s}").set_value(60.0)
    at.number_input(key=f"hours:{s}").set_value(2.0)
    at.selectbox(key=f"pattern:{s}:ko").set_value("huff_q2")
    at.number_input(key=f"people:{s}").set_value(300)
    at.selectbox(key=f"stream:{s}:ko").set_value("부용천")
    at.time_input(key=f"start:{s}").set_value(dt.time(19, 30))
    at.radio(key=f"trigger:{s}:ko").set_value("attention")
    at.selectbox(key=f"th_gauge:{s}:ko").set_value("LS-G06").run()
    at.number_input(key=f"th_attention:{s}:LS-G06").set_value(0.6)
    at.text_area(key=f"overrides:{s}").input("seed=3")
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    path, sets = at.session_state["run_key"]
    for want in (
        "rainfall.total_mm=60",
        "rainfall.duration=2h",
        "rainfall.pattern=huff_q2",
        "start=2026-07-15T19:30:00+09:00",
        "thresholds.LS-G06.attention_m=0.6",
        "crowd.evacuation_trigger=attention",
        "seed=3",
    ):
        assert want in sets, want
    assert any(x.startswith("populations=") and "부용천" in x and "300" in x for x in sets)
    labels = [m.label for m in at.metric]
    assert t("peak_stage", "ko").format(stream="중랑천", gauge="신곡교") in labels
    assert t("paths_flooded", "ko") in labels
    assert t("people_exposed", "ko") in labels  # the walkers added by the form were simulated
    # playback: the slider moves the map; the flooded count follows the run's events
    at.select_slider(key="t_min").set_value(0).run()
    early = at.get("deck_gl_json_chart")[0].proto.json
    from twin.app.names import word
    from twin.app.tables import header

    events = next(d.value for d in at.dataframe if header("what", "ko") in d.value and len(d.value) > 20)
    assert header("clock", "ko") in events  # minutes and the clock time, never seconds
    first = 60 * events.loc[events[header("what", "ko")] == word("event_kind", "path.flooded", "ko"),
                            header("minute", "ko")].min()  # fmt: skip
    options = [int(o) for o in at.select_slider(key="t_min").options]
    at.select_slider(key="t_min").set_value(min(o for o in options if o * 60 >= first)).run()
    late = at.get("deck_gl_json_chart")[0].proto.json
    assert _flooded_links(early) == 0 < _flooded_links(late)
    at.button(key="play").click().run()  # plays one frame per run (a fragment tick), to the end
    for _ in range(40):
        if not at.session_state["playing"]:
            break
        at.run()
    assert not at.exception and at.session_state["t_min"] == int(at.select_slider(key="t_min").options[-1])
    at.multiselect(key="chart_gauges:ko").set_value(["LS-1018665", "LS-G01"]).run()
    assert not at.exception and len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) >= 2
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [t("download_report", "ko"), t("download_summary", "ko"), t("download_zip", "ko")]


def test_living_lab_mode_tells_the_run_in_plain_words_in_both_languages():
    at = _run_page(_app(), WALKERS)
    at.sidebar.toggle(key="living_lab").set_value(True).run()
    assert not at.exception
    assert not at.text_area  # no expert overrides in a workshop
    at.button(key="run").click().run()
    cards = [m.value for m in at.markdown if "ll-card" in m.value]
    assert len(cards) >= 4 and any(t("ll_exposed", "ko") in c for c in cards)
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.header[0].value == t("page_run", "en")  # the language switch keeps the page and the run
    cards = [m.value for m in at.markdown if "ll-card" in m.value]
    assert any("were still on a stretch of path" in c for c in cards)
    assert any(m.value.startswith("<style>") and "stMetricValue" in m.value for m in at.markdown)  # large text


def test_an_invalid_override_is_a_message_not_a_traceback():
    at = _run_page(_app(120))
    at.text_area(key="overrides:flash_flood_jungnangcheon").input("rainfall.total_mm=-5")
    at.button(key="run").click().run()
    assert not at.exception
    assert at.error and "rainfall.total_mm: got -5" in as_shown(at.error[0].value)  # shown as typed


def test_open_a_run_folder_and_a_wrong_folder(walkers_run, tmp_path):
    at = _run_page(_app(120))
    at.text_input(key="folder").input(str(tmp_path))
    at.button(key="open_folder").click().run()
    assert not at.exception and at.error and "not a run folder" in at.error[0].value
    at.text_input(key="folder").input(str(walkers_run.folder))
    at.button(key="open_folder").click().run()
    assert not at.exception and not at.error
    assert t("people_exposed", "ko") in [m.label for m in at.metric]


def test_compare_page_shows_both_runs_their_difference_and_both_maps():
    at = open_page(_app(), "compare")
    at.button(key="cmp_run").click().run()  # the default proposal: leave at a lowered 관심 level
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["KPI"] == t("people_exposed", "ko")].iloc[0]
    base, prop = (int(row[t(c, "ko")].split()[0]) for c in ("baseline", "proposal"))
    assert prop < base and row[t("verdict", "ko")] == t("better", "ko")
    assert row[t("difference", "ko")].startswith("-") or row[t("difference", "ko")].startswith("−")
    assert len(at.get("deck_gl_json_chart")) == 2
    at.selectbox(key="cmp_scenario:ko").set_value("flash_flood_jungnangcheon.yaml").run()
    at.text_area(key="cmp_sets:flash_flood_jungnangcheon").input("rainfall.total_mm=abc")
    at.button(key="cmp_run").click().run()
    assert not at.exception and at.error


def test_a_gate_scenario_shows_the_gate_timeline_signboard_texts_and_verdict():
    from twin.app.gates_view import check_header, gate_header
    from twin.app.names import Names, word
    from twin.city import load_city

    names = Names.of(load_city())
    g02, g04 = names.entity("G02", "ko"), names.entity("G04", "ko")
    at = _run_page(_app())
    at.selectbox(key="scenario:ko").set_value("gates/gate_stuck_open.yaml").run()
    at.button(key="run").click().run()
    assert not at.exception
    gates = t("gates_section", "ko")
    assert gates in [s.value for s in at.subheader]
    failed = [e.value for e in at.error]
    assert any(f"{g04}: {word('check', 'closed_before_flooding', 'ko')}" in v
               and f"{g04}: {word('check', 'closing_time', 'ko')}" in v for v in failed)
    tables = [d.value for d in at.dataframe]
    cbf, ct = check_header("closed_before_flooding", "ko"), check_header("closing_time", "ko")
    verdict = next(df for df in tables if cbf in df.columns)
    assert not any("_" in c for c in verdict.columns)
    verdict = verdict.set_index(gate_header("ko"))
    assert verdict.loc[g04, ct].startswith("✗")
    assert verdict.loc[g02, cbf].startswith("✓") and verdict.loc[g02, cbf].endswith("분 전")
    texts = next(df for df in tables if "전광판" in df.columns and "문구" in df.columns)
    assert "산책로 통제 예정 / 즉시 올라오세요" in set(texts["문구"])
    assert names.entity("SB-G02", "ko") in set(texts["전광판"])


def test_an_inconclusive_hil_run_is_shown_as_neither_passed_nor_failed(gate_runs, tmp_path):
    """A HIL run whose timing budget broke opens with a warning naming the budget, not a verdict."""
    import json
    import shutil

    _, folder = gate_runs("gate_stuck_open")
    run = tmp_path / "hil"
    shutil.copytree(folder, run)
    v = json.loads((run / "verdict.json").read_text(encoding="utf-8"))
    broken = "delivery delay: readings reached the subscribers up to 97 s after they were taken (budget 5 s)"
    v.update(status="inconclusive", passed=False)
    v["timing"] = {"broken": [broken], "sustained": "this machine sustained 31x (ceiling 120x, paced clock)"}
    (run / "verdict.json").write_text(json.dumps(v, ensure_ascii=False), encoding="utf-8")
    at = _run_page(_app(120))
    at.text_input(key="folder").input(str(run))
    at.button(key="open_folder").click().run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(broken in w and "31x" in w for w in warnings), warnings
    assert not [e.value for e in at.error if "G04" in e.value]  # not shown as a failure


def test_navigation_shows_every_page_with_its_title_in_both_languages(monkeypatch, tmp_path):
    from twin.app.pages import PAGES
    from twin.app.proposals_view import WORKSHOP_PAGES

    monkeypatch.setenv("TWIN_DATA_DIR", str(tmp_path))  # the workshop pages' database
    at = _app(120)
    for lang in ("ko", "en"):
        at.sidebar.radio(key="lang").set_value(lang).run()
        titles = [p["page_name"] for p in at._registered_pages.values()]  # the sidebar's links
        assert titles == [t(f"page_{p}", lang) for p in (*PAGES, *WORKSHOP_PAGES)]
        for page in reversed((*PAGES, *WORKSHOP_PAGES)):
            open_page(at, page)  # checks the page's header in this language
            assert at.title[0].value == t("title", lang)
            assert at.sidebar.radio(key="lang").value == lang and at.sidebar.toggle(key="living_lab")
    at.sidebar.radio(key="lang").set_value("ko").run()
    assert at.header[0].value == t("page_map", "ko")  # the switch keeps the page


def _walkers_played(at: AppTest) -> AppTest:
    _run_page(at, WALKERS)
    at.button(key="run").click().run()
    assert not at.exception and not at.error
    return at


def test_play_moves_one_frame_per_fragment_run_and_stops_at_the_last_minute():
    from twin.app.pages import PLAY_FRAMES, play_step

    at = _walkers_played(_app())
    options = [int(o) for o in at.select_slider(key="t_min").options]
    step = play_step(options)
    assert step == len(options) // PLAY_FRAMES > 1
    start = at.session_state["t_min"]
    at.button(key="play").click().run()
    assert at.session_state["playing"] and at.button(key="play").label == t("pause", "ko")
    seen = [at.session_state["t_min"]]
    assert seen[0] == options[options.index(start) + step]  # one frame per run: the run did not block
    while at.session_state["playing"] and len(seen) < 2 * PLAY_FRAMES:
        at.run()  # what the fragment's timer does every PLAY_TICK_S seconds in a browser
        assert not at.exception
        seen.append(at.session_state["t_min"])
    assert seen[-1] == options[-1] and not at.session_state["playing"]
    assert all(0 < b - a for a, b in zip(seen, seen[1:], strict=False))
    assert len(seen) <= len(options) // step + 1
    assert at.button(key="play").label == t("play", "ko") and int(at.select_slider(key="t_min").value) == options[-1]
    at.run()
    assert at.session_state["t_min"] == options[-1]  # stopped: no more frames
    # pause in the middle, then the slider still moves the map
    at.button(key="play").click().run()  # at the end, ▶ starts again from the first minute
    assert at.session_state["playing"] and at.session_state["t_min"] == options[step]
    at.run()
    at.button(key="play").click().run()  # ❚❚ (pause)
    paused = at.session_state["t_min"]
    assert not at.session_state["playing"] and paused == options[2 * step]
    at.run().run()
    assert at.session_state["t_min"] == paused
    at.select_slider(key="t_min").set_value(options[-1]).run()
    assert not at.exception and at.session_state["t_min"] == options[-1] and not at.session_state["playing"]


def test_a_playback_is_built_once_per_run_folder_and_language(monkeypatch):
    from twin.app import caches, playback

    built = []
    real = playback.build_playback

    def counting(city, run, *, lang="ko", **kw):
        built.append((run.folder.name, lang))
        return real(city, run, lang=lang, **kw)

    monkeypatch.setattr(playback, "build_playback", counting)
    caches.clear()
    at = _walkers_played(_app())
    options = at.select_slider(key="t_min").options
    at.select_slider(key="t_min").set_value(options[0]).run()
    paused = len(at.get("vega_lite_chart"))  # stage, rain (in the playback) and the evacuation curve
    at.button(key="play").click().run()
    at.run().run()
    assert len(at.get("vega_lite_chart")) == paused - 2  # a frame while playing sends the map, not its charts
    at.button(key="play").click().run()  # ❚❚: the charts come back
    at.multiselect(key="chart_gauges:ko").set_value(["LS-G01"]).run()
    assert not at.exception and len(built) == 1 and len(at.get("vega_lite_chart")) == paused
    at.sidebar.radio(key="lang").set_value("en").run()
    at.sidebar.radio(key="lang").set_value("ko").run()
    assert not at.exception and [lang for _, lang in built] == ["ko", "en"]
    open_page(at, "compare")
    at.button(key="cmp_run").click().run()
    at.run()
    # the baseline is the run page's run (the form left as the scenario says): only the proposal is new
    assert not at.exception and len(built) == 3 and len(set(built)) == 3
    open_page(at, "run")
    assert not at.exception and len(built) == 3  # the walkers' run is still cached


def test_cctv_page_shows_views_by_dori_level_blind_spots_and_proposed_cameras_in_both_languages():
    at = _app(300)
    open_page(at, "cctv")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert t("cctv_paths_day", "ko") in labels and t("cctv_served", "ko").format(n=10) in labels
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    ids = {x["id"] for x in spec["layers"]}
    assert {"view_detection", "view_observation", "blind_spots", "cameras", "new_cameras"} <= ids
    new = next(x for x in spec["layers"] if x["id"] == "new_cameras")
    assert len(new["data"]) == 10 and "LS-" not in json.dumps(new["data"], ensure_ascii=False)
    assert "http" not in json.dumps(spec.get("mapStyle")) and spec.get("mapProvider") is None  # no tiles
    assert len(at.dataframe) == 2  # zones, smart-path candidates
    gate = next(o for o in at.selectbox(key="cctv_focus:ko").options if "동일로" in o)  # G02, by its name
    at.selectbox(key="cctv_focus:ko").set_value("gate:G02").run()
    close = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert not at.exception and close["initialViewState"]["zoom"] == 17 and "중랑천" in gate
    assert any(x["id"] == "buildings" and x["data"] for x in close["layers"])  # what blocks the views
    at.slider(key="cctv_add").set_value(0).run()
    assert not at.exception and t("cctv_served", "ko").format(n=0) not in [m.label for m in at.metric]
    at.sidebar.radio(key="lang").set_value("en").run()
    assert at.header[0].value == t("page_cctv", "en")
    at.sidebar.toggle(key="living_lab").set_value(True).run()
    assert not at.exception and len(at.dataframe) == 0  # living-lab mode: the map and the big numbers only
