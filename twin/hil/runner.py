"""A hardware-in-the-loop run: the device fleet, the simulation in step with the clock, a gate
controller that reaches the devices only through their protocols, a recorder of every MQTT
message, and at the end the run folder with ``verdict.json`` and ``report.html``.

    result = run_hil(scenario, controller="builtin", policy=path, speed=60, out="runs/hil")

``controller="builtin"`` starts :mod:`twin.control.remote_controller` as its own process;
``"external"`` starts none and gives the engineer's controller (pointed at the manifest) the
``hold_s`` before simulated second 0 to connect. Times are simulated seconds unless named wall.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TwinError


class HilError(TwinError):
    """A hardware-in-the-loop run could not start or finish."""


@dataclass
class HilResult:
    verdict: dict[str, Any]
    out: Path | None
    fleet_result: dict[str, Any]
    wall_s: float
    controller_exit: int | None
    messages: int


class MessageRecorder:
    """Every MQTT message under the topic root, with the wall time and the fleet's simulated
    time at arrival, appended to a JSON-lines file (paho's network thread writes it)."""

    def __init__(self, manifest: dict[str, Any], creds: dict[str, Any], path: Path) -> None:
        import paho.mqtt.client as mqtt

        self.path = path
        self.count = 0
        self._lock = threading.Lock()
        self._f = path.open("w", encoding="utf-8")
        t0, speed = float(manifest["clock_started_at"]), float(manifest["speed"])
        op = manifest["broker"]["operator"]["username"]
        root = manifest["broker"]["topic_root"]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"hil-recorder-{int(time.time())}")
        c.username_pw_set(op, creds[op]["password"])

        def on_connect(client, userdata, flags, rc, props=None):
            if not rc.is_failure:
                client.subscribe([(f"{root}/#", 1), ("application/#", 1)])

        def on_message(client, userdata, msg):
            now = time.time()
            try:
                payload: Any = json.loads(msg.payload)
            except (ValueError, UnicodeDecodeError):
                payload = msg.payload.decode("utf-8", "replace")
            line = json.dumps(
                {"wall": round(now, 4), "sim_s": round((now - t0) * speed, 3), "topic": msg.topic, "payload": payload},
                ensure_ascii=False,
            )
            with self._lock:
                self._f.write(line + "\n")
                self.count += 1

        c.on_connect = on_connect
        c.on_message = on_message
        c.reconnect_delay_set(0.2, 2.0)
        c.connect_async(manifest["broker"]["host"], int(manifest["broker"]["port"]), keepalive=10)
        c.loop_start()
        self.client = c

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        with self._lock:
            self._f.close()


def run_hil(
    scenario,
    *,
    controller: str = "builtin",
    policy: str | Path | None = None,
    speed: float = 60.0,
    out: str | Path | None = None,
    broker: str = "embedded",
    manifest: str | Path | None = None,
    hold_s: float | None = None,
    stale_limit_s: float | None = None,
    progress: Callable[[float, float], None] | None = None,
    on_manifest: Callable[[Path], None] | None = None,
    city=None,
    devices: str = "all",
) -> HilResult:
    """Run ``scenario`` with its devices and a controller; returns the verdict (and writes ``out``).

    ``devices``: "all" (every device of the dataset: the real load on the broker) or "gates"
    (the gates and the sensors, signboards and cameras that serve them)."""
    from sim_devices.fleet import Fleet

    from ..control.policy import load_policy
    from ..models.gate import gate_sites
    from ..results import RunData
    from .report import html_report
    from .verdict import stale_limit_s as default_limit
    from .verdict import verdict

    if controller not in ("builtin", "external"):
        raise HilError(f"controller: got {controller!r}: expected builtin or external")
    if policy is None and scenario.controller is not None:
        policy = scenario.resolve_path(scenario.controller.policy)
    pol = load_policy(policy) if policy is not None else None
    if controller == "builtin" and pol is None:
        raise HilError("the builtin controller needs a policy: --policy FILE, or controller.policy in the scenario")
    if out is not None:
        from .._atomic import check_output_dir
        from ..results import SUMMARY

        check_output_dir(out, overwrite=True, marker=SUMMARY)
    work = Path(tempfile.mkdtemp(prefix="twin-hil-"))
    manifest = Path(manifest) if manifest else work / "fleet" / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    hold = hold_s if hold_s is not None else (3.0 if controller == "builtin" else 15.0)
    if devices not in ("all", "gates"):
        raise HilError(f"devices: got {devices!r}: expected all or gates")
    only = None
    if devices == "gates":
        from ..city import load_city

        city = city if city is not None else load_city(scenario.dataset_path())
        only = {
            x
            for site in gate_sites(city)
            for x in (site.gate_id, site.level_sensor_id, site.rain_gauge_id, site.signboard_id, site.camera_id)
            if x
        }
    fleet = Fleet(scenario, speed=speed, broker_url=broker, workdir=manifest.parent.resolve(), city=city, only=only)
    started: dict[str, Any] = {}
    decisions_log = work / "controller.jsonl"

    def ready(path: Path) -> None:
        m = json.loads(path.read_text(encoding="utf-8"))
        creds = json.loads((path.parent / "credentials.json").read_text(encoding="utf-8"))
        started["recorder"] = MessageRecorder(m, creds, work / "messages.jsonl")
        if controller == "builtin":
            cmd = [
                sys.executable,
                "-m",
                "twin.control.remote_controller",
                "--manifest",
                str(path),
                "--policy",
                str(policy),
                "--log",
                str(decisions_log),
            ]
            started["proc"] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if on_manifest is not None:
            on_manifest(path)

    wall = time.monotonic()
    try:
        fleet_result = asyncio.run(fleet.serve(manifest=manifest, progress=progress, hold_s=hold, on_ready=ready))
    finally:
        rec = started.get("recorder")
        if rec is not None:
            rec.close()
    wall_s = time.monotonic() - wall
    code = None
    proc = started.get("proc")
    stderr = ""
    if proc is not None:
        try:
            _, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
        code = proc.returncode
    sites = gate_sites(fleet.sim.city)
    limit = stale_limit_s
    if limit is None:
        limit = default_limit(pol, sites, scenario.devices.level_sensor.sample_interval) if pol else 180.0
    events = fleet.sim.engine.events.to_frame()
    summary = {"scenario": fleet.sim.scenario_header()}
    run = RunData(summary, fleet.sim.engine.recorder.to_frame(), events, None, None, Path("."))
    label = "builtin (remote_controller, protocols only)" if controller == "builtin" else "external"
    v = verdict(run, sites, faults=scenario.faults, stale_limit_s=limit, controller=label)
    v["hil"] = {
        "speed": speed,
        "wall_s": round(wall_s, 1),
        "broker": fleet.broker_kind,
        "controller_exit_code": code,
        "messages_recorded": rec.count if rec is not None else 0,
        "devices": len(fleet.devices),
        "max_clock_lag_s": fleet_result.get("max_clock_lag_s"),
    }
    if stderr:
        (work / "controller.log").write_text(stderr, encoding="utf-8")
    if code not in (None, 0):
        v["passed"] = False
        v["failed"] = [*v["failed"], "controller.exit_code"]
        v["hil"]["controller_stderr"] = stderr[-2000:]
    result = HilResult(v, None, fleet_result, wall_s, code, rec.count if rec is not None else 0)
    if out is not None:
        files = {
            "verdict.json": json.dumps(v, ensure_ascii=False, indent=2) + "\n",
            "report.html": html_report(v, run, sites),
            "manifest.json": manifest.read_text(encoding="utf-8") if manifest.is_file() else "{}",
        }
        for name in ("messages.jsonl", "controller.jsonl", "controller.log"):
            if (work / name).is_file():
                files[name] = (work / name).read_text(encoding="utf-8")
        if policy is not None:
            files["policy.yaml"] = Path(policy).read_text(encoding="utf-8")
        result.out = fleet.write_run(out, fleet_result, files=files, summary_extra={"hil": v["hil"]})
    return result
