"""Timing is part of a hardware-in-the-loop verdict.

A run can judge a controller only if the harness kept time: the fleet's clock did not lag, the
readings reached the subscribers promptly, and the controller (when the clock could not wait for
it) reacted promptly. Each is measured in simulated seconds and held to a budget derived from the
run's sampling interval (:func:`budgets`). A run that broke a budget is ``inconclusive``: it
says which budget broke and the speed this machine sustained, and neither passes nor fails the
controller.

- **clock lag**: how far behind its own clock (a strict clock: behind wall time x speed) the
  fleet took a due reading;
- **delivery delay**: from a reading being taken to the fleet's probe subscriber receiving it
  (``messages.jsonl`` is written by that subscriber); readings delayed on purpose (a latency
  fault, a broker outage) are left out;
- **reaction time**: from the reading a decision was based on to its command arriving at the
  device: a gate command (Modbus or MQTT) or the warning on the signboard. With the reference
  controller's decision log, the reading is the one it logged; for another controller, the
  newest reading of the gate's level sensor delivered before the command. Fail-safe decisions
  (no fresh reading) are left out.
"""

from __future__ import annotations

import json
from typing import Any, TypedDict

import pandas as pd

from .fleet_clock import delay_stats

STALE_FACTOR = 3.0  # a reading older than this many sampling intervals at a command: not what it acted on


class Budgets(TypedDict):
    """The timing budgets of a run, simulated s; ``reaction_s`` is None for a paced controller."""

    clock_lag_s: float
    delivery_delay_s: float
    reaction_s: float | None


def budgets(sample_interval_s: float, *, controller_paced: bool) -> Budgets:
    """Budgets (simulated s): half a sampling interval for clock lag and delivery, so a reading
    is never late enough to fall on the other side of the next sample; for the reaction of a
    controller the clock could not wait for, a sampling interval (its reading may be almost one
    old) plus that half. A paced controller's reaction has no budget: the clock waited for it,
    so its reaction is its own."""
    half = 0.5 * float(sample_interval_s)
    return {
        "clock_lag_s": half,
        "delivery_delay_s": half,
        "reaction_s": None if controller_paced else float(sample_interval_s) + half,
    }


def _arrivals(events: pd.DataFrame, kind: str, entity: str | None) -> list[float]:
    if entity is None or events.empty:
        return []
    sel = events[(events["kind"] == kind) & (events["entity_id"] == entity)]
    if kind == "signboard.display":
        sel = sel[[bool(json.loads(d or "{}").get("lines")) for d in sel["data"]]]
    return sorted(float(t) for t in sel["time_s"])


def reactions_from_decisions(decisions: list[dict[str, Any]], events: pd.DataFrame, sites) -> list[dict[str, Any]]:
    """Reaction times of a controller that logged its decisions (controller.jsonl), each with
    the sample time of the reading it was based on."""
    by_gate = {s.gate_id: s for s in sites}
    out = []
    for d in decisions:
        site = by_gate.get(d.get("gate"))
        reading = d.get("reading_time_s")
        if site is None or reading is None or "stale" in str(d.get("reason", "")):
            continue
        action = d.get("action")
        kinds = {"close": "gate.close_command", "open": "gate.open_command", "warn": "signboard.display"}
        kind = kinds.get(action) if isinstance(action, str) else None
        if kind is None:
            continue
        entity = site.signboard_id if kind == "signboard.display" else site.gate_id
        after = [t for t in _arrivals(events, kind, entity) if t >= float(d["time_s"]) - 1e-6]
        if after:
            out.append(
                {"gate": site.gate_id, "action": d["action"], "reading_s": reading, "arrived_s": after[0],
                 "reaction_s": round(after[0] - float(reading), 3)}
            )  # fmt: skip
    return out


def reactions_from_messages(
    messages: list[dict[str, Any]], events: pd.DataFrame, sites, level_topics: dict[str, str], interval_s: float
) -> list[dict[str, Any]]:
    """Reaction times of a controller without a decision log: from the newest reading of the
    gate's level sensor delivered before each command to the command's arrival."""
    out = []
    for site in sites:
        topic = level_topics.get(site.gate_id)
        got = sorted(
            (float(m["sim_s"]), float(m["payload"]["sim_time_s"]))
            for m in messages
            if m.get("topic") == topic and isinstance(m.get("payload"), dict) and "sim_time_s" in m["payload"]
        )
        for kind, action in (("gate.close_command", "close"), ("gate.open_command", "open")):
            for a in _arrivals(events, kind, site.gate_id):
                before = [s for arrived, s in got if arrived <= a]
                if before and a - max(before) <= STALE_FACTOR * interval_s:
                    out.append(
                        {"gate": site.gate_id, "action": action, "reading_s": max(before), "arrived_s": a,
                         "reaction_s": round(a - max(before), 3)}
                    )  # fmt: skip
    return out


def assess(fleet_timing: dict[str, Any], reactions: list[dict[str, Any]], sample_interval_s: float) -> dict[str, Any]:
    """The ``timing`` section of a HIL verdict: the fleet's measures, the reaction times, the
    budgets and which of them broke (``broken``: sentences; empty when the run can judge)."""
    paced = bool(fleet_timing.get("controller_paced"))
    b = budgets(sample_interval_s, controller_paced=paced)
    reaction = delay_stats(r["reaction_s"] for r in reactions)
    delivery = fleet_timing.get("delivery_delay_s") or {}
    lag = fleet_timing.get("max_clock_lag_s") or 0.0
    eff, ceiling = fleet_timing.get("effective_speed"), fleet_timing.get("speed_ceiling")
    sustained = f"this machine sustained {eff:g}x" if eff is not None else "the speed sustained is unknown"
    sustained += f" (ceiling {ceiling:g}x, {fleet_timing.get('mode', 'paced')} clock)" if ceiling else " (speed max)"
    broken = []
    if lag > b["clock_lag_s"]:
        broken.append(f"clock lag: {lag:g} s behind the clock at worst (budget {b['clock_lag_s']:g} s)")
    if delivery.get("max") is not None and delivery["max"] > b["delivery_delay_s"]:
        broken.append(
            f"delivery delay: readings reached the subscribers up to {delivery['max']:g} s after they were taken "
            f"(p99 {delivery['p99']:g} s; budget {b['delivery_delay_s']:g} s)"
        )
    if b["reaction_s"] is not None and reaction["max"] is not None and reaction["max"] > b["reaction_s"]:
        worst = max(reactions, key=lambda r: r["reaction_s"])
        broken.append(
            f"reaction time: {worst['gate']} {worst['action']} arrived {worst['reaction_s']:g} s after the reading "
            f"it was based on (budget {b['reaction_s']:g} s); the clock could not wait for this controller "
            + ("(a strict clock keeps wall time)" if fleet_timing.get("mode") == "strict"
               else "(it does not report its progress on the clock device)")
        )  # fmt: skip
    out = {
        **fleet_timing,
        "reaction_s": reaction,
        "budgets_s": b,
        "broken": broken,
        "sustained": sustained,
    }
    if broken:
        suggest = max(int((eff or 1.0) * 0.7), 1)
        if fleet_timing.get("mode") == "strict":
            hint = ", or without --strict-speed if the controller can read the clock device (docs/gates.md)"
        else:
            hint = "" if paced else ", or let the controller report its progress (docs/gates.md)"
        out["advice"] = f"{sustained}. Run again on a quieter machine, or at --speed {suggest}{hint}"
    return out


def apply(verdict: dict[str, Any], timing: dict[str, Any]) -> dict[str, Any]:
    """Put ``timing`` in ``verdict`` and set its status: ``inconclusive`` when a budget broke."""
    verdict["timing"] = timing
    if timing["broken"]:
        verdict["status"] = "inconclusive"
        verdict["passed"] = False
    return verdict
