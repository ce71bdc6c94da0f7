"""Coverage metrics on hand-computed scenes (tests/coverage_scene.py): a 200 m street along
y = 5 m, cameras at the origin, a building casting a shadow whose ends follow from its corners.

Camera optics: 1920 px over 90° give a detection range of 1920 / (2 · 25 · tan 45°) = 38.4 m,
observation 15.36 m, recognition 7.68 m (mounted at face height, so ground ranges equal them). A
camera at the origin looking east over 90° sees the street y = 5 from x = 5 (the 45° edge) to
x = √(R² − 25). Samples every 0.25 m: a share is exact to within one sample at each edge.
"""

from __future__ import annotations

import json
import math

import geopandas as gpd
import pandas as pd
import pytest
from coverage_scene import Cam, Scene
from shapely.geometry import box

from twin.city import load_city
from twin.coverage.assess import CoverageOptions, assess, write_assessment
from twin.coverage.exposure import Exposure

STEP = 0.25
TOL = 2 * STEP  # m of length: one sample at each end of a seen stretch
R_DET, R_OBS, R_REC = 38.4, 15.36, 7.68
STREET = [("r1", [(-100.0, 5.0), (100.0, 5.0)], "sidewalk", 2.0)]
SHADOW = box(20, 2, 25, 3)  # hides the street from x = 5/0.15 = 33.33 to x = 5/0.08 = 62.5


def _seen_m(a, zone: str = "rest", level: str = "detection", k: int = 1, night: bool = False) -> float:
    m = a.coverage["night" if night else "day"][zone]
    return m["levels"][level][f"length_share_{k}"] * m["length_m"]


def _assess(tmp_path, scene: Scene, **kw):
    return assess(scene.city(tmp_path / "city", **kw), CoverageOptions(step_m=STEP))


def _on_street(x: float) -> float:
    return math.sqrt(x * x - 25.0)


def test_a_camera_sees_the_street_between_its_fov_edge_and_each_dori_range(tmp_path):
    a = _assess(tmp_path, Scene(STREET, cameras=[Cam(0, 0, 90)]))
    assert a.coverage["day"]["rest"]["length_m"] == pytest.approx(200.0)
    assert _seen_m(a) == pytest.approx(_on_street(R_DET) - 5, abs=TOL)
    assert _seen_m(a, level="observation") == pytest.approx(_on_street(R_OBS) - 5, abs=TOL)
    assert _seen_m(a, level="recognition") == pytest.approx(_on_street(R_REC) - 5, abs=TOL)
    assert _seen_m(a, level="identification") == 0.0  # 3.84 m does not reach the street
    # area: the street is 2 m wide
    m = a.coverage["day"]["rest"]
    assert m["levels"]["detection"]["area_share_1"] * m["area_m2"] == pytest.approx(
        2 * (_on_street(R_DET) - 5), abs=2 * TOL
    )


def test_a_building_between_camera_and_street_hides_its_shadow(tmp_path):
    a = _assess(tmp_path, Scene(STREET, buildings=[SHADOW], cameras=[Cam(0, 0, 90)]))
    assert _seen_m(a) == pytest.approx(5 / 0.15 - 5, abs=TOL)  # the shadow starts at the corner (20, 3)
    spots = a.blind_spots.sort_values("from_m")
    assert list(spots["length_m"].round(0)) == [105.0, round(100 - 5 / 0.15)]
    assert spots["zone"].tolist() == ["rest", "rest"]


def test_a_camera_facing_away_sees_nothing_on_that_side(tmp_path):
    a = _assess(tmp_path, Scene([("r1", [(5.0, 5.0), (100.0, 5.0)], "sidewalk", 2.0)], cameras=[Cam(0, 0, 270)]))
    assert _seen_m(a) == 0.0
    assert a.blind_spots["length_m"].sum() == pytest.approx(95.0, abs=TOL)


def test_two_cameras_count_their_overlap_once_for_one_and_once_for_two(tmp_path):
    a = _assess(tmp_path, Scene(STREET, buildings=[SHADOW], cameras=[Cam(0, 0, 90), Cam(70, 0, 270)]))
    far = 70 - _on_street(R_DET)  # the west camera's far edge, 31.93 m
    assert _seen_m(a) == pytest.approx(65 - 5, abs=TOL)
    assert _seen_m(a, k=2) == pytest.approx(5 / 0.15 - far, abs=TOL)


def test_at_night_a_camera_sees_only_as_far_as_its_infrared(tmp_path):
    a = _assess(tmp_path, Scene(STREET, cameras=[Cam(0, 0, 90, ir_range_m=20.0), Cam(0, 0, 270)]))
    assert _seen_m(a, night=True) == pytest.approx(_on_street(20.0) - 5, abs=TOL)  # the second has no IR
    assert _seen_m(a) == pytest.approx(2 * (_on_street(R_DET) - 5), abs=2 * TOL)


@pytest.mark.parametrize("angle, dx, dy", [(37.0, 123.4, -45.6), (90.0, 0.0, 0.0), (200.0, -350.0, 80.0)])
def test_rotating_and_translating_the_whole_scene_leaves_the_metrics_unchanged(tmp_path, angle, dx, dy):
    scene = Scene(STREET, buildings=[SHADOW], cameras=[Cam(0, 0, 90), Cam(70, 0, 270), Cam(-30, 20, 200, fov_deg=60)])
    a = _assess(tmp_path / "a", scene)
    b = _assess(tmp_path / "b", scene.moved(angle, dx, dy))
    for level in ("detection", "observation", "recognition"):
        for k in (1, 2):
            assert _seen_m(b, level=level, k=k) == pytest.approx(_seen_m(a, level=level, k=k), abs=TOL)
    assert b.blind_spots["length_m"].sum() == pytest.approx(a.blind_spots["length_m"].sum(), abs=2 * TOL)


def test_a_school_zone_reaches_its_distance_from_the_school(tmp_path):
    scene = Scene(STREET, cameras=[Cam(0, 0, 90)], facilities=[("F-SCH-1", "school", (0.0, 150.0))])
    a = _assess(tmp_path, scene, manifest={"school_zone_m": 150})
    half = math.sqrt(150**2 - 145**2)  # the street within 150 m of (0, 150): |x| ≤ 38.4
    assert a.coverage["day"]["school_zone"]["length_m"] == pytest.approx(2 * half, abs=TOL)
    assert a.coverage["day"]["rest"]["length_m"] == pytest.approx(200 - 2 * half, abs=TOL)
    assert _seen_m(a, zone="school_zone") == pytest.approx(_on_street(R_DET) - 5, abs=TOL)


def test_the_outputs_are_written_and_read_back(tmp_path):
    a = _assess(tmp_path, Scene(STREET, buildings=[SHADOW], cameras=[Cam(0, 0, 90)]))
    files = write_assessment(a, tmp_path / "out")
    assert {f.name for f in files} == {"coverage.json", "blind_spots.gpkg", "blind_spots.geojson", "views.geojson"}
    spots = gpd.read_file(tmp_path / "out" / "blind_spots.gpkg")
    assert spots.crs.to_epsg() == 5186 and len(spots) == 2
    assert gpd.read_file(tmp_path / "out" / "blind_spots.geojson").crs.to_epsg() == 4326
    views = gpd.read_file(tmp_path / "out" / "views.geojson")
    assert set(views["level"]) == {"detection", "observation", "recognition", "identification"}
    cov = json.loads((tmp_path / "out" / "coverage.json").read_text(encoding="utf-8"))
    assert cov["cameras"] == 1 and cov["levels"][0] == "detection"


def test_person_seconds_seen_follow_the_share_of_each_link_seen(tmp_path):
    """3,600 person-seconds on the street at 10:00 and 1,800 at 22:00 (night, no IR): the share
    seen is the share of the street's length the camera sees by day, and nothing at night."""
    city = Scene(STREET, cameras=[Cam(0, 0, 90)]).city(tmp_path / "city")
    ps = pd.DataFrame(0.0, index=["r1"], columns=range(24))
    ps.loc["r1", 10], ps.loc["r1", 22] = 3600.0, 1800.0
    a = assess(city, CoverageOptions(step_m=STEP), exposure=Exposure(ps, tmp_path))
    z = a.coverage["person_seconds"]["zones"]["rest"]
    hours = {h["hour"]: h for h in z["hours"]}
    assert hours[10]["person_s"] == pytest.approx(3600) and hours[22]["person_s"] == pytest.approx(1800)
    assert hours[10]["seen_share"] == pytest.approx((_on_street(R_DET) - 5) / 200, abs=TOL / 200)
    assert hours[22]["seen_share"] == 0.0
    assert z["seen_share"] == pytest.approx(3600 * (_on_street(R_DET) - 5) / 200 / 5400, abs=0.01)


def test_back_roads_for_smart_paths_rank_by_unseen_length_times_people(tmp_path):
    """Two unseen back roads near a school: the longer one first by length alone, the busier one
    first when a crowd run says people walk it more per metre."""
    roads = [
        ("long", [(0.0, 0.0), (120.0, 0.0)], "road", 3.0),
        ("busy", [(120.0, 0.0), (120.0, 60.0)], "road", 3.0),
    ]
    scene = Scene(roads, facilities=[("F-SCH-1", "school", (60.0, 30.0))])
    folder = scene.write(tmp_path / "city")
    data = json.loads((folder / "roads.geojson").read_text(encoding="utf-8"))
    for f in data["features"]:
        f["properties"]["road_class"] = "local"
    (folder / "roads.geojson").write_text(json.dumps(data), encoding="utf-8")
    city = load_city(folder, cache=False)
    by_length = assess(city, CoverageOptions(step_m=STEP)).coverage["smart_path_candidates"]
    assert [c["edge_id"] for c in by_length] == ["long", "busy"]
    assert by_length[0]["unseen_m"] == pytest.approx(120, abs=TOL) and "F-SCH-1" in by_length[0]["reasons"]
    ps = pd.DataFrame(0.0, index=["long", "busy"], columns=range(24))
    ps.loc["long", 8], ps.loc["busy", 8] = 1200.0, 1800.0  # 10 vs 30 person-seconds per metre: 1,200 vs 1,800
    ranked = assess(city, CoverageOptions(step_m=STEP), exposure=Exposure(ps, tmp_path))
    assert [c["edge_id"] for c in ranked.coverage["smart_path_candidates"]] == ["busy", "long"]


def test_the_command_places_cameras_and_refuses_bad_input(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    scene = Scene(
        [
            ("p1", [(0.0, 0.0), (300.0, 0.0)], "riverside_path", 3.0),
            ("p2", [(300.0, 0.0), (300.0, 200.0)], "riverside_path", 3.0),
        ],
        buildings=[SHADOW],
        cameras=[Cam(0, 0, 90)],
    )
    data = scene.write(tmp_path / "city")
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["coverage", "--data", str(data), "--add", "2", "--budget", "50%", "--out", str(out),
                                  "--quiet"])  # fmt: skip
    assert r.exit_code == 0, r.output
    p = json.loads((out / "placement.json").read_text(encoding="utf-8"))
    timing = json.loads((out / "timing.json").read_text(encoding="utf-8"))
    assert set(timing) == {"greedy", "exact", "budget.exact", "budget.greedy"} and "solve_s" not in json.dumps(p)
    first = (out / "placement.json").read_bytes()
    again = CliRunner().invoke(main, ["coverage", "--data", str(data), "--add", "2", "--budget", "50%", "--out",
                                      str(tmp_path / "again"), "--quiet"])  # fmt: skip
    assert again.exit_code == 0 and (tmp_path / "again" / "placement.json").read_bytes() == first  # byte for byte
    for name in ("coverage.json", "blind_spots.gpkg", "blind_spots.geojson", "views.geojson"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    assert p["exact"]["status"] == "optimal" and p["exact"]["share"] >= p["greedy"]["share"] > p["before_share"]
    assert p["budget"]["exact"]["share"] >= 0.5 and p["budget"]["exact"]["cameras"] <= p["budget"]["greedy"]["cameras"]
    assert "placing 2 cameras" in r.output and "riverside_path" in r.output
    bad = CliRunner().invoke(main, ["coverage", "--data", str(data), "--budget", "lots", "--out", str(out)])
    assert bad.exit_code == 2 and "--budget: got 'lots'" in bad.output
    zone = CliRunner().invoke(
        main, ["coverage", "--data", str(data), "--add", "1", "--zones", "parks", "--out", str(out)]
    )
    assert zone.exit_code == 2 and "zones: got 'parks'" in zone.output


def test_reaiming_turns_a_camera_facing_away_toward_the_path_and_never_does_worse(tmp_path):
    path = [("p1", [(-100.0, 5.0), (100.0, 5.0)], "riverside_path", 3.0)]
    away = assess(Scene(path, cameras=[Cam(0, 0, 180)]).city(tmp_path / "a"), CoverageOptions(step_m=STEP, reaim=True))
    p = away.placement
    assert p["before_share"] == 0.0
    # best of the 8 headings: 45° (or 315°), whose sector from north to east sees x = 0 … √(R² − 25)
    assert p["exact"]["share"] == pytest.approx(_on_street(R_DET) / 200, abs=TOL / 200)
    assert p["exact"]["poses"][0]["heading_deg"] in (45.0, 315.0)
    good = Scene(path, cameras=[Cam(0, 0, 100)]).city(tmp_path / "b")  # 100° is not among the 8 headings
    q = assess(good, CoverageOptions(step_m=STEP, reaim=True)).placement
    assert q["exact"]["share"] >= q["before_share"] > 0


def test_the_command_refuses_an_out_folder_it_did_not_write(tmp_path):
    from click.testing import CliRunner

    from twin.cli import main

    data = Scene(STREET, cameras=[Cam(0, 0, 90)]).write(tmp_path / "city")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep", encoding="utf-8")
    refused = CliRunner().invoke(main, ["coverage", "--data", str(data), "--out", str(notes), "--quiet"])
    assert refused.exit_code == 2 and "not an output of this tool" in refused.output
    assert sorted(p.name for p in notes.iterdir()) == ["mine.txt"]  # nothing written into someone's folder
    a_file = CliRunner().invoke(main, ["coverage", "--data", str(data), "--out", str(notes / "mine.txt"), "--quiet"])
    assert a_file.exit_code == 2 and "is not a directory" in a_file.output
