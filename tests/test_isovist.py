"""The occluded view against hand-computed scenes and against the exact point-by-point oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely import affinity
from shapely.geometry import Point, box

from twin.models.isovist import ARC_TOLERANCE_M, Occluders, isovist, ray_isovist, visible

EMPTY = Occluders.empty()


def _sector_area(r: float, fov_deg: float) -> float:
    return fov_deg / 360 * math.pi * r * r


def _arc_error(r: float, fov_deg: float) -> float:
    """Most area the chords can lose against the arc: arc length × sagitta tolerance."""
    return r * math.radians(fov_deg) * ARC_TOLERANCE_M


@pytest.mark.parametrize("fov", [30.0, 90.0, 179.0, 270.0, 360.0])
def test_an_open_field_gives_the_sector_area(fov):
    p = isovist(10, -20, EMPTY, heading_deg=33, fov_deg=fov, range_m=40)
    assert p.is_valid
    assert p.area == pytest.approx(_sector_area(40, fov), abs=_arc_error(40, fov))
    assert p.area <= _sector_area(40, fov) + 1e-9


def test_a_building_between_camera_and_target_hides_it():
    occ = Occluders.from_polygons([box(10, -2, 12, 2)])
    p = isovist(0, 0, occ, heading_deg=90, fov_deg=90, range_m=40)
    hidden, beside = Point(20, 0), Point(20, 8)
    assert not p.contains(hidden) and p.contains(beside)
    assert visible(0, 0, [20, 20], [0, 8], occ, heading_deg=90, fov_deg=90, range_m=40).tolist() == [False, True]


def test_the_shadow_of_a_wall_across_the_view_is_the_hand_computed_area():
    """A wall x = 10, |y| ≤ 5 before a camera at the origin looking east over 90° to 30 m: the
    shadow is the sector of half-angle atan(0.5) beyond the wall, r from 10/cos to 30, which is
    the circular sector of that angle minus the triangle before the wall."""
    occ = Occluders.from_polygons([box(10, -5, 10.001, 5)])
    p = isovist(0, 0, occ, heading_deg=90, fov_deg=90, range_m=30)
    a = math.atan(0.5)
    shadow = a * 30**2 - 10 * 5  # sector of angle 2a (area a r²) minus the triangle (10 × 10 / 2)
    want = _sector_area(30, 90) - shadow
    assert p.area == pytest.approx(want, abs=_arc_error(30, 90) + 0.01)


def test_facing_away_sees_nothing_behind_and_the_fov_edges_hold():
    p = isovist(0, 0, EMPTY, heading_deg=0, fov_deg=60, range_m=50)
    assert not p.contains(Point(0, -10))  # behind
    for a, inside in ((29.0, True), (-29.0, True), (31.0, False), (-31.0, False)):
        q = Point(20 * math.sin(math.radians(a)), 20 * math.cos(math.radians(a)))
        assert p.contains(q) is inside, a
    assert p.contains(Point(0, 49.9)) and not p.contains(Point(0, 50.1))


@pytest.mark.parametrize("angle, dx, dy", [(37.0, 1234.5, -678.9), (180.0, -50.0, 20.0), (301.0, 195000.0, 560000.0)])
def test_rotating_and_translating_the_scene_keeps_the_view(angle, dx, dy):
    rng = np.random.default_rng(3)
    blds = [box(x, y, x + 4, y + 6) for x, y in rng.uniform(-40, 40, (20, 2))]
    cam = (1.0, 2.0)
    if any(b.buffer(0.5).contains(Point(cam)) for b in blds):
        pytest.skip("the random scene put a building on the camera")
    p = isovist(*cam, Occluders.from_polygons(blds), heading_deg=70, fov_deg=120, range_m=45)

    def move(g):
        return affinity.translate(affinity.rotate(g, -angle, origin=(0, 0)), dx, dy)  # clockwise by angle

    moved = Occluders.from_polygons([move(b) for b in blds])
    c = move(Point(cam))
    q = isovist(c.x, c.y, moved, heading_deg=(70 + angle) % 360, fov_deg=120, range_m=45)
    assert q.area == pytest.approx(p.area, rel=1e-6)
    assert move(p).symmetric_difference(q).area < 1e-3 * p.area + _arc_error(45, 120)


def test_the_isovist_agrees_with_the_exact_oracle_and_the_ray_cast_less_so():
    """30 random buildings, four cameras, 20,000 random points each. Points closer to the
    polygon's boundary than the arc tolerance are left out (the chords cut the arc by up to that)."""
    rng = np.random.default_rng(11)
    corners, sizes = rng.uniform(-50, 50, (30, 2)), rng.uniform(2, 10, (30, 2))
    blds = [box(x, y, x + w, y + h) for (x, y), (w, h) in zip(corners, sizes, strict=True)]
    occ = Occluders.from_polygons(blds)
    exact_agree, ray_agree = [], []
    for x, y, h, f in ((0, 0, 30, 120), (55, 55, 200, 90), (-10, 5, 0, 360), (-60, -60, 45, 60)):
        px, py = rng.uniform(-70, 70, (2, 20000))
        truth = visible(x, y, px, py, occ, heading_deg=h, fov_deg=f, range_m=60)
        p = isovist(x, y, occ, heading_deg=h, fov_deg=f, range_m=60)
        r = ray_isovist(x, y, occ, heading_deg=h, fov_deg=f, range_m=60, n_rays=360)
        far = shapely.distance(p.boundary, shapely.points(px, py)) > ARC_TOLERANCE_M
        exact_agree.append((shapely.contains_xy(p, px, py) == truth)[far].mean())
        ray_agree.append((shapely.contains_xy(r, px, py) == truth)[far].mean())
    assert min(exact_agree) == 1.0
    assert min(ray_agree) > 0.98 and min(ray_agree) < 1.0  # the ray cast cuts corners


def test_a_camera_on_a_wall_sees_out_of_its_own_building():
    b = box(0, 0, 10, 10)
    occ = Occluders.from_polygons([b, box(20, 0, 22, 10)])
    on_wall = isovist(10, 5, occ, heading_deg=90, fov_deg=90, range_m=30)
    inside = isovist(9, 5, occ, heading_deg=90, fov_deg=90, range_m=30)
    assert on_wall.contains(Point(15, 5)) and not on_wall.contains(Point(25, 5))
    assert inside.area > 0
    corner = isovist(10, 10, occ, heading_deg=45, fov_deg=90, range_m=30)  # exactly on a corner
    assert corner.is_valid and corner.area > 0


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(heading_deg=0, fov_deg=0, range_m=10), "fov_deg"),
        (dict(heading_deg=0, fov_deg=400, range_m=10), "fov_deg"),
        (dict(heading_deg=0, fov_deg=90, range_m=0), "range_m"),
        (dict(heading_deg=float("nan"), fov_deg=90, range_m=10), "heading_deg"),
    ],
)
def test_bad_arguments_name_the_field(kw, match):
    with pytest.raises(ValueError, match=match):
        isovist(0, 0, EMPTY, **kw)
