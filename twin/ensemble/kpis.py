"""What a sweep keeps of each run: its KPIs (one number per column) and a few small series.

Each model declares its KPIs here once, as a :class:`ModelKpis`: the ``summary.json`` section it
writes, the columns it fills and how to read them. A model that lands later joins every sweep by
adding its declaration to :data:`MODEL_KPIS`. Columns are named

- ``kpi/<name>`` for a figure of the whole run (``kpi/flooded_paths``);
- ``<kind>/<id>/<name>`` for a figure of one place (``access_point/AP-JN-L07/flooded``,
  ``gauge/LS-1018665/peak_stage_m``, ``gate/G02/failed``, ``zone/중랑천/people_on_paths``).

A value that does not exist in a run (no path flooded, so no lead time) is NaN, never 0. Yes/no
figures are 0 or 1, so that their mean over the members is a probability. Each :class:`Measure`
may name the events whose probability the sweep reports (``flooded == 1``, ``highest_level >= 2``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..dataset_schema import THRESHOLD_LEVELS

NAN = float("nan")


@dataclass(frozen=True)
class Measure:
    """One KPI: its column ``name`` (the last part), ``unit``, words (``ko``/``en``), which way is
    better (``"lower"``, ``"higher"`` or None) and its ``events``: (op, threshold) pairs whose
    probability the sweep reports, e.g. ``((">", 0),)``."""

    name: str
    unit: str
    ko: str
    en: str
    better: str | None = "lower"
    events: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ModelKpis:
    """The KPIs of one model: the summary ``section`` that holds them, its run-wide measures
    (``kpi/...``), its per-place measures (kind -> measures) and ``read(summary, verdict)``, which
    yields (column, value) for one run (only for columns declared here)."""

    model: str
    section: str
    run: tuple[Measure, ...]
    places: dict[str, tuple[Measure, ...]]
    read: Callable[[dict[str, Any], dict[str, Any] | None], Iterator[tuple[str, float]]]


def _num(x: Any, scale: float = 1.0) -> float:
    return NAN if x is None else float(x) / scale


def _unwarned(a: dict[str, Any]) -> bool:
    """An access point whose path flooded before (or without) any alert concerning it."""
    lead = a.get("warning_lead_time_s")
    return a.get("path_flooded_at_s") is not None and (lead is None or lead < 0)


def _read_flood(s: dict[str, Any], verdict: dict[str, Any] | None) -> Iterator[tuple[str, float]]:
    fp = s["flooded_paths"]
    aps = s["access_points"]
    yield "kpi/flooded_paths", float(fp["count"])
    yield "kpi/first_flooding_min", _num(fp["first_s"], 60)
    yield "kpi/min_warning_lead_min", _num(fp["min_warning_lead_time_s"], 60)
    yield "kpi/unwarned_paths", float(sum(_unwarned(a) for a in aps.values()))
    for gid, g in s["gauges"].items():
        yield f"gauge/{gid}/peak_stage_m", _num(g["peak_stage_m"])
        top = g.get("highest_level")
        yield f"gauge/{gid}/highest_level", float(0 if top is None else THRESHOLD_LEVELS.index(top) + 1)
    for aid, a in aps.items():
        yield f"access_point/{aid}/flooded", float(a["path_flooded_at_s"] is not None)
        yield f"access_point/{aid}/unwarned", float(_unwarned(a))
        yield f"access_point/{aid}/warning_lead_min", _num(a["warning_lead_time_s"], 60)


def _read_crowd(s: dict[str, Any], verdict: dict[str, Any] | None) -> Iterator[tuple[str, float]]:
    c = s["crowd"]
    yield "kpi/exposed_people", float(c["exposed_people"])
    yield "kpi/exposure_person_min", _num(c["exposure_person_s"], 60)
    yield "kpi/t90_min", _num(c["t90_s"], 60)
    yield "kpi/not_safe", float(c["not_safe"])
    orders = c.get("evacuation_orders") or {}
    yield "kpi/people_on_paths", float(sum(o["people_on_paths"] for o in orders.values())) if orders else NAN
    for zone, o in orders.items():
        yield f"zone/{zone}/people_on_paths", float(o["people_on_paths"])
    for zone, b in (c.get("evacuation_lower_bound_s") or {}).items():
        yield f"zone/{zone}/evacuation_min", _num(b["simulated_s"], 60)


def _read_gates(s: dict[str, Any], verdict: dict[str, Any] | None) -> Iterator[tuple[str, float]]:
    if verdict is None:
        return
    gates = verdict.get("gates") or {}
    failed = {gid: any(not c["passed"] for c in checks.values()) for gid, checks in gates.items()}
    yield "kpi/gates_failed", float(sum(failed.values()))
    for gid in s["gates"]:
        yield f"gate/{gid}/failed", float(failed.get(gid, False))


def _read_collapse(s: dict[str, Any], verdict: dict[str, Any] | None) -> Iterator[tuple[str, float]]:
    c = s["collapse"]
    yield "kpi/collapsed_sites", float(c["failed"])
    yield "kpi/inside_at_failure", float(c["inside_at_failure"])
    yield "kpi/false_evacuations", float(c["false_evacuations"])
    for site in c["sites"]:
        yield f"site/{site['site_id']}/failed", float("inside_at_failure" in site)
        yield f"site/{site['site_id']}/min_fs", _num(site.get("min_fs"))


_YES = (("==", 1.0),)
_ANY = ((">", 0.0),)

MODEL_KPIS: tuple[ModelKpis, ...] = (
    ModelKpis(
        "flood",
        "flooded_paths",
        (
            Measure("flooded_paths", "paths", "침수된 산책로", "Riverside paths flooded", events=_ANY),
            Measure("first_flooding_min", "min", "첫 침수까지", "First path flooded after", "higher"),
            Measure("min_warning_lead_min", "min", "가장 짧은 경보 선행시간", "Shortest warning lead time", "higher"),
            Measure(
                "unwarned_paths", "paths", "경보 전에 침수된 산책로", "Paths flooded before any alert", events=_ANY
            ),
        ),
        {
            "gauge": (
                Measure("peak_stage_m", "m", "최고 수위", "Peak stage"),
                Measure(
                    "highest_level",
                    "level",
                    "가장 높은 경보 단계 (0 없음, 1 관심 … 4 심각)",
                    "Highest alert level (0 none, 1 attention … 4 serious)",
                    events=tuple((">=", float(i + 1)) for i in range(len(THRESHOLD_LEVELS))),
                ),
            ),
            "access_point": (
                Measure("flooded", "yes/no", "산책로 침수", "Path flooded", events=_YES),
                Measure("unwarned", "yes/no", "경보 전 침수", "Flooded before any alert", events=_YES),
                Measure("warning_lead_min", "min", "경보 선행시간", "Warning lead time", "higher"),
            ),
        },
        _read_flood,
    ),
    ModelKpis(
        "crowd",
        "crowd",
        (
            Measure("exposed_people", "people", "물에 닿은 사람", "People the water reached", events=_ANY),
            Measure("exposure_person_min", "person·min", "물에 노출된 시간 (인·분)", "Exposure (person-minutes)"),
            Measure("t90_min", "min", "90 % 대피 시간", "Time to evacuate 90 %"),
            Measure("not_safe", "people", "안전하지 못한 사람", "People not safe at the end", events=_ANY),
            Measure("people_on_paths", "people", "대피 명령 때 산책로에 있던 사람", "People on paths at the order"),
        ),
        {
            "zone": (
                Measure("people_on_paths", "people", "대피 명령 때 산책로에 있던 사람", "People on paths at the order",
                        events=_ANY),
                Measure("evacuation_min", "min", "대피 시간", "Evacuation time"),
            ),
        },
        _read_crowd,
    ),
    ModelKpis(
        "gates",
        "gates",
        (Measure("gates_failed", "gates", "판정에 실패한 차단시설", "Gates that failed a check", events=_ANY),),
        {"gate": (Measure("failed", "yes/no", "차단시설 판정 실패", "Gate failed a check", events=_YES),)},
        _read_gates,
    ),
    ModelKpis(
        "collapse",
        "collapse",
        (
            Measure("collapsed_sites", "sites", "붕괴한 곳", "Sites that failed", events=_ANY),
            Measure("inside_at_failure", "people", "붕괴 때 안에 있던 사람", "People inside at a failure", events=_ANY),
            Measure("false_evacuations", "sites", "불필요한 대피", "False evacuations"),
        ),
        {
            "site": (
                Measure("failed", "yes/no", "붕괴", "Failed", events=_YES),
                Measure("min_fs", "-", "최소 안전율", "Lowest factor of safety", "higher"),
            ),
        },
        _read_collapse,
    ),
)


def run_kpis(summary: dict[str, Any], verdict: dict[str, Any] | None = None) -> dict[str, float]:
    """Every declared KPI of one run, from its ``summary.json`` (and ``verdict.json`` when gates ran):
    column -> value (NaN where it does not exist). Models whose section the run lacks add nothing."""
    out: dict[str, float] = {}
    for m in MODEL_KPIS:
        if m.section in summary:
            out.update(m.read(summary, verdict))
    return out


def measure_of(column: str) -> Measure | None:
    """The declaration of a KPI column (``kpi/t90_min``, ``gauge/LS-1018665/peak_stage_m``), or None."""
    found = _declared(column)
    return found[1] if found is not None else None


def model_of(column: str) -> str | None:
    """The model that declares a KPI column (``"flood"``, ``"gates"``, ...), or None."""
    found = _declared(column)
    return found[0].model if found is not None else None


def _declared(column: str) -> tuple[ModelKpis, Measure] | None:
    parts = column.split("/")
    for m in MODEL_KPIS:
        if parts[0] == "kpi" and len(parts) == 2:
            found = next((x for x in m.run if x.name == parts[1]), None)
        elif len(parts) >= 3:
            found = next((x for x in m.places.get(parts[0], ()) if x.name == parts[-1]), None)
        else:
            found = None
        if found is not None:
            return m, found
    return None


def scenario_models(scenario: Any) -> set[str]:
    """The models whose KPIs a run of ``scenario`` (a :class:`twin.scenario.Scenario`) has, as
    :class:`twin.simulation.Simulation` builds them: the flood with hydraulics, the crowd with people
    (or monitored sites, whose residents it moves), the gates with a controller, collapse with sites."""
    out = set()
    if scenario.hydraulics.enabled:
        out.add("flood")
    if scenario.populations or scenario.collapse is not None:
        out.add("crowd")
    if scenario.controller is not None:
        out.add("gates")
    if scenario.collapse is not None:
        out.add("collapse")
    return out


def place_of(column: str) -> tuple[str, str] | None:
    """(kind, id) of a per-place column (``("gate", "G02")``), None for a run-wide one."""
    parts = column.split("/")
    if parts[0] == "kpi" or len(parts) < 3:
        return None
    return parts[0], "/".join(parts[1:-1])


def stage_series(timeseries: Any, gauges: list[str]) -> dict[str, list[float]]:
    """The stage (m) at ``gauges`` at every sample of a run's timeseries (``t_s`` holds the sample
    times, s): the small series a sweep keeps of each member."""
    t = timeseries
    stage = t[(t["variable"] == "stage") & t["entity_id"].isin(gauges)]
    out: dict[str, list[float]] = {}
    for gid in gauges:
        rows = stage[stage["entity_id"] == gid].sort_values("time_s")
        if len(rows):
            out.setdefault("t_s", [float(x) for x in rows["time_s"]])
            out[f"stage/{gid}"] = [float(x) for x in rows["value"]]
    return out
