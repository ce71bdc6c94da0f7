"""The camera model (twin.models.camera): who is in a camera's sector, the inside/clear state with
a change event only on a transition, and a dropout fault that keeps it from reporting. Analytic
cases on a camera at the origin looking east (heading 90°, field of view 60°, range 50 m)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from shapely.geometry import box

from twin.models.camera import EVENT, CameraModel, Detection, uniform_draws
from twin.models.faults import FaultSchedule
from twin.models.isovist import Occluders
from twin.models.viewshed import Viewshed

X0, Y0 = 200_000.0, 550_000.0  # EPSG:5186 m


def camera(faults=()) -> CameraModel:
    view = Viewshed(X0, Y0, heading_deg=90.0, fov_deg=60.0, range_m=50.0)
    return CameraModel("CAM-1", view, rule="Zone-AP-1", faults=FaultSchedule(faults))


def at(bearing_deg: float, dist_m: float) -> tuple[float, float]:
    """A point ``dist_m`` from the camera at ``bearing_deg`` clockwise from north."""
    b = math.radians(bearing_deg)
    return X0 + dist_m * math.sin(b), Y0 + dist_m * math.cos(b)


def look(cam: CameraModel, t: float, *points: tuple[float, float]):
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    return cam.look(t, xs, ys)


@pytest.mark.parametrize(
    ("bearing", "dist", "inside"),
    [
        (90.0, 25.0, True),  # on the axis
        (90.0, 49.9, True),  # just within range
        (90.0, 50.0, True),  # on the arc: range is inclusive
        (90.0, 50.1, False),  # just beyond range
        (60.5, 30.0, True),  # just inside the left edge (90 - 30)
        (119.5, 30.0, True),  # just inside the right edge
        (59.0, 30.0, False),  # just outside the left edge
        (121.0, 30.0, False),  # just outside the right edge
        (270.0, 10.0, False),  # behind the camera
        (0.0, 10.0, False),  # beside it, looking north
    ],
)
def test_a_person_is_seen_only_inside_the_sector(bearing, dist, inside):
    s = look(camera(), 0.0, at(bearing, dist))
    assert s.inside is inside and s.people == int(inside)
    assert s.seen.tolist() == [inside]
    assert s.changed is inside  # from the initial clear state, only a sighting is a change


def test_counts_and_marks_only_those_in_view():
    s = look(camera(), 0.0, at(90, 10), at(270, 10), at(100, 40), at(90, 80))
    assert s.people == 2 and s.seen.tolist() == [True, False, True, False]


def test_nobody_at_all_is_clear_and_no_change():
    cam = camera()
    s = cam.look(0.0, np.empty(0), np.empty(0))
    assert (s.inside, s.people, s.changed, s.seen.shape) == (False, 0, False, (0,))


def test_changes_are_reported_only_on_transitions():
    cam = camera()
    seq = [
        (0.0, [at(270, 5)], False),  # nobody in view: still clear, no event
        (5.0, [at(90, 5)], True),  # someone walks in
        (10.0, [at(90, 6), at(95, 20)], False),  # more people: still inside, no event
        (15.0, [at(270, 5)], True),  # all gone
        (20.0, [], False),  # still clear
        (25.0, [at(80, 10)], True),
    ]
    for t, points, changed in seq:
        s = look(cam, t, *points) if points else cam.look(t, np.empty(0), np.empty(0))
        assert s.changed is changed, t
        assert cam.inside is s.inside
    assert cam.inside is True


def test_a_dropout_fault_suppresses_reporting_until_it_ends():
    fault = SimpleNamespace(
        kind="dropout", device="CAM-1", start=10.0, end=30.0, latency=0.0, magnitude=1.0, probability=0.1
    )
    cam = camera([fault])
    assert look(cam, 5.0, at(90, 5)).changed  # reported: inside
    s = look(cam, 10.0, at(270, 5))  # everyone left while the camera is down
    assert not s.inside and not s.changed and cam.inside is True  # it still reports the old state
    s = look(cam, 20.0, at(90, 5))  # and back in: nothing to report either
    assert s.inside and not s.changed and cam.inside is True
    s = look(cam, 25.0, at(270, 5))
    assert not s.changed
    s = look(cam, 30.0, at(270, 5))  # the fault has ended: the change shows now
    assert s.changed and cam.inside is False


def test_a_fault_on_another_device_does_not_stop_it():
    other = SimpleNamespace(kind="dropout", device="CAM-2", start=0.0, end=None, latency=0, magnitude=1, probability=0)
    cam = camera([other])
    assert look(cam, 1.0, at(90, 5)).changed


def test_of_camera_reads_the_dataset_row_and_names_the_rule_after_what_it_watches():
    row = {"heading_deg": 180.0, "fov_deg": 40.0, "resolution_px": 1000, "watches": "AP-07"}
    cam = CameraModel.of_camera("CAM-9", X0, Y0, row)
    # the view reaches out to the detection range, 25 px/m: 1000 / (2 · 25 · tan 20°) = 54.95 m
    assert (cam.view.heading, cam.view.fov) == (180.0, 40.0)
    assert cam.view.range == pytest.approx(1000 / (50 * math.tan(math.radians(20))))
    assert cam.rule == "Zone-AP-07"
    plain = CameraModel.of_camera("CAM-9", X0, Y0, {"watches": float("nan")})
    assert plain.rule == "Zone-CAM-9"  # watches nothing: named after itself
    assert (plain.view.heading, plain.view.fov) == (0.0, 90.0)  # the defaults: north, 90°, 1920 px
    assert plain.view.range == pytest.approx(38.4)


def test_the_change_event_is_logged_with_its_rule_and_count():
    cam = camera()
    logged = []
    engine = SimpleNamespace(log=lambda *a, **kw: logged.append((a, kw)))
    s = look(cam, 0.0, at(90, 5), at(91, 6))
    cam.log(engine, s)
    s = look(cam, 5.0, at(270, 5))
    cam.log(engine, s)
    assert logged == [
        ((EVENT, "CAM-1", "Zone-AP-1: someone inside"), {"inside": True, "people": 2}),
        ((EVENT, "CAM-1", "Zone-AP-1: clear"), {"inside": False, "people": 0}),
    ]


# --- detection, occlusion, night, PTZ ------------------------------------------------------------


def optics_camera(detection=None, *, night=None, occluders=None, **row) -> CameraModel:
    """1920 px over 90°, at face height: detection to 38.4 m, observation to 15.36 m."""
    base = {"heading_deg": 90.0, "fov_deg": 90.0, "resolution_px": 1920, "mount_height_m": 1.5}
    return CameraModel.of_camera(
        "CAM-D", X0, Y0, {**base, **row}, detection=detection, seed=7, night=night, occluders=occluders
    )


def test_detection_rate_per_look_is_the_probability_of_the_dori_level():
    """A person 30 m off (detection ring only) is detected at p = 0.9 per look, one at 10 m
    (observation) at 0.97: over 4,000 looks each rate lies within 4 standard errors (binomial)."""
    cam = optics_camera(Detection(detection=0.9, observation=0.97, recognition=1.0, identification=1.0))
    n = 4000
    for dist, p in ((30.0, 0.9), (10.0, 0.97)):
        x, y = at(90, dist)
        hits = sum(bool(cam.look(5.0 * i, np.array([x]), np.array([y]), np.array([42])).seen[0]) for i in range(n))
        assert abs(hits / n - p) <= 4 * math.sqrt(p * (1 - p) / n), (dist, hits / n)


def test_detection_draws_are_the_same_for_every_copy_of_a_camera():
    d = Detection(detection=0.5, observation=0.5, recognition=0.5, identification=0.5)
    xs, ys = (np.array([c]) for c in at(90, 20))
    a, b = optics_camera(d), optics_camera(d)
    first = [a.look(float(t), xs, ys, np.array([3])).people for t in range(200)]
    again = [b.look(float(t), xs, ys, np.array([3])).people for t in range(200)]
    assert first == again and 60 < sum(first) < 140
    u = uniform_draws(7, "CAM-D", np.arange(100_000), 12.5)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.005


def test_a_building_in_front_hides_the_person_behind_it():
    wall = Occluders.from_polygons([box(X0 + 10, Y0 - 3, X0 + 11, Y0 + 3)])
    cam = optics_camera(occluders=wall)
    behind, beside = at(90, 20), at(60, 20)
    s = look(cam, 0.0, behind, beside)
    assert s.seen.tolist() == [False, True]


def test_at_night_a_camera_without_infrared_sees_nobody_and_one_with_it_sees_as_far_as_it_reaches():
    dark = optics_camera(night=lambda t: True)
    assert not look(dark, 0.0, at(90, 5)).inside
    lit = optics_camera(night=lambda t: True, ir_range_m=20.0)
    assert look(lit, 0.0, at(90, 19), at(90, 25)).seen.tolist() == [True, False]


def test_a_ptz_camera_sees_what_its_tour_points_at_now():
    ptz = optics_camera(fov_deg=40.0, ptz_sweep_deg=180.0, ptz_period_s=60.0)  # pans 0°..180° and back
    north = at(0, 10)
    seen = [bool(look(ptz, float(t), north).inside) for t in range(0, 60, 5)]
    # heading 90 at t 0, 180 at 15, 90 at 30, 0 at 45: north (±20°) is in view only around t = 45 s
    assert seen == [False, False, False, False, False, False, False, False, False, True, False, False]
