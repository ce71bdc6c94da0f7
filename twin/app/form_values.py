"""A planner's choices as scenario overrides (``--set`` strings): the rain, the people on the
paths, when they are told to leave, a gauge's alert thresholds, the start time.

Pure functions, no Streamlit: the run form and the proposal form build their overrides here, and
the runner validates them like any ``twin run --set``. Depths in mm, durations in h, stages in m.
"""

from __future__ import annotations

from typing import Any

from ..dataset_schema import THRESHOLD_LEVELS as LEVELS
from .kpis import KeyGauge

PATTERNS = ("huff_q1", "huff_q2", "huff_q3", "huff_q4", "alternating_block")
TRIGGERS = ("path_flooded", "attention", "none")
# a proposal worth showing: clear the paths at 관심, with the key gauge's (신곡교's) 관심 level lowered to 1.5 m
PROPOSAL_TRIGGER = "crowd.evacuation_trigger=attention"
PROPOSAL_ATTENTION_M = 1.5


def parse_overrides(text: str) -> list[str]:
    """Lines of ``key=value`` (blank lines ignored)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def scenario_overrides(total_mm: float, hours: float, pattern: str, people: int | None, scenario=None) -> list[str]:
    """The rain parameters (``total_mm`` mm over ``hours`` h) as ``--set`` overrides, and with
    ``people`` the count of ``scenario``'s riverside population, as :func:`people_overrides` sets
    it (nothing when there is none: another kind's count, or a flow's rate, is not walkers)."""
    sets = [
        "rainfall.kind=design",
        f"rainfall.total_mm={total_mm:g}",
        f"rainfall.duration={hours:g}h",
        f"rainfall.pattern={pattern}",
        "rainfall.interval=10min",
        "rainfall.start_offset=0",
    ]
    pops = scenario.populations if scenario is not None else []
    idx = next((i for i, p in enumerate(pops) if p.kind == "riverside"), None)
    if people is not None and idx is not None:
        sets.append(f"populations.{idx}.count={int(people)}")
    return sets


def people_overrides(scenario, people: int, stream: str, trigger: str) -> list[str]:
    """Walkers on ``stream``'s riverside paths: the count of the scenario's riverside population,
    or a new one (arriving over two hours) when it has none; and when they are told to leave."""
    sets: list[str] = []
    idx = next((i for i, p in enumerate(scenario.populations) if p.kind == "riverside"), None)
    if idx is not None:
        sets += [f"populations.{idx}.count={int(people)}", f"populations.{idx}.stream={stream}"]
    elif people > 0:
        pops = [p.model_dump(mode="json") for p in scenario.populations]
        pops.append({"kind": "riverside", "stream": stream, "count": int(people), "arrival_window": "2h"})
        sets.append("populations=" + _flow(pops))
    if people > 0 or idx is not None:
        sets.append(f"crowd.evacuation_trigger={trigger}")
    return sets


def _flow(value: Any) -> str:
    """A value as one line of YAML flow style (for a ``--set``)."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def threshold_overrides(gauge: str, current: dict[str, float], chosen: dict[str, float]) -> list[str]:
    """Overrides for the thresholds that differ from the gauge's current ones."""
    return [
        f"thresholds.{gauge}.{lv}_m={chosen[lv]:g}"
        for lv in LEVELS
        if lv in chosen and abs(chosen[lv] - current.get(lv, float("nan"))) > 1e-9
    ]


def start_override(scenario, hour: int, minute: int) -> list[str]:
    """Move the scenario's start to another time of the same day (keeping its time zone)."""
    if (scenario.start.hour, scenario.start.minute) == (hour, minute):
        return []
    return [f"start={scenario.start.replace(hour=hour, minute=minute).isoformat()}"]


def gauge_thresholds(city) -> dict[str, dict[str, float]]:
    lv = city.devices_of_kind("level_sensor")
    return {
        str(r["device_id"]): {
            k: float(r[f"threshold_{k}_m"]) for k in LEVELS if r[f"threshold_{k}_m"] == r[f"threshold_{k}_m"]
        }
        for r in lv.to_dict("records")
    }


def default_proposal(key: KeyGauge | None) -> str:
    """The compare page's example proposal: clear the paths at 관심, with the key gauge's 관심
    stage lowered to :data:`PROPOSAL_ATTENTION_M` (m) when the city has a key gauge."""
    if key is None:
        return PROPOSAL_TRIGGER
    return f"{PROPOSAL_TRIGGER}\nthresholds.{key.device_id}.attention_m={PROPOSAL_ATTENTION_M:g}"
