"""The flood model against physics and independent estimates, on the shipped Uijeongbu data.

SWMM runs once per process at a time (pyswmm's rule), so runs here are sequential.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from twin.hydraulics.channel_network import normal_depth_m
from twin.hydraulics.rational import rational_peak
from twin.hydraulics.swmm_run import run_standalone
from twin.models.flood import build_flood_model, rain_gauges
from twin.models.rain_field import rain_field
from twin.runner import run_scenario
from twin.scenario import load_scenario, scenario_from_mapping

REPO = Path(__file__).resolve().parents[1]
FLASH = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
SHIPPED = sorted(p for p in (REPO / "scenarios").glob("*.yaml") if load_scenario(p).hydraulics.enabled)


def _storm(total_mm: float, *, duration: str = "4h", kind: str = "design") -> dict:
    rain = (
        {"kind": "none"}
        if kind == "none"
        else {
            "kind": "design",
            "total_mm": total_mm,
            "duration": "2h",
            "pattern": "huff_q2",
            "interval": "10min",
            "start_offset": "10min",
        }
    )
    return {
        "schema_version": 1,
        "name": {"ko": "시험", "en": "test"},
        "start": "2026-07-15T14:00:00+09:00",
        "duration": duration,
        "rainfall": rain,
        "hydraulics": {"sample_interval": 120},
    }


@pytest.fixture
def flash(headless):
    """The flagship run of the session (conftest.headless)."""
    return headless(FLASH)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenarios_keep_swmm_continuity_within_1_percent(path, headless):
    s = headless(path).summary["swmm"]
    assert abs(s["runoff_continuity_error_pct"]) <= 1.0
    assert abs(s["flow_routing_continuity_error_pct"]) <= 1.0


def test_written_model_inp_alone_gives_the_reported_peaks(flash):
    """An engineer re-running model.inp with pyswmm gets the peaks the twin reported."""
    s = flash.summary
    watch = sorted({v["junction"] for v in s["gauges"].values()} | {v["junction"] for v in s["access_points"].values()})
    alone = run_standalone(flash.out / "model.inp", watch=watch, step_s=60, start=flash.engine.start)
    for gid, g in {**s["gauges"], **s["access_points"]}.items():
        assert alone["peaks"][g["junction"]][0] == pytest.approx(g["peak_stage_m"], abs=5e-4), gid
    assert alone["flow_routing_continuity_error_pct"] == pytest.approx(
        s["swmm"]["flow_routing_continuity_error_pct"], abs=1e-3
    )


def test_run_folder_holds_every_output(flash):
    names = {p.name for p in flash.out.iterdir()}
    assert {"summary.json", "timeseries.parquet", "events.parquet", "model.inp", "scenario.resolved.yaml"} <= names
    ts = pd.read_parquet(flash.out / "timeseries.parquet")
    assert list(ts.columns) == ["time_s", "entity_id", "variable", "value", "unit"]
    assert set(ts["unit"]) == {"m", "mm"}
    ev = pd.read_parquet(flash.out / "events.parquet")
    assert {"rain.advisory", "stage.threshold_up", "path.flooded"} <= set(ev["kind"])
    # the resolved scenario runs again
    assert load_scenario(flash.out / "scenario.resolved.yaml").rainfall.total_mm == 90


def test_summary_fields_and_threshold_events_match_the_stage_series(flash):
    s = flash.summary
    ts = pd.read_parquet(flash.out / "timeseries.parquet")
    g = s["gauges"]["LS-1018665"]
    assert {"peak_stage_m", "time_of_peak", "threshold_crossings", "peak_discharge_m3s"} <= set(g)
    stage = ts[(ts.entity_id == "LS-1018665") & (ts.variable == "stage")].set_index("time_s")["value"]
    attention = g["thresholds_m"]["attention"]
    ups = [c for c in g["threshold_crossings"] if c["level"] == "attention" and c["direction"] == "up"]
    assert ups, "90 mm in 3 h lifts 신곡교 above 관심"
    t_up = ups[0]["time_s"]
    assert stage[t_up] >= attention and (stage[stage.index < t_up] < attention).all()
    downs = [c for c in g["threshold_crossings"] if c["level"] == "attention" and c["direction"] == "down"]
    if downs:
        assert stage[downs[0]["time_s"]] < attention
    assert stage.max() <= g["peak_stage_m"] + 5e-4  # sampled stage never above the continuous peak (mm rounding)


def test_paths_flood_exactly_when_stage_passes_the_path(flash):
    s = flash.summary
    ts = pd.read_parquet(flash.out / "timeseries.parquet")
    stage = ts[ts.variable == "stage"]
    checked = 0
    for aid, a in s["access_points"].items():
        series = stage[stage.entity_id == aid].set_index("time_s")["value"]
        t = a["path_flooded_at_s"]
        if t is None:
            assert (series <= a["path_height_m"]).all()
            continue
        assert series[t] > a["path_height_m"] and (series[series.index < t] <= a["path_height_m"]).all()
        if a["first_alert"] is not None:
            assert a["warning_lead_time_s"] == pytest.approx(t - a["first_alert"]["time_s"])
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("pattern", ["huff_q1", "huff_q4", "alternating_block"])
def test_more_rain_never_lowers_a_peak_stage(city, pattern):
    """Property: scaling the same storm up never lowers the peak stage anywhere (gauges, paths)."""
    peaks = []
    for total in (25.0, 60.0, 110.0):
        data = _storm(total)
        data["rainfall"]["pattern"] = pattern
        r = run_scenario(scenario_from_mapping(data, source=REPO / "t.yaml"), city=city)
        peaks.append({k: v["peak_stage_m"] for k, v in {**r.summary["gauges"], **r.summary["access_points"]}.items()})
    for lo, hi in zip(peaks[:-1], peaks[1:], strict=True):
        for k in lo:
            assert hi[k] >= lo[k] - 1e-3, k
    assert peaks[-1]["LS-1018665"] > peaks[0]["LS-1018665"] + 0.5


def test_no_rain_leaves_every_stage_at_base_flow(city):
    """Flat stages, no alerts, no flooded path; Jungnangcheon at the normal depth of its base flow."""
    r = run_scenario(scenario_from_mapping(_storm(0, kind="none", duration="6h"), source=REPO / "t.yaml"), city=city)
    s = r.summary
    ts = r.engine.recorder.to_frame()
    stage = ts[ts.variable == "stage"].groupby("entity_id")["value"]
    assert (stage.max() - stage.min()).max() < 0.02  # m
    assert not any(g["threshold_crossings"] for g in s["gauges"].values())
    assert s["flooded_paths"]["count"] == 0 and not s["rain"]["kma_alerts"]
    # 신곡교 on Jungnangcheon: the stage is the Manning normal depth of 1 m3/s there (within 25 %)
    setup = build_flood_model(
        city,
        {},
        start=r.engine.start,
        duration_s=3600,
        hydraulics=scenario_from_mapping(_storm(0, kind="none"), source=REPO / "t.yaml").hydraulics,
    )
    net = setup.network
    j = net.entity_node["LS-1018665"]
    c = next(c for c in net.conduits if c.upstream == j)
    slope = (net.junctions[c.upstream].invert_m - net.junctions[c.downstream].invert_m) / c.length_m
    y = normal_depth_m(
        1.0, bottom_width_m=c.bottom_width_m, side_slope=c.side_slope, slope=slope, manning_n=c.manning_n
    )
    assert s["gauges"]["LS-1018665"]["peak_stage_m"] == pytest.approx(y, rel=0.25)
    # tributaries carry no base flow
    assert s["gauges"]["LS-1018666"]["peak_stage_m"] < 0.01


def test_normal_depth_solves_manning():
    y = normal_depth_m(50.0, bottom_width_m=20.0, side_slope=2.0, slope=0.002, manning_n=0.035)
    area = y * (20 + 2 * y)
    radius = area / (20 + 2 * y * np.sqrt(5))
    assert area * radius ** (2 / 3) * np.sqrt(0.002) / 0.035 == pytest.approx(50.0, rel=1e-9)


def test_peak_discharge_at_singok_matches_the_rational_method(flash, city):
    """Documented in docs/flood.md: SWMM's peak at 신곡교 within a factor 1.5 of Q = C i A / 3.6."""
    s = load_scenario(FLASH)
    rain = rain_field(s.rainfall, rain_gauges(city))
    setup = build_flood_model(city, rain, start=s.start, duration_s=s.duration_s, hydraulics=s.hydraulics)
    net = setup.network
    G = nx.DiGraph()
    G.add_weighted_edges_from((c.upstream, c.downstream, c.length_m) for c in net.conduits)
    gauge = net.entity_node["LS-1018665"]
    above = nx.ancestors(G, gauge) | {gauge}
    subs = [x for x in setup.subcatchments if x.outlet in above]
    length = nx.shortest_path_length(G, net.top_nodes["중랑천"], gauge, weight="weight") + 3000.0
    h = next(iter(rain.values()))
    est = rational_peak(
        areas_ha=np.array([x.area_ha for x in subs]),
        imperv_pct=np.array([x.imperv_pct for x in subs]),
        depths_mm=h.depths_mm,
        interval_s=h.interval_s,
        channel_length_m=length,
    )
    assert est.area_km2 == pytest.approx(80.4, abs=0.05)
    q = flash.summary["gauges"]["LS-1018665"]["peak_discharge_m3s"]
    assert 1 / 1.5 <= q / est.peak_m3s <= 1.5, (q, est)


def test_same_scenario_and_seed_give_identical_files(city, tmp_path):
    scen = scenario_from_mapping(_storm(50, duration="3h"), source=REPO / "t.yaml")
    a = run_scenario(scen, out=tmp_path / "a", city=city).out
    b = run_scenario(scen, out=tmp_path / "b", city=city).out
    for name in ("summary.json", "timeseries.parquet", "events.parquet", "model.inp", "scenario.resolved.yaml"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_twin_run_cli(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["run", str(FLASH), "--out", str(out), "--quiet", "--set", "duration=4h"])
    assert res.exit_code == 0, res.output
    assert "LS-1018665: peak stage" in res.output and (out / "summary.json").is_file()
    res = CliRunner().invoke(main, ["run", str(FLASH), "--out", str(out), "--set", "rainfall.total_mm=-3"])
    assert res.exit_code == 2 and "rainfall.total_mm: got -3" in res.output and "Traceback" not in res.output


def test_last_sample_is_taken_when_the_interval_does_not_divide_the_run(city):
    data = _storm(40, duration="3h")
    data["hydraulics"] = {"sample_interval": "7min"}
    r = run_scenario(scenario_from_mapping(data, source=REPO / "t.yaml"), city=city)
    times, _ = r.engine.recorder.series("LS-1018665", "stage")
    assert times[-1] == 3 * 3600 and times[-2] == 25 * 420  # 10500 s, then the short last step


def test_bad_run_inputs_fail_before_the_work_with_one_message(city, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "keep.txt").write_text("x", encoding="utf-8")
    scen = scenario_from_mapping(_storm(10, duration="3h"), source=REPO / "t.yaml")
    from twin.errors import OutputError

    with pytest.raises(OutputError, match="not an output of this tool"):
        run_scenario(scen, out=folder, city=city)
    assert (folder / "keep.txt").exists()
    csv = tmp_path / "rain.csv"
    csv.write_text("time,gauge_id,mm\n2026-07-15T14:00:00+09:00,OTHER,5\n2026-07-15T14:10:00+09:00,OTHER,5\n")
    data = _storm(0, duration="1h")
    data["rainfall"] = {"kind": "observed", "csv": str(csv)}
    from twin.errors import DataImportError

    with pytest.raises(DataImportError, match="none of the CSV's gauges"):
        run_scenario(scenario_from_mapping(data, source=tmp_path / "s.yaml"), city=city)
