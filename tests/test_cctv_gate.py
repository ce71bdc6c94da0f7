"""A gate whose camera cannot see its gate zone: a wall stands between camera CAM-G02 and its
access point (AP-JN-L07, 중랑천). The controller, waiting for its camera to report the zone clear
before closing, closes on people it cannot see; the verdict's people-at-closure check catches it;
and the same camera moved to where it sees the zone fixes it. The coverage assessment says the
same before any run: with the wall, no camera sees the access point."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from pyproj import Transformer
from shapely.geometry import Point, box
from shapely.ops import linemerge, unary_union

from twin.city import load_city
from twin.coverage.assess import CoverageOptions, assess

REPO = Path(__file__).resolve().parents[1]
GATE, CAMERA, ACCESS = "G02", "CAM-G02", "AP-JN-L07"


def _edit(folder: Path, *, wall: bool, camera_at: tuple[float, float, float] | None = None) -> None:
    """Put a wall 4 m in front of the camera (across its view) and/or move it to (x, y, heading),
    editing the GeoJSON files as JSON (nothing else in them changes)."""
    to_grid = Transformer.from_crs(4326, 5186, always_xy=True)
    to_wgs = Transformer.from_crs(5186, 4326, always_xy=True)
    dev_path = folder / "devices.geojson"
    devices = json.loads(dev_path.read_text(encoding="utf-8"))
    feat = next(f for f in devices["features"] if f["properties"]["device_id"] == CAMERA)
    cx, cy = to_grid.transform(*feat["geometry"]["coordinates"])
    if wall:
        h = math.radians(float(feat["properties"]["heading_deg"]))
        wx, wy = cx + 4 * math.sin(h), cy + 4 * math.cos(h)
        ring = [to_wgs.transform(x, y) for x, y in box(wx - 0.5, wy - 10, wx + 0.5, wy + 10).exterior.coords]
        b_path = folder / "buildings.geojson"
        buildings = json.loads(b_path.read_text(encoding="utf-8"))
        props = dict(buildings["features"][0]["properties"], building_id="B-WALL", year_built=2020)
        geometry = {"type": "Polygon", "coordinates": [[list(p) for p in ring]]}
        buildings["features"].append({"type": "Feature", "properties": props, "geometry": geometry})
        b_path.write_text(json.dumps(buildings, ensure_ascii=False), encoding="utf-8")
    if camera_at is not None:
        x, y, heading = camera_at
        feat["geometry"]["coordinates"] = list(to_wgs.transform(x, y))
        feat["properties"]["heading_deg"] = round(heading, 1)
    dev_path.write_text(json.dumps(devices, ensure_ascii=False), encoding="utf-8")


def _flow_past_the_access_point(city) -> tuple[list[float], list[float]]:
    """Two walk-graph nodes on the riverside path, the nearest more than 30 m before and after the
    access point along the path (EPSG:5186): a stream of walkers between them passes through
    its camera zone."""
    ap = city.layer("access_points").set_index("access_id").geometry[ACCESS]
    roads = city.layer("roads")
    path = roads[(roads["kind"] == "riverside_path") & (roads.distance(ap) < 400)]
    line = linemerge(unary_union(list(path.geometry)))
    if line.geom_type == "MultiLineString":
        line = min(line.geoms, key=lambda g: g.distance(ap))
    s = line.project(ap)
    ends = {c for g in path.geometry for c in (g.coords[0], g.coords[-1])}
    along = sorted((line.project(Point(c)), c) for c in ends if line.distance(Point(c)) < 1.0)
    before = max((a for a in along if a[0] < s - 30), default=None)
    after = min((a for a in along if a[0] > s + 30), default=None)
    assert before is not None and after is not None, "no path nodes on both sides of the access point"
    return list(before[1]), list(after[1])


def _run(tmp_path: Path, dataset: Path) -> dict:
    from click.testing import CliRunner

    from twin.cli import main

    src = yaml.safe_load((REPO / "scenarios" / "gates" / "flash_flood_gates.yaml").read_text(encoding="utf-8"))
    city = load_city(dataset, cache=False)
    a, b = _flow_past_the_access_point(city)
    src["dataset"] = str(dataset)
    policy = yaml.safe_load((REPO / "scenarios" / "policies" / "reference_gates.yaml").read_text(encoding="utf-8"))
    # G02 closes a minute after its warning, while people are still walking out past its access point
    policy["gates"][GATE] = dict(warn_level_m=1.5, close_level_m=1.5, reopen_level_m=1.0, warn_before_close="1min")
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy), encoding="utf-8")
    src["controller"]["policy"] = str(tmp_path / "policy.yaml")
    src["controller"]["warning_reach_m"] = 1500
    src["populations"] = [{"kind": "riverside", "stream": "중랑천", "count": 3000, "arrival_window": "2h"}]
    scenario = tmp_path / "hidden_gate_zone.yaml"
    scenario.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "run"
    r = CliRunner().invoke(main, ["run", str(scenario), "--out", str(out), "--quiet"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    assert (out / "verdict.json").is_file(), r.output
    return json.loads((out / "verdict.json").read_text(encoding="utf-8"))


def _gate(verdict: dict) -> dict:
    gates = verdict["gates"]
    return gates[GATE] if isinstance(gates, dict) else next(g for g in gates if g.get("gate_id") == GATE)


@pytest.fixture
def hidden(dataset_copy):
    _edit(dataset_copy, wall=True)
    return dataset_copy


def test_coverage_says_no_camera_sees_the_hidden_access_point(hidden, dataset_copy):
    a = assess(load_city(hidden, cache=False), CoverageOptions())
    ap = next(x for x in a.coverage["access_points"] if x["access_id"] == ACCESS)
    assert ap["gate_id"] == GATE and ap["day_share"] == 0.0


def test_the_controller_closes_on_people_its_camera_cannot_see_and_the_verdict_catches_it(hidden, tmp_path):
    check = _gate(_run(tmp_path, hidden))["people_on_path_at_closure"]
    assert check["passed"] is False, check
    assert "could not see" in check["detail"] and CAMERA in check["detail"]


def test_a_better_placed_camera_fixes_it(hidden, tmp_path):
    city = load_city(hidden, cache=False)
    ap = city.layer("access_points").set_index("access_id").geometry[ACCESS]
    x, y = ap.x - 12.0, ap.y + 16.0  # 20 m off, on the path's side of the wall, looking at the access point
    heading = math.degrees(math.atan2(ap.x - x, ap.y - y)) % 360
    _edit(hidden, wall=False, camera_at=(x, y, heading))
    a = assess(load_city(hidden, cache=False), CoverageOptions())
    assert next(p for p in a.coverage["access_points"] if p["access_id"] == ACCESS)["day_share"] > 0.5
    check = _gate(_run(tmp_path, hidden))["people_on_path_at_closure"]
    assert check["passed"] is True, check
