"""Replay a recorded HIL run to another controller version and say where its decisions differ.

The replay depends only on the recording, never on the machine that replays it or how busy it
is. The reference controller writes every observation it gave its decision logic
(``controller_inputs.jsonl``: the time on the fleet's clock, the level reading and its sample
time, the rain, the people the camera saw) and every decision with the reading it was based on
(``controller.jsonl``). :func:`replay` gives those same observations, in the same order, to a
:class:`~twin.control.gate_logic.GateLogic` with the new policy: with the recorded policy it
decides exactly as recorded, at the same simulated times. Decisions are lined up in order and
compared by the sample time of the reading they were based on.

A run of another controller has no such log. Then the observations are rebuilt from what the
fleet recorded: every MQTT message with its arrival on the fleet's (paced) clock
(``messages.jsonl``: level and rain telemetry), the cameras' analytics events
(``events.parquet``: ``cctv.objects_inside``), a decision on every reading and twice per
sampling interval as the reference controller decides; and they are compared with what the
devices recorded (``gate.close_command`` / ``gate.open_command``, ``signboard.display``),
allowing for the delivery of a command.

The replay is open loop: the recorded world does not answer the new decisions (people do not
leave earlier for an earlier warning). Times are simulated seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, overload

import pandas as pd

from ..errors import TwinError
from ..results import read_jsonl
from .gate_logic import GateLogic, Observation
from .policy import Policy

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


def _logged_actions(folder: Path, gate_id: str) -> list[tuple[float, str, float | None]] | None:
    """The decisions a controller logged itself (controller.jsonl of the reference controller):
    (when it decided, what, the sample time of the reading it was based on). None without a log."""
    path = folder / "controller.jsonl"
    logged = read_jsonl(path)
    if logged is None:
        return None
    out: list[tuple[float, str, float | None]] = []
    for d in logged:
        if d.get("gate") == gate_id and "action" in d:
            t, reading = _number(d.get("time_s"), path, "time_s"), d.get("reading_time_s")
            out.append((t, str(d["action"]), None if reading is None else _number(reading, path, "reading_time_s")))
    return out


@overload
def _number(x: Any, path: Path, field: str, *, optional: Literal[False] = False) -> float: ...
@overload
def _number(x: Any, path: Path, field: str, *, optional: Literal[True]) -> float | None: ...
def _number(x: Any, path: Path, field: str, *, optional: bool = False) -> float | None:
    """A finite number from a log record, or a clean error naming the file and the field."""
    if x is None and optional:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float) or x != x or abs(x) == float("inf"):
        raise ReplayError(f"{path}: {field}: got {str(x)[:40]!r}: expected a number (a damaged log)")
    return float(x)


def _logged_inputs(folder: Path) -> dict[str, list[Observation]] | None:
    """The observations the reference controller gave its logic, per gate, in order."""
    path = folder / "controller_inputs.jsonl"
    rows = read_jsonl(path)
    if rows is None:
        return None
    out: dict[str, list[Observation]] = {}
    for r in rows:
        people = _number(r.get("people_in_zone"), path, "people_in_zone", optional=True)
        out.setdefault(str(r.get("gate")), []).append(
            Observation(
                _number(r.get("t_s"), path, "t_s"),
                _number(r.get("stage_m"), path, "stage_m", optional=True),
                _number(r.get("stage_time_s"), path, "stage_time_s", optional=True),
                _number(r.get("rain_mm_h"), path, "rain_mm_h", optional=True),
                None if people is None else int(people),
            )
        )
    return out


def _step_all(logic: GateLogic, observations: list[Observation]) -> list[tuple[float, str, str, float | None]]:
    """(time, action, reason, sample time of the reading it was based on) for each action."""
    out = []
    for obs in observations:
        for a in logic.step(obs):
            out.append((a.t_s, a.kind, a.reason, obs.stage_time_s))
    return out


def _observations(messages: list[dict[str, Any]], level_topic: str | None, rain_topic: str | None):
    """(arrival s, kind, payload) of a gate's readings, in arrival order; a record that is not a
    well-formed reading is skipped, as a controller would skip the message."""

    def num(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool) and x == x and abs(x) != float("inf")

    out = []
    for m in messages:
        p, topic = m.get("payload"), m.get("topic")
        if not (isinstance(p, dict) and num(m.get("sim_s")) and topic in (level_topic, rain_topic)):
            continue
        if topic == level_topic and num(p.get("value")) and num(p.get("sim_time_s")):
            out.append((float(m["sim_s"]), "level", p))
        elif topic == rain_topic and (p.get("rain_10min_mm") is None or num(p.get("rain_10min_mm"))):
            out.append((float(m["sim_s"]), "rain", p))
    return out


def _rebuilt_observations(readings, cameras: list[tuple[float, bool]], interval_s: float, end_s: float):
    """Observations as the reference controller would have made them from the recorded messages."""
    stage: tuple[float | None, float | None] = (None, None)
    rain = None
    inside: bool | None = None
    cam = sorted(cameras)
    ci = 0
    observations: list[Observation] = []
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
        observations.append(Observation(t, stage[0], stage[1], rain, people))
    return observations


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
    actions and whether they differ (another sequence, or a reading more than one sampling
    interval apart)."""
    folder = check_run(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    inputs = _logged_inputs(folder)
    messages: list[dict[str, Any]] = []
    if inputs is None:  # the recorded telemetry stands in for the controller's own observations
        recorded = read_jsonl(folder / "messages.jsonl")
        if recorded is None:  # gone since check_run
            raise ReplayError(f"{folder}: not a HIL run folder: no messages.jsonl (write one with twin hil --out)")
        messages = recorded
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
        interval = float(level["sample_interval_s"]) if level else 10.0
        logic = GateLogic(gid, policy.rule(gid))
        logged = _logged_actions(folder, gid)
        if inputs is not None:  # the controller's own observations: exact
            new = _step_all(logic, inputs.get(gid, []))
            old = [(t, k, r) for t, k, r in (logged or [])]
            tolerance = interval
        else:
            rain = devs.get(g.get("rain_gauge_id") or "")
            readings = _observations(
                messages, level["mqtt"]["telemetry"] if level else None, rain["mqtt"]["telemetry"] if rain else None
            )
            cam_id = cams.get(g.get("access_id"))
            sel = events[(events.kind == "cctv.objects_inside") & (events.entity_id == (cam_id or ""))]
            cam_states = [(float(r.time_s), bool(json.loads(r.data or "{}").get("inside"))) for r in sel.itertuples()]
            if cam_id is not None:
                cam_states = [(0.0, False), *cam_states]  # the camera's first state: nobody in view
            new = _step_all(logic, _rebuilt_observations(readings, cam_states, interval, end))
            if logged is not None:
                old = [(t, k, r) for t, k, r in logged]
                tolerance = interval
            else:  # the devices' records come after the command took effect: allow for its delivery too
                old = [(t, k, None) for t, k in _recorded_actions(events, gid, boards.get(g.get("access_id")))]
                tolerance = interval + EFFECT_GRACE_S
        same_kinds = [k for _, k, _ in old] == [k for _, k, _, _ in new]
        # compare by the reading each decision was based on, where both sides know it; else by time
        shifts = [
            round((b[3] - a[2]) if a[2] is not None and b[3] is not None else (b[0] - a[0]), 3)
            for a, b in zip(old, new, strict=False)
        ]
        diff = not same_kinds or any(abs(s) > tolerance for s in shifts)
        if diff:
            differ.append(gid)
        gates[gid] = {
            "differs": diff,
            "exact": inputs is not None,
            "recorded": [{"time_s": round(t, 3), "action": k, "reading_time_s": r} for t, k, r in old],
            "replayed": [
                {"time_s": round(t, 3), "action": k, "reason": why, "reading_time_s": r} for t, k, why, r in new
            ],
            "time_shifts_s": shifts,
        }
    return {"folder": str(folder), "exact": inputs is not None, "differs": differ, "gates": gates}


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
