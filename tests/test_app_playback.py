"""Playback, KPIs, report and run folders, checked against the run's own records and against
what the models must satisfy (thresholds crossed by the recorded stage, the max-flow bound)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from twin.app.kpis import KeyGauge, key_gauge, kpis, plain_kpis
from twin.app.pages import (
    default_minute,
    default_proposal,
    people_overrides,
    scenario_overrides,
    start_override,
    threshold_overrides,
)
from twin.app.playback import LEVEL_NAMES, build_playback, evacuation_curve, reach_gauges
from twin.dataset_schema import THRESHOLD_LEVELS as LEVELS
from twin.errors import RunFolderError
from twin.results import read_run_folder, zip_run_folder
from twin.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]

WALKERS = REPO / "scenarios" / "flash_flood_evening_walkers.yaml"


@pytest.fixture(scope="module")
def pb(city, walkers_run):
    return build_playback(city, walkers_run, lang="en")


def test_alert_levels_follow_the_recorded_stage_and_thresholds(pb, walkers_run):
    """At every sample the level drawn for a gauge is the number of its thresholds the recorded
    stage has reached (the flood model has no hysteresis), derived here from the stage alone."""
    stage = walkers_run.series("stage", "LS-")
    checked = 0
    for gauge, info in walkers_run.summary["gauges"].items():
        th = [info["thresholds_m"][lv] for lv in LEVELS if info["thresholds_m"].get(lv) is not None]
        for time_s, h in stage[gauge].items():
            want = sum(1 for v in th if h >= v)
            assert pb.gauge_level(gauge, time_s) == want, (gauge, time_s, h)
            checked += 1
    assert checked > 1000
    assert max(pb.peak_levels()) >= 1 and LEVEL_NAMES[0] == "normal"


def test_reaches_take_a_sensor_of_their_own_stream(city):
    sensors = city.devices_of_kind("level_sensor").set_index("device_id")["stream"]
    streams = city.layer("streams").set_index("reach_id")["name"]
    pairs = reach_gauges(city)
    assert sum(g is not None for g in pairs.values()) >= 40
    for reach, gauge in pairs.items():
        if gauge is not None:
            assert sensors[gauge] == streams[reach]


def test_path_states_follow_the_flood_and_order_events(pb, walkers_run):
    ev = walkers_run.events
    flooded = ev[ev["kind"] == "path.flooded"]
    for row in flooded.head(20).itertuples():
        links = [lk for lk in pb.path_links if lk["access_id"] == row.entity_id]
        assert links, row.entity_id
        assert all(pb.path_state(lk["access_id"], lk["stream"], row.time_s) == "flooded" for lk in links)
        assert all(pb.path_state(lk["access_id"], lk["stream"], row.time_s - 1) != "flooded" for lk in links)
    order = ev[(ev["kind"] == "crowd.evacuation_order") & (ev["entity_id"] == "중랑천")].iloc[0]
    jn = [lk for lk in pb.path_links if lk["stream"] == "중랑천"]
    assert all(pb.path_state(None, "중랑천", order.time_s - 1) == "open" for _ in jn[:1])
    states = [pb.path_state(lk["access_id"], "중랑천", order.time_s) for lk in jn]
    assert set(states) <= {"cleared", "flooded"} and "cleared" in states
    assert pb.path_states(0.0) == {"open": len(pb.path_links), "cleared": 0, "flooded": 0}


def test_people_on_the_map_are_the_trajectory_sample(pb, walkers_run):
    tr = walkers_run.trajectories
    t0 = float(tr["time_s"].iloc[len(tr) // 2])
    assert len(pb.people_at(t0)) == int((tr["time_s"] == t0).sum()) > 0
    assert len(pb.people_at(t0 + 1.0)) == len(pb.people_at(t0))  # the sample at or before t
    assert len(pb.people_at(0.0)) == 0
    layers = {layer.id for layer in pb.layers_at(t0)}
    assert {"stream_level", "path_state", "people", "dongs", "devices", "main_roads"} <= layers
    assert "people" not in {layer.id for layer in pb.layers_at(t0, peak=True)}


def test_evacuation_curve_matches_the_summary_and_respects_the_max_flow_bound(walkers_run):
    crowd = walkers_run.summary["crowd"]
    curve = evacuation_curve(walkers_run.evacuees)
    assert len(curve) == crowd["evacuated"] and curve["share"].iloc[-1] == pytest.approx(
        crowd["evacuated"] / crowd["evacuees"]
    )
    assert np.all(np.diff(curve["evacuation_s"]) >= 0) and np.all(np.diff(curve["safe"]) == 1)
    t = curve["evacuation_s"].to_numpy()
    assert np.percentile(t, 50) == pytest.approx(crowd["t50_s"], abs=0.05)
    assert np.percentile(t, 90) == pytest.approx(crowd["t90_s"], abs=0.05)
    bound = crowd["evacuation_lower_bound_s"]["중랑천"]["bound_s"]
    assert bound is not None and t.max() >= bound - 1e-6  # nobody beats the max-flow lower bound
    assert evacuation_curve(None).empty


def test_the_key_gauge_comes_from_the_dataset_by_name(city):
    key = key_gauge(city)
    # WAMIS 의정부시(신곡교), in English by Revised Romanization with the Korean kept
    assert key == KeyGauge("LS-1018665", "신곡교", "중랑천", "Jungnangcheon", "Singok bridge (신곡교)")
    assert key.words("en") == {"gauge": "Singok bridge (신곡교)", "stream": "Jungnangcheon"}
    manifest = {**city.manifest, "hydrology": {"key_gauge": "LS-1018666"}}
    other = key_gauge(dataclasses.replace(city, manifest=manifest, fingerprint=None))
    assert other == KeyGauge("LS-1018666", "금신교", "부용천", "Buyongcheon", "Geumsin bridge (금신교)")
    none = key_gauge(dataclasses.replace(city, manifest={**city.manifest, "hydrology": {}}, fingerprint=None))
    assert none is None
    assert default_proposal(key).endswith("thresholds.LS-1018665.attention_m=1.5")
    assert default_proposal(None) == "crowd.evacuation_trigger=attention"


def test_kpis_in_plain_words(walkers_run, city):
    key = key_gauge(city)
    k = kpis(walkers_run.summary, key)
    assert k["people_exposed"] == walkers_run.summary["crowd"]["exposed_people"]
    assert k["peak_stage"] == walkers_run.summary["gauges"]["LS-1018665"]["peak_stage_m"]
    for lang in ("ko", "en"):
        cards = {c.key: c for c in plain_kpis(walkers_run.summary, lang, key)}
        assert {"people_exposed", "warning", "paths", "all_safe", "peak"} <= set(cards)
        assert str(k["people_exposed"]) in cards["people_exposed"].value
        assert "신곡교" in cards["peak"].label and "LS-1018665" not in cards["peak"].sentence
    assert "중랑천 신곡교 수위는" in {c.key: c for c in plain_kpis(walkers_run.summary, "ko", key)}["peak"].sentence
    assert "peak" not in {c.key for c in plain_kpis(walkers_run.summary, "en", None)}  # a city without a key gauge
    late = {"flooded_paths": {"count": 3, "min_warning_lead_time_s": -600.0}, "access_points": {"a": 1}}
    card = next(c for c in plain_kpis(late, "en", key) if c.key == "warning")
    assert card.good is False and "too late" in card.value and "10 minutes before any alert" in card.sentence
    ok = {"flooded_paths": {"count": 0, "min_warning_lead_time_s": 1800.0}, "access_points": {"a": 1}}
    card = next(c for c in plain_kpis(ok, "ko", key) if c.key == "warning")
    assert card.good is True and card.value == "30분"


def test_playback_opens_after_the_busiest_order(walkers_run, city):
    order = walkers_run.summary["crowd"]["evacuation_orders"]["중랑천"]["time_s"]
    assert default_minute(walkers_run.summary, list(range(0, 241))) == round((order + 180) / 60)
    assert default_minute({}, [0, 5]) == 0
    peak = {"gauges": {"LS-1018665": {"time_of_peak_s": 600.0}}}
    assert default_minute(peak, [0, 5, 10], key_gauge(city)) == 10  # else the key gauge's peak
    assert default_minute(peak, [0, 5, 10], None) == 0


def test_form_values_become_overrides_that_validate():
    flagship = load_scenario(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml")
    sets = people_overrides(flagship, 250, "백석천", "attention") + start_override(flagship, 7, 30)
    sets += threshold_overrides("LS-G09", {"attention": 0.5, "caution": 1.0}, {"attention": 0.5, "caution": 0.8})
    assert sets[-1] == "thresholds.LS-G09.caution_m=0.8" and len([s for s in sets if "LS-G09" in s]) == 1
    s = load_scenario(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", overrides=sets)
    assert s.populations[0].stream == "백석천" and s.populations[0].count == 250
    assert s.crowd.evacuation_trigger == "attention" and (s.start.hour, s.start.minute) == (7, 30)
    assert people_overrides(flagship, 0, "중랑천", "path_flooded") == []
    walkers = load_scenario(WALKERS)
    assert people_overrides(walkers, 10, "중랑천", "path_flooded")[0] == "populations.0.count=10"


def test_rain_form_people_go_to_the_riverside_population_wherever_it_is():
    """The rain form's people are riverside walkers: the count of the riverside population, not of
    the first one (a flow has no count: ``populations.0.count`` made the scenario unloadable), and
    no population at all when the scenario has no riverside walkers."""
    flow = "{kind: flow, origin: F-CITYHALL, destination: 'nearest:shelter', rate_p_s: 1, duration: 10}"
    both = f"populations=[{flow}, {{kind: riverside, stream: 중랑천, count: 1500}}]"
    base = load_scenario(WALKERS, overrides=[both])
    sets = scenario_overrides(120, 2, "huff_q3", 250, base)
    assert "populations.1.count=250" in sets and not any(x.startswith("populations.0") for x in sets)
    s = load_scenario(WALKERS, overrides=[both, *sets])
    assert [p.count for p in s.populations] == [10, 250]  # the flow keeps its 1 P/s x 10 s
    assert s.rainfall.total_mm == 120 and s.rainfall.duration == 2 * 3600
    only_flow = load_scenario(WALKERS, overrides=[f"populations=[{flow}]"])
    sets = scenario_overrides(120, 2, "huff_q3", 250, only_flow)
    assert not any(x.startswith("populations") for x in sets)
    assert load_scenario(WALKERS, overrides=[f"populations=[{flow}]", *sets]).populations[0].count == 10
    walkers = load_scenario(WALKERS)
    assert scenario_overrides(90, 3, "huff_q3", 40, walkers)[-1] == "populations.0.count=40"
    assert scenario_overrides(90, 3, "huff_q3", None, walkers)[-1] == "rainfall.start_offset=0"


def test_run_folder_read_back_and_zipped_deterministically(walkers_run, tmp_path):
    import io
    import zipfile

    a = zip_run_folder(walkers_run.folder, name="run")
    assert a == zip_run_folder(walkers_run.folder, name="run")
    names = zipfile.ZipFile(io.BytesIO(a)).namelist()
    assert "run/summary.json" in names and "run/evacuees.parquet" in names and names == sorted(names)
    with pytest.raises(RunFolderError, match="not a folder"):
        read_run_folder(tmp_path / "nowhere")
    with pytest.raises(RunFolderError, match="missing summary.json"):
        read_run_folder(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("summary.json", "timeseries.parquet", "events.parquet"):
        (bad / name).write_text("{", encoding="utf-8")
    with pytest.raises(RunFolderError, match="not valid JSON"):
        read_run_folder(bad)
    (bad / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RunFolderError, match="not a readable Parquet table"):
        read_run_folder(bad)


def test_same_scenario_twice_gives_the_same_zip(city, tmp_path):
    from twin.runner import run_scenario

    s = load_scenario(
        REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", overrides=["duration=2h", "rainfall.duration=1h"]
    )
    run_scenario(s, out=tmp_path / "a", city=city)
    run_scenario(s, out=tmp_path / "b", city=city)
    assert zip_run_folder(tmp_path / "a", name="run") == zip_run_folder(tmp_path / "b", name="run")


def test_report_has_maps_charts_and_plain_kpis_and_fetches_nothing(city, walkers_run, pb):
    from twin.app.report import report_html

    page = report_html(walkers_run, city, pb, "en")
    assert page.startswith("<!doctype html>")
    assert page.count("data:image/png;base64,") >= 5  # two maps, stage, rain, evacuation curve
    assert "http" not in page.replace("http-equiv", "")
    assert "were still on a stretch of path" in page
    ev = pd.DataFrame({"time_s": [1.0], "kind": ["x"], "entity_id": ["<b>"], "message": ["<script>"], "data": ["{}"]})
    hostile = type(walkers_run)(**{**walkers_run.__dict__, "events": ev})
    page = report_html(hostile, city, build_playback(city, hostile), "ko")
    assert "<script>" not in page and "&lt;script&gt;" in page
    json.dumps(walkers_run.summary)  # the summary the report reads is plain JSON


def test_devices_show_their_state_from_the_run_events(city, walkers_run):
    """A fleet run logs gate.*, signboard.display and cctv.objects_inside; playback draws them."""
    extra = pd.DataFrame(
        {
            "time_s": [100.0, 130.0, 200.0, 900.0, 300.0],
            "kind": [
                "gate.close_command",
                "gate.closed",
                "signboard.display",
                "signboard.display",
                "cctv.objects_inside",
            ],
            "entity_id": ["G01", "G01", "SB-G01", "SB-G01", "CAM-G02"],
            "message": ["close command from modbus", "gate closed", "shown", "cancelled", "Zone: someone inside"],
            "data": [
                "{}",
                "{}",
                json.dumps({"lines": ["중랑천 산책로", "통제"]}),
                json.dumps({"lines": []}),
                json.dumps({"inside": True}),
            ],
        }
    )
    ev = pd.concat([walkers_run.events, extra], ignore_index=True)
    run = type(walkers_run)(**{**walkers_run.__dict__, "events": ev})
    pb = build_playback(city, run, lang="ko")
    assert pb.device_state("G01", "gate", 50) == ("open", "open")
    assert pb.device_state("G01", "gate", 110)[0] == "closing" and pb.device_state("G01", "gate", 131)[0] == "closed"
    assert pb.device_state("SB-G01", "signboard", 250) == ("showing", "중랑천 산책로 / 통제")
    assert pb.device_state("SB-G01", "signboard", 1000) == ("blank", "")
    assert pb.device_state("CAM-G02", "cctv", 400)[0] == "someone"
    level = pb.device_state("LS-1018665", "level_sensor", 14000)[0]
    assert level == LEVEL_NAMES[pb.gauge_level("LS-1018665", 14000)]
    layer = next(x for x in pb.layers_at(250) if x.id == "device_state")
    by_id = {d["id"]: d for d in layer.data}
    assert by_id["G01"]["state"] == "closed" and "중랑천 산책로" in by_id["SB-G01"]["label"]
    assert {"gate", "signboard", "level_sensor", "cctv"} <= {d["kind"] for d in layer.data}
