"""What a scenario says about its city, checked against the city before any model is built.

A scenario names things of its dataset: level sensors whose alarm stages it overrides, rain gauges
it scales, devices it breaks, the basin upstream of the city it resizes. :func:`city_problems`
checks each name against the loaded :class:`~twin.city.CityModel` and the overridden stages
against the dataset's own, so a typo or
an inverted ladder of stages is refused at load time (``twin scenario validate``, and the start of
every run) instead of doing nothing, or something else, hours into a simulation.

Problems are lines of the form ``field.path: got VALUE: expected WHAT``, like every scenario error.
"""

from __future__ import annotations

from .city import CityModel
from .dataset_schema import THRESHOLD_LEVELS
from .scenario import GATE_FAULT_KINDS, THRESHOLD_FIELDS, Scenario


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
    return problems
