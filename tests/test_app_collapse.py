"""The app's collapse page (twin.app.collapse_view): its data shaping checked against the run's own
records and against Voight's law, and the page drawn headless in both languages."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app import collapse_view as cv  # noqa: E402
from twin.app.i18n import t as tr  # noqa: E402
from twin.app.names import Names  # noqa: E402
from twin.control.inverse_velocity import ForecastSettings  # noqa: E402
from twin.results import read_run_folder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RAW_ID = re.compile(r"\b(SLP-\d+|B\d{5}|(CRACK|TILT|EXT)-[A-Z0-9-]+)\b")
HANGUL_ONLY = re.compile(r"^[^A-Za-z]*[\uac00-\ud7a3]+[^A-Za-z]*$")
SLOPES = REPO / "scenarios" / "collapse" / "slope_failure_august_2022.yaml"


@pytest.fixture(scope="module")
def slope_run(headless):
    """The shipped August-2022 slope scenario, run once (shared with other tests of the session)."""
    return read_run_folder(headless(SLOPES).out)


@pytest.fixture(scope="module")
def policy():
    return cv.scenario_policy(SLOPES)


def _failed(run) -> list[dict]:
    return [r for r in cv.site_rows(run.summary) if r.get("failure_s") is not None and "inside_at_failure" in r]


def test_every_word_has_korean_and_english_with_the_same_fields():
    for key, (ko, en) in cv.WORDS.items():
        assert ko and en and ko != en or key in ("fs_axis",), key
        fields = [sorted(f for _, f, _, _ in string.Formatter().parse(x) if f) for x in (ko, en)]
        assert fields[0] == fields[1], key
    for lv in cv.LEVELS:
        assert cv.words(lv, "ko") != cv.words(lv, "en")


def test_a_sites_level_is_its_last_alarm_and_failed_after_its_failure(slope_run):
    steps = cv.alarm_steps(slope_run.events)
    rows = cv.site_rows(slope_run.summary)
    assert len(rows) == 64
    fs = slope_run.series("fs")
    checked = 0
    for r in rows:
        alarms = sorted(r["alarms"], key=lambda a: a["t_s"])
        probes = [a["t_s"] for a in alarms] + [a["t_s"] - 1.0 for a in alarms] + [0.0, 107_000.0]
        fail = r.get("failure_s")
        for t in probes:
            level = cv.level_at(steps, r["site_id"], t)
            if fail is not None and t >= fail + 1.0:  # the event is at the exact failure time, the row rounds it
                assert level == "failed", (r["site_id"], t)
                continue
            before = [a for a in alarms if a["t_s"] <= t]  # the summary's own alarm list, not the events
            want = "none" if not before or before[-1]["level"] == "clear" else before[-1]["level"]
            assert level == want, (r["site_id"], t)
            checked += 1
        if fail is not None and fail < 108_000.0:
            # the physics: FS has fallen to 1 by the time the site is shown as failed, not before
            s = fs[r["site_id"]].dropna()
            assert s[s.index < fail - 300.0].min() > 1.0 - 1e-6
            assert cv.level_at(steps, r["site_id"], fail - 300.0) != "failed"
            assert cv.worst_level(steps, r["site_id"]) == "failed"
    assert checked > 100
    assert sum(cv.worst_level(steps, r["site_id"]) == "failed" for r in rows) == 9
    order = cv.sites_by_level(slope_run.summary, steps)
    assert [cv.worst_level(steps, s) for s in order[:9]] == ["failed"] * 9  # the picker starts with them


def test_verdict_numbers_and_sentences_match_the_summary(slope_run):
    k = cv.verdict_numbers(slope_run.summary)
    rows = _failed(slope_run)
    assert k["failed"] == len(rows) == 9 and k["evacuated_in_time"] == 9 and k["inside"] == 0
    assert k["people"] == sum(r["people_in_zone"] for r in rows)
    margins = sorted(r["evacuate_margin_s"] / 60.0 for r in rows)
    assert sorted(k["margins_min"]) == pytest.approx(margins)
    ko, en = cv.verdict_sentences(slope_run.summary, "ko"), cv.verdict_sentences(slope_run.summary, "en")
    assert f"{k['people']}명" in ko[0] and f"평균 {round(np.mean(margins))}분" in ko[0] and "9곳" in ko[0]
    assert f"{round(min(margins))} min" in en[0] and len(ko) == len(en)
    assert len(cv.failed_table(slope_run.summary, "en")) == 9


def test_a_missed_evacuation_and_a_faulty_sensor_are_told():
    summary = {
        "collapse": {
            "failed": 2,
            "evacuated_in_time": 1,
            "false_evacuations": 1,
            "inside_at_failure": 7,
            "sites": [
                {"site_id": "S1", "name": "a", "people_in_zone": 7},
                {"site_id": "S2", "name": "b", "people_in_zone": 3},
            ],
            "verdict": {
                "passed": False,
                "failed_sites": 2,
                "evacuated_in_time": 1,
                "false_evacuations": 1,
                "sites": [
                    {"site_id": "S1", "failed": True, "evacuated_before_failure": False, "margin_s": None},
                    {"site_id": "S2", "failed": True, "evacuated_before_failure": True, "margin_s": 600.0},
                ],
                "faulty_sensors": [
                    {"sensor": "CRACK-X", "site_id": "S1", "detected_after_s": 5568.6},
                    {"sensor": "TILT-Y", "site_id": "S2", "detected_after_s": None},
                ],
            },
        }
    }
    en = " ".join(cv.verdict_sentences(summary, "en"))
    assert "7 people were still inside" in en and "1 site failed without" in en and "1 site that stood" in en
    assert "1 sites" not in en and "2 sites failed, and 7 people" in en
    # the site by its name, the sensor by what it is (its id only in tooltips)
    assert "The faulty crack sensor on a was called suspect 93 min" in en
    assert "The faulty tilt sensor on b was never called suspect" in en and "CRACK-X" not in en
    ko = " ".join(cv.verdict_sentences(summary, "ko"))
    assert "a의 고장 난 균열 센서를 고장 93분 만에" in ko and "1곳은 무너지기 전에" in ko and "TILT-Y" not in ko
    assert cv.verdict_numbers(summary)["margins_min"] == [10.0]


def test_no_margin_is_made_up_and_an_empty_zone_is_said_so():
    def summary(people: int, verdict_sites: list) -> dict:
        return {
            "collapse": {
                "inside_at_failure": 0,
                "sites": [{"site_id": "S1", "name": "a", "people_in_zone": people}],
                "verdict": {"passed": True, "failed_sites": 1, "evacuated_in_time": 1, "false_evacuations": 0,
                            "sites": verdict_sites},
            }
        }  # fmt: skip

    failed = [{"site_id": "S1", "failed": True, "evacuated_before_failure": True, "margin_s": None}]
    en = " ".join(cv.verdict_sentences(summary(5, failed), "en"))
    assert "1 site failed, and all 5 people in their danger zones were out before." in en and "0 min" not in en
    assert "nobody was in their danger zones" in " ".join(cv.verdict_sentences(summary(0, failed), "en"))


def test_inverse_velocity_of_a_voight_failure_is_the_straight_line_to_the_failure_time():
    """Creep at 0.02 mm/h for 6 h, then Voight α = 2 to failure at 12 h: v = 1/(k·(t_f − t)),
    x = ln((t_f − t_0)/(t_f − t))/k, so 1/v = k·(t_f − t) falls linearly to 0 at t_f."""
    k = 0.5  # h/mm per h: 1/v = 0.5 h/mm (v = 2 mm/h) one hour before failure
    t_f, t_0 = 12 * 3600.0, 6 * 3600.0
    t = np.arange(0.0, t_f - 1200.0, 600.0)
    x = np.where(t < t_0, 0.02 * t / 3600.0, 0.02 * t_0 / 3600.0 + np.log((t_f - t_0) / np.maximum(t_f - t, 1.0)) / k)
    settings = ForecastSettings(
        smoothing_s=5400.0,
        ema_short_s=1800.0,
        ema_long_s=3 * 3600.0,
        onset_window_s=3600.0,
        onset_warmup_s=7200.0,
        fit_window_s=7200.0,
        min_r2=0.9,
        history_s=86_400.0,
    )
    pts = cv.inverse_velocity_points(t, x, settings)
    # away from the onset's kink and from the end of the data (the smoothing's centred windows):
    # the quadratic Savitzky-Golay speed is within 3 % of Voight's (its bias grows as (window/(t_f - t))²)
    mid = pts[(pts["time_s"] >= 7 * 3600.0) & (pts["time_s"] <= t_f - 2 * 3600.0)]
    v_true = 3600.0 / (k * (t_f - mid["time_s"].to_numpy()))  # mm/h
    assert len(mid) == 19 and mid["speed"].to_numpy() == pytest.approx(v_true, rel=0.03)
    before = pts[(pts["time_s"] > 3600.0) & (pts["time_s"] < t_0 - 3600.0)]
    assert before["speed"].to_numpy() == pytest.approx(0.02, rel=1e-6)  # steady creep: exact
    issued = t_f - 3 * 3600.0
    f = cv.forecast_at(t, x, settings, issued)
    assert f is not None and abs(f.failure_s - t_f) < 0.05 * (t_f - issued)
    assert f.onset_s == pytest.approx(t_0, abs=1200.0)
    line = cv.forecast_line(pts, f, settings)
    assert line["inv_v"].iloc[-1] == 0.0 and line["hour"].iloc[-1] == pytest.approx(f.failure_s / 3600.0)
    # the drawn line is the fit of the points: at its start it lies within 5 % of the true 1/v there
    start = line["hour"].iloc[0] * 3600.0
    assert start == pytest.approx(issued - settings.fit_window_s)
    assert line["inv_v"].iloc[0] == pytest.approx(k * (t_f - start) / 3600.0, rel=0.05)


def test_the_forecast_redrawn_is_the_one_the_early_warning_issued_and_crosses_zero_near_the_failure(slope_run, policy):
    errors = []
    for r in _failed(slope_run):
        settings = policy.rule(r["site_id"]).forecast_settings("slope")
        pts, lines, fcs = cv.site_inverse_velocity(slope_run, r, settings)
        evac = next(a for a in r["alarms"] if a["level"] == "evacuate")
        assert cv.issue_time(r) == evac["t_s"]
        named = next((s for s in r["sensors"] if f"{s} forecasts failure" in evac["reason"]), None)
        # the forecast the logic recorded with its alarm (the earliest of its sensors') is one of those redrawn
        assert min(abs(f.failure_s - evac["forecast_failure_s"]) for f in fcs.values()) < 1.0
        left = r["failure_s"] - evac["t_s"]
        # the crack gauge is the least noisy for its movement (0.005 mm); SLP-02's forecast by its tilt rod
        sensor = next((s for s in sorted(fcs) if s.startswith("CRACK")), named or min(fcs, default=""))
        errors.append((fcs[sensor].failure_s - r["failure_s"]) / left)
        line = lines[lines["sensor"] == sensor]
        assert line["inv_v"].iloc[-1] == 0.0 and line["inv_v"].iloc[0] > 0
        assert abs(line["hour"].iloc[-1] * 3600.0 - r["failure_s"]) < 0.10 * left  # zero within 10 % of the time left
    assert len(errors) == 9 and float(np.median(np.abs(errors))) < 0.08


def test_the_map_colours_each_site_by_its_level_and_names_it(city, slope_run):
    names = Names.of(city)
    shapes = cv.site_shapes(city)
    steps = cv.alarm_steps(slope_run.events)
    first_fail = min(r["failure_s"] for r in _failed(slope_run))
    t = first_fail + 60.0
    spec = json.loads(cv.collapse_deck(city, slope_run, shapes, t, "ko").to_json())
    assert spec.get("mapProvider") is None and "http" not in json.dumps(spec.get("mapStyle"))
    pts = next(x for x in spec["layers"] if x["id"] == "site_points")["data"]
    assert len(pts) == 64
    for d in pts:
        sid = d["label"].split("(")[1].split(")")[0]
        assert d["color"] == cv.LEVEL_RGB[cv.level_at(steps, sid, t)]
        assert d["label"].startswith(f"{names.entity(sid, 'ko')} ({sid}), ")  # the name, the id in brackets
    assert sum(d["color"] == cv.LEVEL_RGB["failed"] for d in pts) == 1
    assert any("안전율 " in d["label"] for d in pts) and not any("FS " in d["label"] for d in pts)  # Korean words
    hours = cv.frame_times(slope_run)
    assert hours[-1] == pytest.approx(30.0) and len(hours) == 181  # every 10 min of the 30 h run
    opens = cv.default_hour(slope_run, hours) * 3600.0  # the playback opens just before the first failure
    assert first_fail - 1200.0 < opens <= first_fail - 600.0
    assert cv.worst_level(steps, "B02386") == "none" and cv.state_counts(slope_run, opens, "en").count("failed 0")
    zones = next(x for x in spec["layers"] if x["id"] == "danger_zones")["data"]
    assert len(zones) == 24  # the slopes
    en = json.loads(cv.collapse_deck(city, slope_run, shapes, t, "en").to_json())
    shelters = next(x for x in en["layers"] if x["id"] == "shelters")["data"]
    assert shelters and all(d["label"].startswith("shelter: ") and not HANGUL_ONLY.match(d["label"]) for d in shelters)
    assert any("Steep slope 2, Heungseon-dong (SLP-02), slope: " in d["label"] for d in
               next(x for x in en["layers"] if x["id"] == "site_points")["data"])  # fmt: skip


def _page(folder: str, scenario: str) -> None:
    import streamlit as st

    from twin.app.collapse_view import collapse_page
    from twin.city import load_city
    from twin.results import read_run_folder

    class Store:  # hands out the run made by the test's fixture
        def has(self, path, sets) -> bool:
            return True

        def get(self, path, sets=(), progress=None):
            assert str(path) == scenario
            return read_run_folder(folder)

    @st.cache_resource
    def city():
        return load_city()

    lang = st.session_state.get("lang", "ko")
    collapse_page(st, city(), lang, Store(), living_lab=bool(st.session_state.get("living_lab")))


def test_the_page_draws_in_both_languages_and_in_living_lab_mode(slope_run):
    at = AppTest.from_function(_page, args=(str(slope_run.folder), str(SLOPES)), default_timeout=120)
    at.run()
    assert not at.exception
    assert at.header[0].value == tr("page_collapse", "ko")
    at.button(key="collapse_run").click().run()
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:2] == [cv.words("failed_sites", "ko"), cv.words("evacuated_in_time", "ko")]
    assert at.metric[0].value == "9"
    assert at.selectbox(key="collapse_site:ko").value in {r["site_id"] for r in _failed(slope_run)}
    shown = " ".join(at.selectbox(key="collapse_site:ko").options + at.selectbox(key="collapse_scenario:ko").options)
    assert "흥선동 급경사지 2 · 붕괴" in shown and "2022년 8월형" in shown  # names and words, no ids or files
    assert not RAW_ID.search(shown) and ".yaml" not in shown
    assert "twin-legend" in " ".join(m.value for m in at.markdown)
    assert (
        len(at.get("deck_gl_json_chart")) == 1
        and len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) == 1
    )
    at.selectbox(key="collapse_site:ko").set_value("B02386").run()  # a building: tilt grades and cracks
    assert not at.exception and not at.error
    at.session_state["lang"] = "en"
    at.session_state["living_lab"] = True
    at.run()
    assert not at.exception and not at.error
    assert at.header[0].value == tr("page_collapse", "en")
    text = " ".join(m.value for m in at.markdown)
    assert "9 sites failed, and all" in text and "min before" in text
    assert at.selectbox(key="collapse_site:en").value == "B02386"  # the choice kept across the language switch
    assert at.selectbox(key="collapse_scenario:en").options[1].startswith("A long heavy rain like August 2022")
    at.button(key="collapse_play").click().run()  # ▶ starts the playback, ❚❚ stops it
    assert not at.exception and at.session_state["collapse_playing"]
    at.button(key="collapse_play").click().run()
    assert not at.exception and not at.session_state["collapse_playing"]


@pytest.mark.parametrize(
    ("summary", "times", "frames"),
    [
        ({}, [], 1),  # an empty run: its start only (a NaN duration raised)
        ({"scenario": None}, [0.0, 600.0], 2),  # from the timeseries
        ({"scenario": {"duration_s": -5}}, [], 1),
        ({"scenario": {"duration_s": 1e9}}, [], 2017),  # capped at two weeks, not 1.7 M slider stops
    ],
)
def test_the_playback_frames_of_an_odd_run(summary, times, frames):
    import types

    import pandas as pd

    run = types.SimpleNamespace(summary=summary, timeseries=pd.DataFrame({"time_s": times}))
    hours = cv.frame_times(run)
    assert len(hours) == frames and hours[0] == 0.0
    assert cv.default_hour(run, hours) == 0.0  # nothing failed, no alarm: the start


def test_the_failed_sites_table_and_the_charts_name_sites_and_sensors(city, slope_run, policy):
    names = Names.of(city)
    for lang in ("ko", "en"):
        table = cv.failed_table(slope_run.summary, lang, names)
        sites = [r[cv.words("col_site", lang)] for r in table]
        assert len(sites) == 9 and not any(RAW_ID.search(x) for x in sites)
        times = [h for h in table[0] if h not in (cv.words(k, lang) for k in ("col_site", "col_people", "col_inside"))]
        assert len(times) == 3 and all(h.endswith((" h)", "(h after the start)", "(min)", "(분)")) for h in times)
    assert "Steep slope 2, Heungseon-dong" in [r["Site"] for r in cv.failed_table(slope_run.summary, "en", names)]
    assert "흥선동 급경사지 2" in [r["장소"] for r in cv.failed_table(slope_run.summary, "ko", names)]
    row = cv.site_row(slope_run.summary, "SLP-03")
    labels = cv.sensor_labels(cv.sensor_readings(slope_run, row), "en")
    assert labels == {"CRACK-SLP-03": "crack sensor", "EXT-SLP-03": "extensometer", "TILT-SLP-03": "tilt sensor"}
    assert cv.sensor_labels(cv.sensor_readings(slope_run, row), "ko")["EXT-SLP-03"] == "신축계"
    spec = json.dumps(cv.site_charts(slope_run, city, "SLP-03", "en", policy, rain=cv.pd.DataFrame()).to_dict())
    assert "crack sensor" in spec and "tilt sensor" in spec and not RAW_ID.search(spec)
    notes = cv.forecast_notes(slope_run, row, policy, "en")
    assert sorted(n.split(":")[0] for n in notes) == ["Crack sensor", "Extensometer", "Tilt sensor"]


def test_two_sensors_of_a_kind_are_numbered_and_an_unknown_one_keeps_its_id():
    import pandas as pd

    one = pd.DataFrame({"time_s": [0.0], "value": [0.0], "kind": ["crack"]})
    tilt = pd.DataFrame({"time_s": [0.0], "value": [0.0], "kind": ["tilt"]})
    got = cv.sensor_labels({"CRACK-B1-2": one, "CRACK-B1-1": one, "TILT-B1": tilt}, "ko")
    assert got == {"CRACK-B1-1": "균열 센서 1", "CRACK-B1-2": "균열 센서 2", "TILT-B1": "기울기 센서"}
    assert cv.sensor_kind_words("EXT-9", "en") == "extensometer" and cv.sensor_kind_words("X-9", "en") == "X-9"


def test_the_map_legend_is_a_twin_legend_with_every_state_in_both_languages():
    for lang in ("ko", "en"):
        html = cv.legend_html(lang)
        assert html.startswith('<div class="twin-legend"')
        for lv in cv.LEVELS:
            assert f"<span>{cv.words(lv, lang)}</span>" in html
        assert f"<span>{cv.words('shelter', lang)}</span>" in html and f"<span>{cv.words('zone', lang)}</span>" in html
    assert "rgba(90,0,110,1.00)" in cv.legend_html("en")  # the failed sites' colour on the map
