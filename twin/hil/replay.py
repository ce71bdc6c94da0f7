"""Replay a recorded HIL run to another controller version and say where its decisions differ.

A HIL run folder holds what the controller saw: every MQTT message with its arrival time
(``messages.jsonl``: level and rain telemetry), the cameras' analytics events and what the
controller did (``events.parquet``: ``cctv.objects_inside``, ``signboard.display``,
``gate.close_command`` / ``gate.open_command``), and the manifest that ties each gate to its
devices. :func:`replay` feeds the readings, in the order and at the times they arrived, to a
:class:`~twin.control.gate_logic.GateLogic` with a new policy, deciding on every reading and
twice per sampling interval as the reference controller does, and lines its actions up with the
recorded ones: the controller's own decision log (``controller.jsonl``) when it wrote one,
else what the devices recorded. The replay is open loop: the recorded world does not answer the new decisions
(people do not leave earlier for an earlier warning). Times are simulated seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..control.gate_logic import GateLogic, Observation
from ..control.policy import Policy
from ..errors import TwinError

EFFECT_GRACE_S = 10.0  # delivery of a command or CAP post, when only the devices' records are known


class ReplayError(TwinError):
    """A run folder that cannot be replayed (not a HIL run, or damaged)."""


def _recorded_actions(events: pd.DataFrame, gate_id: str, board_id: str | None) -> list[tuple[float, str]]:
    """What the recorded controller did at a gate: warn / clear_warning (its signboard going from
    blank to a message and back), close / open (commands the gate took)."""
    out: list[tuple[float, str]] = []
    showing = False
    for r in events.sort_values("time_s", kind="stable").itertuples():
        if r.kind == "signboard.display" and r.entity_id == board_id:
            lines = json.loads(r.data or "{}").get("lines") or []
            if lines and not showing:
                out.append((float(r.time_s), "warn"))
            elif not lines and showing:
                out.append((float(r.time_s), "clear_warning"))
            showing = bool(lines)
        elif r.entity_id == gate_id and r.kind in ("gate.close_command", "gate.open_command"):
            out.append((float(r.time_s), r.kind.split(".")[1].removesuffix("_command")))
    return out


def _logged_actions(folder: Path, gate_id: str) -> list[tuple[float, str]] | None:
    """The decisions a controller logged itself (controller.jsonl of the reference controller):
    the moments it decided, not when the devices felt it. None without such a log."""
    path = folder / "controller.jsonl"
    if not path.is_file():
        return None
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if d.get("gate") == gate_id:
            out.append((float(d["time_s"]), str(d["action"])))
    return out


def _observations(messages: list[dict[str, Any]], level_topic: str | None, rain_topic: str | None):
    """(arrival s, kind, payload) of a gate's readings, in arrival order."""
    out = []
    for m in messages:
        if m["topic"] == level_topic and isinstance(m["payload"], dict) and m["payload"].get("value") is not None:
            out.append((float(m["sim_s"]), "level", m["payload"]))
        elif m["topic"] == rain_topic and isinstance(m["payload"], dict):
            out.append((float(m["sim_s"]), "rain", m["payload"]))
    return out


def _run_logic(logic: GateLogic, readings, cameras: list[tuple[float, bool]], interval_s: float, end_s: float):
    stage: tuple[float | None, float | None] = (None, None)
    rain = None
    inside: bool | None = None
    cam = sorted(cameras)
    ci = 0
    actions: list[tuple[float, str, str]] = []
    ticks = [k * interval_s / 2 for k in range(int(end_s / (interval_s / 2)) + 1)]
    stream = sorted([(t, 1, kind, p) for t, kind, p in readings] + [(t, 0, "tick", None) for t in ticks],
                    key=lambda x: (x[0], x[1]))  # fmt: skip
    for t, _, kind, p in stream:
        while ci < len(cam) and cam[ci][0] <= t:
            inside = cam[ci][1]
            ci += 1
        if kind == "level":
            st = float(p["sim_time_s"])
            if stage[1] is None or st > stage[1]:
                stage = (float(p["value"]), st)
        elif kind == "rain" and p.get("rain_10min_mm") is not None:
            rain = float(p["rain_10min_mm"]) * 6.0
        people = None if inside is None else int(inside)
        for a in logic.step(Observation(t, stage[0], stage[1], rain, people)):
            actions.append((a.t_s, a.kind, a.reason))
    return actions


def check_run(folder: str | Path) -> Path:
    """The folder, if it is a HIL run folder; else :class:`ReplayError` saying what is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReplayError(f"{folder}: not a folder: expected the output folder of twin hil --out")
    for name in ("messages.jsonl", "manifest.json", "events.parquet"):
        if not (folder / name).is_file():
            raise ReplayError(f"{folder}: not a HIL run folder: no {name} (write one with twin hil --out)")
    return folder


def replay(folder: str | Path, policy: Policy) -> dict[str, Any]:
    """Replay the HIL run in ``folder`` with ``policy``; per gate, the recorded and replayed
    actions and whether they differ (another sequence, or a time more than one sampling
    interval apart)."""
    folder = check_run(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    try:
        messages = [json.loads(line) for line in (folder / "messages.jsonl").read_text(encoding="utf-8").splitlines()]
    except json.JSONDecodeError as exc:
        raise ReplayError(f"{folder / 'messages.jsonl'}: a line is not JSON: {exc}") from None
    events = pd.read_parquet(folder / "events.parquet")
    devs = {d["id"]: d for d in manifest["devices"]}
    boards = {d.get("access_id"): d["id"] for d in devs.values() if d["kind"] == "signboard"}
    cams = {d.get("watches"): d["id"] for d in devs.values() if d["kind"] == "cctv"}
    end = float(manifest["duration_s"])
    gates: dict[str, Any] = {}
    differ = []
    for g in sorted((d for d in devs.values() if d["kind"] == "gate"), key=lambda d: d["id"]):
        gid = g["id"]
        level = devs.get(g.get("level_sensor_id") or "")
        rain = devs.get(g.get("rain_gauge_id") or "")
        interval = float(level["sample_interval_s"]) if level else 10.0
        readings = _observations(
            messages, level["mqtt"]["telemetry"] if level else None, rain["mqtt"]["telemetry"] if rain else None
        )
        cam_id = cams.get(g.get("access_id"))
        sel = events[(events.kind == "cctv.objects_inside") & (events.entity_id == (cam_id or ""))]
        cam_states = [(float(r.time_s), bool(json.loads(r.data or "{}").get("inside"))) for r in sel.itertuples()]
        if cam_id is not None:
            cam_states = [(0.0, False), *cam_states]  # the camera's first state: nobody in view
        new = _run_logic(GateLogic(gid, policy.rule(gid)), readings, cam_states, interval, end)
        logged = _logged_actions(folder, gid)
        old = logged if logged is not None else _recorded_actions(events, gid, boards.get(g.get("access_id")))
        # the devices' records come after the command took effect: allow for its delivery too
        tolerance = interval if logged is not None else interval + EFFECT_GRACE_S
        same_kinds = [k for _, k in old] == [k for _, k, _ in new]
        shifts = [round(b[0] - a[0], 1) for a, b in zip(old, new, strict=False)]
        diff = not same_kinds or any(abs(s) > tolerance for s in shifts)
        if diff:
            differ.append(gid)
        gates[gid] = {
            "differs": diff,
            "recorded": [{"time_s": round(t, 1), "action": k} for t, k in old],
            "replayed": [{"time_s": round(t, 1), "action": k, "reason": r} for t, k, r in new],
            "time_shifts_s": shifts,
        }
    return {"folder": str(folder), "differs": differ, "gates": gates}


def replay_text(result: dict[str, Any]) -> str:
    out = []
    for gid, g in result["gates"].items():
        mark = "DIFFERS" if g["differs"] else "same"
        rec = ", ".join(f"{a['action']} {a['time_s']:.0f}" for a in g["recorded"]) or "-"
        new = ", ".join(f"{a['action']} {a['time_s']:.0f}" for a in g["replayed"]) or "-"
        out.append(f"{gid}  {mark}\n    recorded: {rec}\n    replayed: {new}")
    n = len(result["differs"])
    out.append(
        "the new controller decides as the recorded one at every gate"
        if not n
        else f"decisions differ at {n} gate(s): {', '.join(result['differs'])}"
    )
    return "\n".join(out)
