"""What a city's cameras must watch: city facts read from the dataset's manifest.

Coverage is measured over zones of the walk network, and some of them are facts about a city, not
about the twin: how far a school zone reaches from the gate (어린이보호구역: 300 m in Korean law),
which streets are watched as a whole (Uijeongbu's 행복로, with its smart poles), and how much each
zone counts when cameras are placed. They live in the manifest's optional ``surveillance`` object
(the Uijeongbu values in the shipped dataset):

.. code-block:: json

    "surveillance": {
      "school_zone_m": 300, "protection_zone_m": 300, "access_zone_m": 10,
      "streets": [{"name": "행복로", "name_en": "Haengbok-ro",
                   "line": [[127.0464, 37.7385], [127.0517, 37.7440]],
                   "corridor_m": 20, "smart_pole_spacing_m": 25, "source": "...", "approximate": true}],
      "priorities": {"access_points": 5, "riverside_path": 3, "school_zone": 3,
                     "child_protection_zone": 3, "street": 2, "rest": 1}
    }

* ``school_zone_m``, ``protection_zone_m``: reach of a school zone from the school and of a
  children's protection zone from its facility (m); ``access_zone_m``: the stretch of riverside
  path around an access point that its gate camera must see (m).
* ``streets``: streets watched as a whole, each a centre line in WGS84 lon/lat, the corridor
  half-width (m) that counts as the street and the spacing of its smart poles (m; null: none),
  which are candidate camera sites.
* ``priorities``: weight of a metre of each zone in camera placement (a metre in several zones
  counts its highest weight).

Every key is optional; a dataset without ``surveillance`` gets the defaults below and no streets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem
from .validation_messages import _show

ZONES = ("access_points", "riverside_path", "school_zone", "child_protection_zone", "street", "rest")
"""The coverage zones, most specific first; ``rest`` is the walk network outside every other."""
DEFAULT_PRIORITIES: dict[str, float] = {
    "access_points": 5.0,
    "riverside_path": 3.0,
    "school_zone": 3.0,
    "child_protection_zone": 3.0,
    "street": 2.0,
    "rest": 1.0,
}
SURVEILLANCE_KEYS = ("school_zone_m", "protection_zone_m", "access_zone_m", "streets", "priorities")
STREET_KEYS = ("name", "name_en", "line", "corridor_m", "smart_pole_spacing_m", "source", "approximate")
MAX_ZONE_M = 5000.0


@dataclass(frozen=True)
class WatchedStreet:
    """A street watched as a whole: ``line`` (lon, lat) pairs in WGS84, ``corridor_m`` half-width
    in m, smart poles every ``smart_pole_spacing_m`` m along it (None: none)."""

    name: str
    line: tuple[tuple[float, float], ...]
    corridor_m: float = 20.0
    smart_pole_spacing_m: float | None = None
    name_en: str | None = None
    source: str = ""
    approximate: bool = True


@dataclass(frozen=True)
class Surveillance:
    """The manifest's ``surveillance``: see the module docstring for each field (distances in m)."""

    school_zone_m: float = 300.0
    protection_zone_m: float = 300.0
    access_zone_m: float = 10.0
    streets: tuple[WatchedStreet, ...] = ()
    priorities: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))


def read_surveillance(manifest: Mapping[str, Any], problems: list[Problem]) -> Surveillance:
    """The manifest's ``surveillance`` checked: every problem names the field path and what was
    expected, and leaves that entry at its default."""
    raw = manifest.get("surveillance", {})

    def bad(where: str, what: str) -> None:
        problems.append(Problem("manifest", None, f"surveillance{where}: {what}"))

    if not isinstance(raw, dict):
        bad("", f"expected an object with {', '.join(SURVEILLANCE_KEYS)}, got {_show(raw)}")
        return Surveillance()
    for key in raw:
        if key not in SURVEILLANCE_KEYS:
            bad(f".{_show(key)}", f"unknown key (known: {', '.join(SURVEILLANCE_KEYS)})")
    out: dict[str, Any] = {}
    for key in ("school_zone_m", "protection_zone_m", "access_zone_m"):
        if key in raw:
            v = _distance(raw[key], f".{key}", bad, nullable=False)
            if v is not None:
                out[key] = v
    prio = dict(DEFAULT_PRIORITIES)
    rp = raw.get("priorities", {})
    if not isinstance(rp, dict):
        bad(".priorities", f"expected an object: zone -> weight, got {_show(rp)}")
        rp = {}
    for zone, w in rp.items():
        where = f".priorities.{_show(zone)}"
        if zone not in ZONES:
            bad(where, f"unknown zone (known: {', '.join(ZONES)})")
        elif not _number(w) or not 0 <= w <= 1000:
            bad(where, f"expected a weight from 0 to 1000, got {_show(w)}")
        else:
            prio[zone] = float(w)
    streets = []
    rs = raw.get("streets", [])
    if not isinstance(rs, list):
        bad(".streets", f"expected a list of objects, got {_show(rs)}")
        rs = []
    for i, s in enumerate(rs):
        street = _street(s, f".streets[{i}]", bad)
        if street is not None:
            streets.append(street)
    return Surveillance(**out, streets=tuple(streets), priorities=prio)


def _street(s: Any, where: str, bad) -> WatchedStreet | None:
    if not isinstance(s, dict):
        bad(where, f"expected an object with {', '.join(STREET_KEYS)}, got {_show(s)}")
        return None
    for key in s:
        if key not in STREET_KEYS:
            bad(f"{where}.{_show(key)}", f"unknown key (known: {', '.join(STREET_KEYS)})")
    name = s.get("name")
    if not isinstance(name, str) or not name.strip():
        bad(f"{where}.name", f"expected the street's name, got {_show(name)}")
        return None
    line = s.get("line")
    pts: list[tuple[float, float]] = []
    if isinstance(line, list) and len(line) >= 2:
        for j, p in enumerate(line):
            if (
                isinstance(p, list)
                and len(p) == 2
                and _number(p[0])
                and _number(p[1])
                and -180 <= p[0] <= 180
                and -90 <= p[1] <= 90
            ):
                pts.append((float(p[0]), float(p[1])))
            else:
                bad(f"{where}.line[{j}]", f"expected [lon, lat] in degrees (WGS84), got {_show(p)}")
                return None
    else:
        bad(f"{where}.line", f"expected a list of at least 2 [lon, lat] points, got {_show(line)}")
        return None
    corridor = _distance(s.get("corridor_m", 20.0), f"{where}.corridor_m", bad, nullable=False)
    spacing = _distance(s.get("smart_pole_spacing_m"), f"{where}.smart_pole_spacing_m", bad, nullable=True)
    name_en = s.get("name_en")
    return WatchedStreet(
        name=name.strip(),
        line=tuple(pts),
        corridor_m=20.0 if corridor is None else corridor,
        smart_pole_spacing_m=spacing,
        name_en=name_en if isinstance(name_en, str) and name_en.strip() else None,
        source=str(s.get("source", "")),
        approximate=bool(s.get("approximate", True)),
    )


def _distance(v: Any, where: str, bad, *, nullable: bool) -> float | None:
    if v is None and nullable:
        return None
    if not _number(v) or not 0 < v <= MAX_ZONE_M:
        bad(where, f"expected a distance in m, > 0 and ≤ {MAX_ZONE_M:g}, got {_show(v)}")
        return None
    return float(v)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
