"""The camera model (twin.models.camera): who is in a camera's sector, the inside/clear state with
a change event only on a transition, and a dropout fault that keeps it from reporting. Analytic
cases on a camera at the origin looking east (heading 90°, field of view 60°, range 50 m)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from twin.models.camera import EVENT, CameraModel
from twin.models.faults import FaultSchedule
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
    row = {"heading_deg": 180.0, "fov_deg": 40.0, "range_m": 30.0, "watches": "AP-07"}
    cam = CameraModel.of_camera("CAM-9", X0, Y0, row)
    assert (cam.view.heading, cam.view.fov, cam.view.range) == (180.0, 40.0, 30.0)
    assert cam.rule == "Zone-AP-07"
    plain = CameraModel.of_camera("CAM-9", X0, Y0, {"watches": float("nan")})
    assert plain.rule == "Zone-CAM-9"  # watches nothing: named after itself
    assert (plain.view.heading, plain.view.fov, plain.view.range) == (0.0, 90.0, 60.0)  # the defaults


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
