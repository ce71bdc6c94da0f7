"""The sun model that decides night hours, against published sunrise and sunset times for Seoul
(Korea Astronomy and Space Science Institute, KASI: 37°34′N 126°59′E; the solstice times vary by
about a minute from year to year)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from twin.models.daylight import KST, SUNSET_ALTITUDE_DEG, night_hours, sun_altitude_deg

SEOUL = (37.5665, 126.978)
TOLERANCE_MIN = 4.0


def _crossing(day: date, rising: bool) -> datetime:
    """The minute the sun's altitude crosses the sunrise/sunset altitude, by bisection."""
    lo = datetime(day.year, day.month, day.day, 3 if rising else 12, tzinfo=KST)
    hi = lo + timedelta(hours=9)

    def up(t: datetime) -> bool:
        return sun_altitude_deg(*SEOUL, t) > SUNSET_ALTITUDE_DEG

    for _ in range(40):
        mid = lo + (hi - lo) / 2
        if up(mid) == rising:
            hi = mid
        else:
            lo = mid
    return lo


@pytest.mark.parametrize(
    "day, sunrise, sunset",
    [
        (date(2026, 6, 21), "05:11", "19:57"),
        (date(2026, 12, 21), "07:43", "17:17"),
        (date(2026, 3, 20), "06:35", "18:43"),
    ],
)
def test_sunrise_and_sunset_match_published_times_for_seoul(day, sunrise, sunset):
    for rising, text in ((True, sunrise), (False, sunset)):
        got = _crossing(day, rising)
        h, m = map(int, text.split(":"))
        want = datetime(day.year, day.month, day.day, h, m, tzinfo=KST)
        assert abs((got - want).total_seconds()) / 60 <= TOLERANCE_MIN, (day, text, got.time())


def test_noon_altitude_at_the_solstice_is_90_minus_latitude_plus_tilt():
    """At solar noon on the June solstice the sun stands 90° − φ + 23.44° high."""
    best = max(
        sun_altitude_deg(*SEOUL, datetime(2026, 6, 21, 11, 0, tzinfo=KST) + timedelta(minutes=m)) for m in range(120)
    )
    assert best == pytest.approx(90 - SEOUL[0] + 23.44, abs=0.3)


def test_night_hours_are_longer_in_winter_and_need_an_aware_time():
    summer, winter = night_hours(*SEOUL, date(2026, 7, 15)), night_hours(*SEOUL, date(2026, 12, 21))
    assert {0, 1, 2, 3, 21, 22, 23} <= summer and 12 not in summer
    assert summer < winter and {6, 7, 17, 18} <= winter
    with pytest.raises(ValueError, match="when"):
        sun_altitude_deg(*SEOUL, datetime(2026, 7, 15, 12))
