"""DORI ranges of a camera (IEC EN 62676-4:2015) from its resolution, field of view and mount
height (issue 16, part 1), checked against the pixel-density formula and its worked example."""

from __future__ import annotations

import math

import pytest

from twin.models.camera_optics import (
    DORI_LEVELS,
    DORI_PX_PER_M,
    dori_ground_ranges_m,
    dori_level_at,
    dori_range_m,
)


def test_the_worked_example_1920_px_at_90_degrees():
    """1920 px over 90°: D 38.4 m, O 15.4 m, R 7.7 m, I 3.8 m (scene width 2·d·tan 45° = 2d)."""
    got = {lv: dori_range_m(1920, 90.0, lv) for lv in DORI_LEVELS}
    assert got == pytest.approx({"detection": 38.4, "observation": 15.36, "recognition": 7.68, "identification": 3.84})


@pytest.mark.parametrize("level", DORI_LEVELS)
@pytest.mark.parametrize(("px", "fov"), [(1280, 60.0), (1920, 90.0), (2560, 110.0), (3840, 30.0)])
def test_at_the_range_a_person_is_shown_at_exactly_the_level_s_pixel_density(px, fov, level):
    d = dori_range_m(px, fov, level)
    scene_width_m = 2.0 * d * math.tan(math.radians(fov) / 2.0)
    assert px / scene_width_m == pytest.approx(DORI_PX_PER_M[level])
    assert dori_range_m(2 * px, fov, level) == pytest.approx(2 * d)  # twice the pixels, twice the reach
    assert dori_range_m(px, fov / 2, level) > d  # a narrower view reaches farther


def test_levels_are_ordered_and_the_best_level_at_a_distance_follows():
    ranges = [dori_range_m(1920, 90.0, lv) for lv in DORI_LEVELS]
    assert ranges == sorted(ranges, reverse=True)
    assert dori_level_at(1920, 90.0, 3.0) == "identification"
    assert dori_level_at(1920, 90.0, 10.0) == "observation"
    assert dori_level_at(1920, 90.0, 38.0) == "detection"
    assert dori_level_at(1920, 90.0, 39.0) is None


def test_a_camera_on_a_6_m_pole_reaches_less_ground():
    """The line of sight from 6 m down to a face at 1.5 m drops 4.5 m: ground reach is
    sqrt(d² − 4.5²), and identification (3.84 m) never reaches a face at all."""
    g = dori_ground_ranges_m(1920, 90.0, mount_height_m=6.0)
    assert g["detection"] == pytest.approx(math.sqrt(38.4**2 - 4.5**2))
    assert g["recognition"] == pytest.approx(math.sqrt(7.68**2 - 4.5**2))
    assert g["identification"] == 0.0
    level = dori_ground_ranges_m(1920, 90.0)  # no height given: along the ground
    assert level["identification"] == pytest.approx(3.84)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((1920, 90.0, "recognise"), "level"),
        ((0, 90.0, "detection"), "resolution_px"),
        ((1920, 180.0, "detection"), "hfov_deg"),
    ],
)
def test_bad_values_name_their_field(args, field):
    with pytest.raises(ValueError, match=rf"^{field}: got"):
        dori_range_m(*args)
