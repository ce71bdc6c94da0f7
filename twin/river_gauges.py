"""Which river gauge speaks for which stream: city facts read from the dataset's manifest.

The flood model, the evacuation trigger and the app need to know, for a city, which level gauge
(a ``level_sensor`` device, usually a WAMIS/HRFCO station) warns for each stream, which gauge is
the city's headline gauge, and how much basin lies upstream of the city. These are facts about a
city, not about the twin, so they live in the dataset, in the manifest's optional ``hydrology``
object (the Uijeongbu values in the shipped dataset):

.. code-block:: json

    "hydrology": {
      "stream_gauges": {"중랑천": "LS-1018665", "부용천": "LS-1018666", "민락천": "LS-1018666"},
      "key_gauge": "LS-1018665",
      "upstream_basins": [{"stream": "중랑천", "gauge": "LS-1018665", "area_above_gauge_km2": 80.4}]
    }

* ``stream_gauges``: stream name (as in the streams layer) -> device id of the level gauge whose
  HRFCO alerts concern that stream: they count as the warning of its riverside paths, and with the
  ``attention`` evacuation trigger its 관심 clears them.
* ``key_gauge``: the city's headline gauge (the app's stage chart and KPIs); it also warns the
  riverside paths of streams that have no gauge of their own in ``stream_gauges``. May be null.
* ``upstream_basins``: land outside the city that drains into the top of a stream, one SWMM
  subcatchment each. ``area_above_gauge_km2`` is the published basin area above ``gauge`` (km²):
  the basin outside the city is sized so that the whole area above that gauge matches it.

A dataset without ``hydrology`` (an OSM or shapefile import without gauges, a verification
geometry) has no reference gauge: warning lead times then count only each path's own level sensor
and the KMA rain advisories, and validation says so once as a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd

from .errors import Problem

MAX_BASIN_KM2 = 100_000.0
"""Largest upstream basin accepted, km² (the Han river basin is about 26,000 km²)."""
HYDROLOGY_KEYS = ("stream_gauges", "key_gauge", "upstream_basins")
BASIN_KEYS = ("stream", "gauge", "area_above_gauge_km2", "source")


@dataclass(frozen=True)
class UpstreamBasin:
    """Land outside the city draining into the top of ``stream``.

    ``gauge``: the level gauge whose published basin area is ``area_above_gauge_km2`` (km²), or
    None when the area is the basin's own.
    """

    stream: str
    gauge: str | None
    area_above_gauge_km2: float
    source: str = ""


@dataclass(frozen=True)
class RiverGauges:
    """The gauges of a city: see the module docstring for the meaning of each field."""

    stream_gauges: Mapping[str, str] = field(default_factory=dict)
    key_gauge: str | None = None
    upstream_basins: tuple[UpstreamBasin, ...] = ()

    def warning_gauge(self, stream: str) -> str | None:
        """The gauge whose alerts warn the riverside paths of ``stream``: its own, else the key gauge."""
        return self.stream_gauges.get(stream, self.key_gauge)

    def streams_of(self, gauge: str) -> list[str]:
        """The streams ``gauge`` speaks for (``stream_gauges``), in the manifest's order."""
        return [s for s, g in self.stream_gauges.items() if g == gauge]


def read_river_gauges(
    manifest: Mapping[str, Any],
    streams: gpd.GeoDataFrame | None,
    devices: gpd.GeoDataFrame | None,
    problems: list[Problem],
    warnings: list[Problem] | None = None,
) -> RiverGauges:
    """The manifest's ``hydrology`` checked against the streams and devices layers.

    Every problem names the manifest field path and what was expected; a problem leaves that
    entry out of the result. ``warnings`` (if given) gets one line when streams with riverside
    access have no warning gauge.
    """
    raw = manifest.get("hydrology", {})

    def bad(where: str, what: str) -> None:
        problems.append(Problem("manifest", None, f"hydrology{where}: {what}"))

    if not isinstance(raw, dict):
        bad("", f"expected an object with {', '.join(HYDROLOGY_KEYS)}, got {_kind(raw)}")
        return RiverGauges()
    for key in raw:
        if key not in HYDROLOGY_KEYS:
            bad(f".{_text(key)}", f"unknown key (known: {', '.join(HYDROLOGY_KEYS)})")
    stream_names = set(streams["name"]) if streams is not None and "name" in streams else set()
    level = _level_sensors(devices)

    def gauge_ok(where: str, value: Any, *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, str):
            bad(where, f"expected the device_id of a level_sensor, got {_kind(value)}")
            return False
        if value not in level:
            bad(where, f"{_text(value)} is not a level_sensor in the devices layer")
            return False
        return True

    gauges: dict[str, str] = {}
    sg = raw.get("stream_gauges", {})
    if not isinstance(sg, dict):
        bad(".stream_gauges", f"expected an object: stream name -> level_sensor device_id, got {_kind(sg)}")
        sg = {}
    for stream, gauge in sg.items():
        where = f".stream_gauges.{_text(stream)}"
        if stream not in stream_names:
            bad(where, "not a stream name of the streams layer")
        elif gauge_ok(where, gauge):
            gauges[stream] = gauge
    key = raw.get("key_gauge")
    if not gauge_ok(".key_gauge", key, nullable=True):
        key = None
    basins: list[UpstreamBasin] = []
    ub = raw.get("upstream_basins", [])
    if not isinstance(ub, list):
        bad(".upstream_basins", f"expected a list of objects, got {_kind(ub)}")
        ub = []
    for i, b in enumerate(ub):
        where = f".upstream_basins[{i}]"
        if not isinstance(b, dict):
            bad(where, f"expected an object with {', '.join(BASIN_KEYS)}, got {_kind(b)}")
            continue
        ok = True
        for k in b:
            if k not in BASIN_KEYS:
                bad(f"{where}.{_text(k)}", f"unknown key (known: {', '.join(BASIN_KEYS)})")
                ok = False
        if b.get("stream") not in stream_names:
            bad(f"{where}.stream", "expected a stream name of the streams layer")
            ok = False
        ok = gauge_ok(f"{where}.gauge", b.get("gauge"), nullable=True) and ok
        area = b.get("area_above_gauge_km2")
        area_km2 = None
        if isinstance(area, bool) or not isinstance(area, int | float) or not 0 < area <= MAX_BASIN_KM2:
            bad(f"{where}.area_above_gauge_km2", f"expected a number of km² > 0 and <= {MAX_BASIN_KM2:,.0f}")
            ok = False
        else:
            area_km2 = float(area)
        source = b.get("source", "")
        if not isinstance(source, str):
            bad(f"{where}.source", f"expected text, got {_kind(source)}")
            ok = False
        if ok and area_km2 is not None:
            basins.append(UpstreamBasin(b["stream"], b.get("gauge"), area_km2, source))
    seen = [b.stream for b in basins]
    for s in sorted({s for s in seen if seen.count(s) > 1}):
        bad(".upstream_basins", f"stream {s} has more than one upstream basin")
    result = RiverGauges(gauges, key, tuple(basins))
    if warnings is not None and key is None and stream_names - set(gauges):
        unwarned = sorted(stream_names - set(gauges))
        warnings.append(
            Problem(
                "manifest",
                None,
                "hydrology: no warning gauge for " + ", ".join(unwarned) + " (no stream_gauges entry and no "
                "key_gauge): their riverside paths are warned only by their own level sensors and KMA advisories",
            )
        )
    return result


def _level_sensors(devices: gpd.GeoDataFrame | None) -> set[str]:
    if devices is None or not len(devices) or not {"kind", "device_id"} <= set(devices.columns):
        return set()
    return set(devices.loc[devices["kind"] == "level_sensor", "device_id"])


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _text(value: Any, limit: int = 60) -> str:
    s = str(value)
    return s if len(s) <= limit else s[: limit - 1] + "…"
