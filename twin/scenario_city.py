"""What a scenario says about its city, checked against the city before any model is built.

A scenario names things of its dataset: level sensors whose alarm stages it overrides, rain gauges
it scales, devices it breaks, the basin upstream of the city it resizes, the facilities, schools,
dongs, streams and points its populations walk between. :func:`city_problems`
checks each name against the loaded :class:`~twin.city.CityModel` and the overridden stages
against the dataset's own, so a typo or
an inverted ladder of stages is refused at load time (``twin scenario validate``, and the start of
every run) instead of doing nothing, or something else, hours into a simulation.

Problems are lines of the form ``field.path: got VALUE: expected WHAT``, like every scenario error.
"""

from __future__ import annotations

import numpy as np

from .city import CityModel
from .dataset_schema import RIVERSIDE_PATH_KINDS, THRESHOLD_LEVELS
from .scenario import (
    GATE_FAULT_KINDS,
    THRESHOLD_FIELDS,
    Flow,
    Residents,
    RiversidePopulation,
    Scenario,
    SchoolCommute,
    Trips,
)
from .validation_messages import _show

MAX_SNAP_M = 50.0
"""Farthest a scenario point (a flow's ``origin_xy``, ``destination_xy``) may lie from the
walk-graph node it is snapped to, m: the crowd model's rule, checked here before the run."""


def _ids(city: CityModel, kind: str) -> list[str]:
    layer = city.devices_of_kind(kind)
    return sorted(str(x) for x in layer["device_id"]) if len(layer) else []


def _choices(ids: list[str], limit: int = 6) -> str:
    shown = ", ".join(ids[:limit]) + (", …" if len(ids) > limit else "")
    return f"one of {shown}" if ids else "none: the dataset has none"


def city_problems(scenario: Scenario, city: CityModel) -> list[str]:
    """One line per thing ``scenario`` names that ``city`` lacks, and per alarm ladder that its
    overrides make non-increasing (stages in m)."""
    problems: list[str] = []
    sensors = _ids(city, "level_sensor")
    layer = city.devices_of_kind("level_sensor")
    rows = {str(r["device_id"]): r for r in layer.to_dict("records")} if len(layer) else {}
    for sensor, override in sorted(scenario.thresholds.items()):
        if sensor not in rows:
            problems.append(f"thresholds.{sensor}: got a sensor id: expected a level sensor of the dataset, "
                            f"{_choices(sensors)}")  # fmt: skip
            continue
        stages = {lv: float(rows[sensor][f"threshold_{lv}_m"]) for lv in THRESHOLD_LEVELS}
        for lv, field in zip(THRESHOLD_LEVELS, THRESHOLD_FIELDS, strict=True):
            given = getattr(override, field)
            if given is not None:
                stages[lv] = float(given)
        for low, high in zip(THRESHOLD_LEVELS, THRESHOLD_LEVELS[1:], strict=False):
            if not stages[high] > stages[low]:
                problems.append(
                    f"thresholds.{sensor}: {low} {stages[low]:g} m and {high} {stages[high]:g} m: expected each "
                    f"stage above the one before ({' < '.join(THRESHOLD_LEVELS)}), the dataset's stages included"
                )
                break
    gauges = _ids(city, "rain_gauge")
    rainfall = scenario.rainfall
    for gauge in sorted(getattr(rainfall, "gauge_factors", None) or {}):
        if gauge not in gauges:
            problems.append(f"rainfall.gauge_factors.{gauge}: got a gauge id: expected a rain gauge of the dataset, "
                            f"{_choices(gauges)}")  # fmt: skip
    hyd = scenario.hydraulics
    if hyd.enabled and hyd.upstream_catchment_km2 is not None and not city.river_gauges.upstream_basins:
        problems.append(
            f"hydraulics.upstream_catchment_km2: got {hyd.upstream_catchment_km2:g}: expected null, because the "
            "dataset names no basin upstream of the city (manifest hydrology.upstream_basins)"
        )
    devices = city.layer("devices")
    known = set(str(x) for x in devices["device_id"]) if len(devices) else set()
    gates = set(_ids(city, "gate"))
    for i, fault in enumerate(scenario.faults):
        if fault.device is None:
            continue
        if fault.device not in known:
            problems.append(f"faults[{i}].device: got {fault.device!r}: expected a device of the dataset")
        elif fault.kind in GATE_FAULT_KINDS and fault.device not in gates:
            problems.append(f"faults[{i}].device: got {fault.device!r}: expected a gate for {fault.kind}")
    problems += _population_problems(scenario, city)
    problems += _collapse_problems(scenario, city)
    return problems


def _collapse_problems(scenario: Scenario, city: CityModel) -> list[str]:
    """``collapse.buildings``: buildings that carry a tilt or crack sensor; ``collapse.slopes``:
    slopes of the dataset; the shelter kind: a facility kind the dataset has."""
    spec = scenario.collapse
    if spec is None:
        return []
    devices = city.layer("devices")
    structural = devices[devices["kind"].isin(["tilt_sensor", "crack_sensor"])] if len(devices) else devices
    hosts = {str(h) for h in structural["host_id"]} if "host_id" in structural else set()
    buildings = city.layer("buildings")
    monitored = sorted(hosts & {str(b) for b in buildings["building_id"]}) if len(buildings) else []
    slopes = city.layer("slopes")
    slope_ids = sorted(str(s) for s in slopes["slope_id"]) if len(slopes) else []
    problems = []
    for bid in sorted(spec.buildings):
        if bid not in monitored:
            problems.append(f"collapse.buildings.{bid}: got a building id: expected a monitored building of the "
                            f"dataset (one with a tilt or crack sensor), {_choices(monitored)}")  # fmt: skip
    for sid in sorted(spec.slopes):
        if sid not in slope_ids:
            problems.append(f"collapse.slopes.{sid}: got a slope id: expected a slope of the dataset, "
                            f"{_choices(slope_ids)}")  # fmt: skip
    fac = city.layer("facilities")
    kinds = sorted({str(x) for x in fac["kind"]}) if len(fac) else []
    if spec.evacuation.shelter_kind not in kinds:
        problems.append(f"collapse.evacuation.shelter_kind: got {_show(spec.evacuation.shelter_kind)}: expected a "
                        f"facility kind of the dataset, {_choices(kinds, limit=len(kinds))}")  # fmt: skip
    return problems


def _population_problems(scenario: Scenario, city: CityModel) -> list[str]:
    """One line per place a population names that ``city`` lacks: what the crowd model would
    refuse, or leave without people, once the run has started."""
    fac = city.layer("facilities")
    ids = sorted(str(x) for x in fac["facility_id"]) if len(fac) else []
    kinds = sorted({str(x) for x in fac["kind"]}) if len(fac) else []
    problems: list[str] = []
    for k, pop in enumerate(scenario.populations):
        here = f"populations.{k}"
        if isinstance(pop, Trips | Flow):
            problems += _place_problems(here, pop, city, ids, kinds)
        elif isinstance(pop, SchoolCommute):
            problems += _school_problems(here, pop, city)
        elif isinstance(pop, Residents):
            problems += _residents_problems(here, pop, city, kinds)
        elif isinstance(pop, RiversidePopulation):
            problems += _riverside_problems(here, pop, city)
    return problems


def _place_problems(here: str, pop: Trips | Flow, city: CityModel, ids: list[str], kinds: list[str]) -> list[str]:
    """``origin`` and ``destination``: a facility_id of the dataset, or (a destination)
    ``nearest:<kind>`` with a facility kind the dataset has; a flow's ``origin_xy`` and
    ``destination_xy`` (EPSG:5186, m): within :data:`MAX_SNAP_M` of a walk-graph node."""
    out = []
    for name in ("origin", "destination"):
        value = getattr(pop, name)
        if value is None:
            pass
        elif name == "destination" and value.startswith("nearest:"):
            if value.split(":", 1)[1] not in kinds:
                shown = [f"nearest:{kind}" for kind in kinds]
                out.append(f"{here}.{name}: got {_show(value)}: expected nearest:<kind> with a facility kind of "
                           f"the dataset, {_choices(shown, limit=len(shown))}")  # fmt: skip
        elif value not in ids:
            out.append(f"{here}.{name}: got {_show(value)}: expected a facility_id of the dataset, {_choices(ids)}")
        xy = getattr(pop, f"{name}_xy", None)
        if xy is None:
            continue
        _, problem = snap_point(city, xy, f"{here}.{name}_xy")
        if problem:
            out.append(problem)
    return out


def snap_point(
    city: CityModel, xy: tuple[float, float], field: str, *, max_m: float = MAX_SNAP_M
) -> tuple[int, str | None]:
    """The walk-graph node nearest to ``xy`` (EPSG:5186, m), and the problem line naming ``field``
    (e.g. ``populations.0.origin_xy``) when it is more than ``max_m`` (m) away (else None)."""
    nodes, dist = city.nearest_nodes(np.array([xy], dtype=float))
    if dist[0] <= max_m:
        return int(nodes[0]), None
    return int(nodes[0]), (
        f"{field}: got {_show(list(xy))}: expected a point within {max_m:g} m of the walk "
        f"graph (EPSG:5186, m; the nearest node is {dist[0]:.0f} m away)"
    )


def _school_problems(here: str, pop: SchoolCommute, city: CityModel) -> list[str]:
    """``school``: the name or facility_id of a facility of kind school."""
    fac = city.facilities_of_kind("school")
    if len(fac) and ((fac["facility_id"] == pop.school) | (fac["name"] == pop.school)).any():
        return []
    names = sorted(str(x) for x in fac["name"]) if len(fac) else []
    return [f"{here}.school: got {_show(pop.school)}: expected a school of the dataset (its name or facility_id), "
            f"{_choices(names)}"]  # fmt: skip


def _residents_problems(here: str, pop: Residents, city: CityModel, kinds: list[str]) -> list[str]:
    """``dong``: 'all', or a dong that buildings of the dataset are in; ``shelter_kind``: a
    facility kind the dataset has."""
    out = []
    b = city.layer("buildings")
    if pop.dong != "all" and "dong" not in b.columns:
        out.append(f"{here}.dong: got {_show(pop.dong)}: expected 'all', because the dataset's buildings do not "
                   "say which dong they are in (buildings column dong)")  # fmt: skip
    elif pop.dong != "all":
        dongs = sorted({str(x) for x in b["dong"].dropna()})
        if pop.dong not in dongs:
            out.append(f"{here}.dong: got {_show(pop.dong)}: expected 'all' or a dong with buildings in the "
                       f"dataset, {_choices(dongs)}")  # fmt: skip
    elif b.empty:
        out.append(f"{here}.dong: got 'all': expected a dataset with buildings (the residents leave from them)")
    if pop.shelter_kind not in kinds:
        out.append(f"{here}.shelter_kind: got {_show(pop.shelter_kind)}: expected a facility kind of the dataset, "
                   f"{_choices(kinds, limit=len(kinds))}")  # fmt: skip
    return out


def _riverside_problems(here: str, pop: RiversidePopulation, city: CityModel) -> list[str]:
    """``stream``: one with riverside paths (roads of :data:`RIVERSIDE_PATH_KINDS` with a
    ``stream``); null needs a dataset with some."""
    roads = city.layer("roads")
    streams: list[str] = []
    if len(roads) and "stream" in roads.columns:
        on_paths = roads.loc[roads["kind"].isin(RIVERSIDE_PATH_KINDS), "stream"]
        streams = sorted({s for s in on_paths if isinstance(s, str)})
    if not streams:
        kinds = f"{', '.join(RIVERSIDE_PATH_KINDS[:-1])} or {RIVERSIDE_PATH_KINDS[-1]}"
        return [f"{here}.stream: got {_show(pop.stream)}: expected a dataset with riverside paths (roads of kind "
                f"{kinds} with a stream), and this one has none"]  # fmt: skip
    if pop.stream is not None and pop.stream not in streams:
        return [f"{here}.stream: got {_show(pop.stream)}: expected a stream with riverside paths, "
                f"{_choices(streams, limit=len(streams))}"]  # fmt: skip
    return []
