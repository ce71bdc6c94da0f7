"""The verdict of a gate-control run: did every gate close before its path flooded, with a
warning first, without trapping anyone, and fail safe when a sensor died?

Computed from what a run recorded (its events and the stage series), so it judges an
in-process run (``twin run``) and a hardware-in-the-loop run (``twin hil``) the same way, and
any controller, ours or not. Times are simulated seconds from the scenario start; stages m.

``status`` is ``passed`` or ``failed``; a hardware-in-the-loop run whose timing budget broke is
``inconclusive`` instead (:mod:`twin.control.hil_timing`), and ``passed`` is then false too.

Checks per gate (each ``{"passed": bool, "value": ..., "detail": str}``):

- ``closed_before_flooding``: fully closed (limit switch) before the water reached its path, and
  still closed then; value: the margin (s). Passes when the path never flooded.
- ``warning_before_closure``: its signboard showed a message before the first close command;
  value: the lead (s). Passes when the gate was never commanded closed.
- ``people_on_path_at_closure``: people on the gate's stretch of path (the path links at its
  access point, and its ramp) when it closed. A closed gate lets them out, so it passes when none
  of them is still on the path when the water comes (or the path does not flood). It fails, too,
  when the close command went out with people in the gate's camera zone (within
  ``surveillance.access_zone_m`` of its access point) while its camera reported the zone clear:
  the controller closed on people it could not see (a blind spot, an occluded or misaimed camera).
- ``people_on_path_at_flooding``: people on that stretch when the water reaches it; passes at 0.
- ``closing_time``: from a close command to fully closed; passes within the gate's travel time
  plus ``CLOSING_GRACE_S`` (the obstacle interlock may hold it while people clear the ramp).
- ``false_closures``: closures while the true stage at the access point stayed more than
  ``FALSE_CLOSURE_MARGIN_M`` below the path from an hour before until reopening; passes at 0.
- ``sensor_failure_detection``: with a dropout fault on the gate's level sensor, the time from
  the dropout to the controller's first reaction (a warning or a close command); passes within
  ``stale_limit_s``. A gate already closed passes if it is not reopened while the sensor is dead.
- ``rejected_commands``: commands the gate refused; passes at 0.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

CLOSING_GRACE_S = 60.0
FALSE_CLOSURE_MARGIN_M = 1.0
LOOKBACK_S = 3600.0
CHECKS = (
    "closed_before_flooding",
    "warning_before_closure",
    "people_on_path_at_closure",
    "people_on_path_at_flooding",
    "closing_time",
    "false_closures",
    "sensor_failure_detection",
    "rejected_commands",
)


def _check(passed: bool, value: Any, detail: str) -> dict[str, Any]:
    return {"passed": bool(passed), "value": value, "detail": detail}


def _times(ev: pd.DataFrame, kind: str, entity: str | None) -> list[float]:
    if entity is None:
        return []
    sel = ev[(ev["kind"] == kind) & (ev["entity_id"] == entity)]
    return sorted(float(t) for t in sel["time_s"])


def _data(ev: pd.DataFrame, kind: str, entity: str, t: float) -> dict[str, Any]:
    sel = ev[(ev["kind"] == kind) & (ev["entity_id"] == entity) & (ev["time_s"] == t)]
    if sel.empty or not isinstance(sel.iloc[0]["data"], str):
        return {}
    return json.loads(sel.iloc[0]["data"] or "{}")


def _unseen_at_command(ev: pd.DataFrame, site, t: float) -> int:
    """People in the gate's camera zone at the close command at ``t`` while its camera's last
    report before it said clear (0 without a camera or without the count)."""
    if not site.camera_id:
        return 0
    people = _data(ev, "gate.close_command", site.gate_id, t).get("people_in_camera_zone") or 0
    reports = ev[(ev["kind"] == "cctv.objects_inside") & (ev["entity_id"] == site.camera_id) & (ev["time_s"] <= t)]
    reports = reports.sort_values("time_s", kind="stable")
    inside = bool(json.loads(reports.iloc[-1]["data"] or "{}").get("inside")) if len(reports) else False
    return 0 if inside else int(people)


def _fmt(t: float | None) -> str:
    if t is None:
        return "-"
    t = int(round(t))
    return f"{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}"


def gate_checks(
    site,
    events: pd.DataFrame,
    stage: pd.DataFrame | None,
    *,
    dropouts: Sequence[tuple[float, float]] = (),
    stale_limit_s: float = 180.0,
    end_s: float,
) -> dict[str, dict[str, Any]]:
    """The checks of one gate (:class:`twin.models.gate.GateSite`) from a run's events and its
    stage series (index time_s, a column per entity; may be None)."""
    g = site.gate_id
    ev = events
    commands = _times(ev, "gate.close_command", g)
    opens_cmd = _times(ev, "gate.open_command", g)
    closed = _times(ev, "gate.closed", g)
    opened = _times(ev, "gate.open", g)
    flooded_all = _times(ev, "gate.path_flooded", g) or _times(ev, "path.flooded", site.access_id)
    flooded = flooded_all[0] if flooded_all else None
    shown = [
        float(r.time_s)
        for r in ev[(ev["kind"] == "signboard.display") & (ev["entity_id"] == (site.signboard_id or ""))].itertuples()
        if json.loads(r.data or "{}").get("lines")
    ]

    def closed_at(t: float) -> float | None:
        """When the gate last became fully closed before ``t``, if it is still closed at ``t``."""
        last_closed = max((c for c in closed if c <= t), default=None)
        if last_closed is None:
            return None
        if any(last_closed < o <= t for o in opened):
            return None
        return last_closed

    out: dict[str, dict[str, Any]] = {}
    # closed before its path flooded
    if flooded is None:
        out["closed_before_flooding"] = _check(
            True, None, "path did not flood" + (f"; closed at {_fmt(closed[0])}" if closed else "")
        )
    else:
        c = closed_at(flooded)
        if c is not None:
            m = flooded - c
            out["closed_before_flooding"] = _check(
                True, round(m, 1), f"closed {_fmt(c)}, path flooded {_fmt(flooded)}: {m / 60:.1f} min before"
            )
        elif commands and commands[0] <= flooded:
            out["closed_before_flooding"] = _check(
                False,
                None,
                f"commanded closed at {_fmt(commands[0])} but not fully closed when the path flooded at "
                f"{_fmt(flooded)}" + ("" if closed else ": the limit switch never showed closed"),
            )
        else:
            late = f"; closed only at {_fmt(closed[0])}" if closed else ""
            out["closed_before_flooding"] = _check(
                False, None, f"path flooded at {_fmt(flooded)} with the gate open{late}"
            )
    # warning first
    if not commands:
        out["warning_before_closure"] = _check(True, None, "never commanded closed")
    else:
        before = [t for t in shown if t < commands[0]]
        if before:
            lead = commands[0] - before[0]
            out["warning_before_closure"] = _check(
                True, round(lead, 1), f"signboard {site.signboard_id} from {_fmt(before[0])}, {lead / 60:.1f} min first"
            )
        else:
            out["warning_before_closure"] = _check(
                False, None, f"no message on {site.signboard_id or 'any signboard'} before {_fmt(commands[0])}"
            )
    # people
    if closed:
        n = int(_data(ev, "gate.closed", g, closed[0]).get("people_on_path", 0))
        flood_rows = _times(ev, "gate.path_flooded", g)
        left = int(_data(ev, "gate.path_flooded", g, flood_rows[0]).get("there_since_closure", 0)) if flood_rows else 0
        if n == 0:
            text = f"nobody on the path at {_fmt(closed[0])}"
        elif left:
            text = f"{n} on the path at {_fmt(closed[0])}; {left} still there when it flooded"
        else:
            text = f"{n} on the path at {_fmt(closed[0])}, all off it before the water came"
        unseen = _unseen_at_command(ev, site, commands[0]) if commands else 0
        if unseen:
            text += (
                f"; commanded closed at {_fmt(commands[0])} with {unseen} in its camera zone that camera"
                f" {site.camera_id} reported clear (it could not see them)"
            )
        out["people_on_path_at_closure"] = _check(left == 0 and not unseen, n, text)
    else:
        out["people_on_path_at_closure"] = _check(True, None, "never closed")
    if flooded is not None:
        sel = _times(ev, "gate.path_flooded", g)
        n = int(_data(ev, "gate.path_flooded", g, sel[0]).get("people_on_path", 0)) if sel else 0
        out["people_on_path_at_flooding"] = _check(n == 0, n, f"{n} on the path when it flooded at {_fmt(flooded)}")
    else:
        out["people_on_path_at_flooding"] = _check(True, None, "path did not flood")
    # closing time
    if commands:
        worst = 0.0
        never = None
        for t in commands:
            nxt = [c for c in closed if c >= t]
            cancel = [o for o in opens_cmd if o > t]
            if nxt and (not cancel or nxt[0] <= cancel[0]):
                worst = max(worst, nxt[0] - t)
            elif not cancel:
                never = t
        limit = site.travel_s + CLOSING_GRACE_S
        if never is not None:
            out["closing_time"] = _check(False, None, f"commanded closed at {_fmt(never)}, never fully closed (stuck?)")
        else:
            out["closing_time"] = _check(
                worst <= limit, round(worst, 1), f"slowest closing {worst:.0f} s (limit {limit:.0f} s)"
            )
    else:
        out["closing_time"] = _check(True, None, "never commanded closed")
    # false closures
    false = []
    if stage is not None and site.access_id in stage.columns and site.path_height_m is not None:
        s = stage[site.access_id].dropna()
        for c in closed:
            reopen = min((o for o in opened if o > c), default=end_s)
            window = s[(s.index >= c - LOOKBACK_S) & (s.index <= reopen)]
            if len(window) and float(window.max()) < site.path_height_m - FALSE_CLOSURE_MARGIN_M:
                false.append(c)
    out["false_closures"] = _check(
        not false,
        len(false),
        "none" if not false else "closed with the water far below the path at " + ", ".join(map(_fmt, false)),
    )
    # sensor failure
    if not dropouts:
        out["sensor_failure_detection"] = _check(True, None, "no sensor fault in this run")
    else:
        start, stop = dropouts[0]
        reactions = [t for t in shown + commands if t >= start]
        already = closed_at(start) is not None
        reopened = [t for t in opens_cmd if start <= t < stop]
        if already:
            out["sensor_failure_detection"] = _check(
                not reopened,
                None,
                f"sensor {site.level_sensor_id} dead from {_fmt(start)} with the gate already closed"
                + (f"; reopened at {_fmt(reopened[0])} on dead data" if reopened else "; kept closed"),
            )
        elif reactions:
            d = min(reactions) - start
            out["sensor_failure_detection"] = _check(
                d <= stale_limit_s,
                round(d, 1),
                f"sensor {site.level_sensor_id} dead from {_fmt(start)}; reaction after {d:.0f} s "
                f"(limit {stale_limit_s:.0f} s)",
            )
        else:
            out["sensor_failure_detection"] = _check(
                False, None, f"sensor {site.level_sensor_id} dead from {_fmt(start)}: no reaction"
            )
    rej = _times(ev, "gate.rejected", g)
    out["rejected_commands"] = _check(not rej, len(rej), "none" if not rej else f"first at {_fmt(rej[0])}")
    return out


def stale_limit_s(policy, sites, sample_interval_s: float) -> float:
    """How soon a controller must react to a dead level sensor: the policy's ``stale_after`` plus
    two sampling intervals (the last reading may be almost one old, and one more for delivery)."""
    return max(policy.rule(s.gate_id).stale_after for s in sites) + 2.0 * float(sample_interval_s)


def verdict(run, sites, *, faults=(), stale_limit_s: float = 180.0, controller: str = "") -> dict[str, Any]:
    """The verdict of a run (:class:`twin.results.RunData`) for ``sites`` (gate sites) and the
    scenario's ``faults`` (twin.scenario.Fault)."""
    events = run.events
    try:
        stage = run.series("stage")
    except (KeyError, ValueError):
        stage = None
    end = float(run.summary.get("scenario", {}).get("duration_s") or events["time_s"].max() or 0.0)
    gates = {}
    for site in sites:
        drops = sorted(
            (float(f.start), float(f.end) if f.end is not None else end)
            for f in faults
            if f.kind == "dropout" and f.device == site.level_sensor_id
        )
        gates[site.gate_id] = gate_checks(site, events, stage, dropouts=drops, stale_limit_s=stale_limit_s, end_s=end)
    failed = sorted(f"{g}.{c}" for g, checks in gates.items() for c, r in checks.items() if not r["passed"])
    return {
        "status": "failed" if failed else "passed",  # a HIL run whose timing broke: "inconclusive" (hil_timing.py)
        "passed": not failed,
        "failed": failed,
        "controller": controller,
        "scenario": run.summary.get("scenario", {}),
        "stale_limit_s": stale_limit_s,
        "gates": gates,
    }
