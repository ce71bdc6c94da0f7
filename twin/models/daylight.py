"""Day or night: whether the sun is up, so that night hours use the cameras' infrared reach.

The sun's altitude follows the NOAA solar-position approximation (declination and equation of
time from the fractional year; Spencer 1971 series as given in NOAA's "General Solar Position
Calculations"), good to about a quarter of a degree, which puts sunrise and sunset within a few
minutes. An hour is a night hour when the sun is below −0.833° (the standard sunrise/sunset
altitude: refraction and the sun's radius) at its middle. Angles in degrees, longitude east.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

SUNSET_ALTITUDE_DEG = -0.833
KST = timezone(timedelta(hours=9))


def sun_altitude_deg(lat_deg: float, lon_deg: float, when: datetime) -> float:
    """The sun's altitude above the horizon (degrees) at latitude ``lat_deg``, longitude
    ``lon_deg`` (east positive) at the aware time ``when``."""
    if when.tzinfo is None:
        raise ValueError("when: got a naive time: expected a time with its zone")
    t = when.astimezone(UTC)
    doy = t.timetuple().tm_yday
    hour = t.hour + t.minute / 60 + t.second / 3600
    g = 2 * math.pi / 365 * (doy - 1 + (hour - 12) / 24)
    eqtime = 229.18 * (
        0.000075
        + 0.001868 * math.cos(g)
        - 0.032077 * math.sin(g)
        - 0.014615 * math.cos(2 * g)
        - 0.040849 * math.sin(2 * g)
    )
    decl = (
        0.006918
        - 0.399912 * math.cos(g)
        + 0.070257 * math.sin(g)
        - 0.006758 * math.cos(2 * g)
        + 0.000907 * math.sin(2 * g)
        - 0.002697 * math.cos(3 * g)
        + 0.00148 * math.sin(3 * g)
    )
    true_solar_min = hour * 60 + eqtime + 4 * lon_deg
    ha = math.radians(true_solar_min / 4 - 180)
    lat = math.radians(lat_deg)
    cos_zen = math.sin(lat) * math.sin(decl) + math.cos(lat) * math.cos(decl) * math.cos(ha)
    return 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zen))))


def night_hours(lat_deg: float, lon_deg: float, day: date, tz: timezone = KST) -> set[int]:
    """The local hours (0-23, in zone ``tz``) of ``day`` whose middle falls while the sun is down."""
    out = set()
    for h in range(24):
        mid = datetime(day.year, day.month, day.day, h, 30, tzinfo=tz)
        if sun_altitude_deg(lat_deg, lon_deg, mid) < SUNSET_ALTITUDE_DEG:
            out.add(h)
    return out
