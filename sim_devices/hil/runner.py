"""A hardware-in-the-loop run: the device fleet, the simulation in step with its paced clock, a
gate controller that reaches the devices only through their protocols, a recorder of every MQTT
message, and at the end the run folder with ``verdict.json`` and ``report.html``.

    result = run_hil(scenario, controller="builtin", policy=path, speed=60, out="runs/hil")
    result.status  # "passed", "failed" or "inconclusive" (a timing budget broke: twin.control.hil_timing)

``controller="builtin"`` starts :mod:`twin.control.remote_controller` as its own process, and
the clock waits for it to report its progress; ``"external"`` starts none and gives the
engineer's controller (pointed at the manifest) the ``hold_s`` before simulated second 0 to
connect. The working files (manifest, credentials, logs) live in a temporary folder that is
removed at the end; what is worth keeping is copied into ``out`` (never the credentials).
Times are simulated seconds unless named wall.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twin.control import hil_timing as timing
from twin.errors import TwinError
from twin.results import read_jsonl

AWAIT_CONTROLLER_S = 60.0  # wall seconds the clock holds second 0 for the builtin controller to start


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

    @property
    def status(self) -> str:
        """passed, failed or inconclusive (a timing budget broke)."""
        return self.verdict["status"]


def _gate_devices(city, gate_sites) -> set[str]:
    return {
        x
        for site in gate_sites(city)
        for x in (site.gate_id, site.level_sensor_id, site.rain_gauge_id, site.signboard_id, site.camera_id)
        if x
    }


def run_hil(
    scenario,
    *,
    controller: str = "builtin",
    policy: str | Path | None = None,
    speed: float = 60.0,
    strict: bool = False,
    out: str | Path | None = None,
    broker: str = "auto",
    manifest: str | Path | None = None,
    hold_s: float | None = None,
    stale_limit_s: float | None = None,
    progress: Callable[[float, float], None] | None = None,
    on_manifest: Callable[[Path], None] | None = None,
    city=None,
    devices: str = "all",
) -> HilResult:
    """Run ``scenario`` with its devices and a controller; returns the verdict (and writes ``out``).

    ``speed``: simulated s per wall s at most (``math.inf``: as fast as the slowest part allows);
    ``strict``: exactly ``speed`` (a controller on wall time; lag then makes the run
    inconclusive). ``devices``: "all" (every device of the dataset: the real load on the broker)
    or "gates" (the gates and the sensors, signboards and cameras that serve them)."""
    from twin.control.policy import load_policy
    from twin.models.gate import gate_sites

    if controller not in ("builtin", "external"):
        raise HilError(f"controller: got {controller!r}: expected builtin or external")
    if devices not in ("all", "gates"):
        raise HilError(f"devices: got {devices!r}: expected all or gates")
    if not speed > 0 or (strict and math.isinf(speed)):
        raise HilError(f"speed: got {speed}: expected a number > 0 (a strict clock needs a finite one)")
    if policy is None and scenario.controller is not None:
        policy = scenario.resolve_path(scenario.controller.policy)
    pol = load_policy(policy) if policy is not None else None
    if controller == "builtin" and pol is None:
        raise HilError("the builtin controller needs a policy: --policy FILE, or controller.policy in the scenario")
    if out is not None:
        from twin.atomic import check_output_dir
        from twin.results import SUMMARY

        check_output_dir(out, overwrite=True, marker=SUMMARY)
    only = None
    if devices == "gates":
        from twin.city import load_city

        city = city if city is not None else load_city(scenario.dataset_path())
        only = _gate_devices(city, gate_sites)
    work = Path(tempfile.mkdtemp(prefix="twin-hil-"))
    try:
        run = _HilRun(scenario, work, controller=controller, policy=policy, manifest=manifest)
        fleet_result = run.serve(
            speed=speed,
            strict=strict,
            broker=broker,
            city=city,
            only=only,
            hold_s=hold_s if hold_s is not None else (1.0 if controller == "builtin" else 15.0),
            progress=progress,
            on_manifest=on_manifest,
        )
        return run.judge(fleet_result, pol, speed=speed, stale_limit_s=stale_limit_s, out=out)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # credentials and logs; what is worth keeping went into out


class _HilRun:
    """One run's fleet, controller process and working files (in ``work``)."""

    def __init__(self, scenario, work: Path, *, controller: str, policy, manifest) -> None:
        self.scenario = scenario
        self.work = work
        self.controller = controller
        self.policy = policy
        self.manifest = Path(manifest) if manifest else work / "fleet" / "manifest.json"
        self.manifest.parent.mkdir(parents=True, exist_ok=True)
        self.decisions_log = work / "controller.jsonl"
        self.inputs_log = work / "controller_inputs.jsonl"
        self.messages_log = work / "messages.jsonl"
        self.proc: subprocess.Popen | None = None
        self.fleet: Any = None
        self.wall_s = 0.0

    def _start_controller(self, path: Path) -> None:
        cmd = [
            sys.executable, "-m", "twin.control.remote_controller", "--manifest", str(path),
            "--policy", str(self.policy), "--log", str(self.decisions_log), "--inputs", str(self.inputs_log),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def serve(self, *, speed, strict, broker, city, only, hold_s, progress, on_manifest) -> dict[str, Any]:
        from ..fleet import Fleet

        self.fleet = Fleet(
            self.scenario,
            speed=speed,
            strict=strict,
            broker_url=broker,
            workdir=self.manifest.parent.resolve(),
            city=city,
            only=only,
            record=self.messages_log,
        )

        def ready(path: Path) -> None:
            if self.controller == "builtin":
                self._start_controller(path)
            if on_manifest is not None:
                on_manifest(path)

        wall = time.monotonic()
        try:
            result = asyncio.run(
                self.fleet.serve(
                    manifest=self.manifest,
                    progress=progress,
                    hold_s=hold_s,
                    on_ready=ready,
                    await_controller_s=AWAIT_CONTROLLER_S if self.controller == "builtin" else None,
                )
            )
        except BaseException:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()  # the run failed: do not leave the controller behind
            raise
        self.wall_s = time.monotonic() - wall
        return result

    def _controller_exit(self) -> tuple[int | None, str]:
        if self.proc is None:
            return None, ""
        try:
            _, stderr = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, stderr = self.proc.communicate()
        return self.proc.returncode, stderr or ""

    def _reactions(self, decisions, events, sites, interval_s: float) -> list[dict[str, Any]]:
        if decisions or self.controller == "builtin":
            return timing.reactions_from_decisions(decisions, events, sites)
        devs = {d["id"]: d for d in json.loads(self.manifest.read_text(encoding="utf-8"))["devices"]}
        topics = {s.gate_id: devs[s.level_sensor_id]["mqtt"]["telemetry"] for s in sites if s.level_sensor_id in devs}
        messages = read_jsonl(self.messages_log, strict=False) or []
        return timing.reactions_from_messages(messages, events, sites, topics, interval_s)

    def judge(self, fleet_result: dict[str, Any], pol, *, speed: float, stale_limit_s, out) -> HilResult:
        from twin.control.verdict import stale_limit_s as default_limit
        from twin.control.verdict import verdict
        from twin.control.verdict_report import html_report
        from twin.models.gate import gate_sites
        from twin.results import RunData

        fleet, scenario = self.fleet, self.scenario
        code, stderr = self._controller_exit()
        sites = gate_sites(fleet.sim.city)
        interval = float(scenario.devices.level_sensor.sample_interval)
        if stale_limit_s is None:
            stale_limit_s = default_limit(pol, sites, interval) if pol else 180.0
        events = fleet.sim.engine.events.to_frame()
        run = RunData({"scenario": fleet.sim.scenario_header()}, fleet.sim.engine.recorder.to_frame(), events,
                      None, None, Path("."))  # fmt: skip
        label = "builtin (remote_controller, protocols only)" if self.controller == "builtin" else "external"
        v = verdict(run, sites, faults=scenario.faults, stale_limit_s=stale_limit_s, controller=label)
        logged = read_jsonl(self.decisions_log, strict=False) or []
        decisions = [d for d in logged if "summary" not in d]
        t = timing.assess(fleet_result["timing"], self._reactions(decisions, events, sites, interval), interval)
        t["wall_s"] = round(self.wall_s, 1)
        ctl = next((d["summary"] for d in logged if "summary" in d), None)
        if ctl is not None:
            t["controller_intake_age_s"] = ctl.get("intake_age_s")
        timing.apply(v, t)
        v["hil"] = {
            "speed": None if math.isinf(speed) else speed,
            "wall_s": round(self.wall_s, 1),
            "broker": fleet.broker_kind,
            "controller_exit_code": code,
            "messages_recorded": fleet_result.get("messages_recorded", 0),
            "devices": len(fleet.devices),
        }
        if stderr:
            (self.work / "controller.log").write_text(stderr, encoding="utf-8")
        if code not in (None, 0):
            v["status"], v["passed"] = "failed", False
            v["failed"] = [*v["failed"], "controller.exit_code"]
            v["hil"]["controller_stderr"] = stderr[-2000:]
        result = HilResult(v, None, fleet_result, self.wall_s, code, v["hil"]["messages_recorded"])
        if out is not None:
            files = {
                "verdict.json": json.dumps(v, ensure_ascii=False, indent=2) + "\n",
                "report.html": html_report(v, run, sites),
                "manifest.json": self.manifest.read_text(encoding="utf-8") if self.manifest.is_file() else "{}",
            }
            for name in ("messages.jsonl", "controller.jsonl", "controller_inputs.jsonl", "controller.log"):
                if (self.work / name).is_file():
                    files[name] = (self.work / name).read_text(encoding="utf-8")
            if self.policy is not None:
                files["policy.yaml"] = Path(self.policy).read_text(encoding="utf-8")
            result.out = fleet.write_run(out, fleet_result, files=files, summary_extra={"hil": v["hil"]})
        return result
