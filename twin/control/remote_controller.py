"""The reference gate controller as its own program, speaking only the devices' protocols, as a
real controller in the field would::

    python -m twin.control.remote_controller --manifest fleet/manifest.json --policy policy.yaml

It reads the fleet's manifest (endpoints, register maps, topics) and ``credentials.json`` beside
it. Level and rain readings come over MQTT (the sensors' telemetry); while the broker is away it
polls the sensors' Modbus registers instead. People at each access point come from the camera
that watches it (ONVIF PullPoint, ``RuleEngine/FieldDetector/ObjectsInside``). Decisions are
:class:`~twin.control.gate_logic.GateLogic`'s, the same as the in-process controller's; gates
are commanded over Modbus (coil 0 close, coil 1 open) and signboards get CAP 1.2 alerts over HTTP.

The clock is the fleet's: the controller reads the simulated time from the fleet's clock device
(Modbus input registers) and writes back its progress (holding registers: "I have handled
everything that reached me before the clock read this"), so a paced fleet waits for it when the
host is busy instead of running ahead (sim_devices/clock.py). Each gate's loop runs once per new
clock reading. A manifest without a clock device falls back to (wall time - ``clock_started_at``)
x ``speed``.

Every decision is appended to ``--log`` (JSON lines) with the reading it was based on; every
observation the decision logic was given goes to ``--inputs`` (JSON lines), so a replay with the
same policy decides exactly as recorded (:mod:`twin.control.replay`).

Why one module of this size: it is a whole program (MQTT, Modbus and ONVIF clients, clock
following, logs); the decisions it makes live in :mod:`twin.control.gate_logic`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import queue
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .cap_message import cap_alert, post_cap, reference
from .fleet_clock import (
    CLOCK_POLL_S,
    ENDED,
    RUNNING,
    WAITING,
    ManifestError,
    delay_stats,
    pack_time,
    read_fleet_file,
    unpack_time,
    wait_for_manifest,
)
from .gate_logic import Action, GateLogic, Observation
from .policy import Policy, PolicyError, load_policy

log = logging.getLogger("twin.remote_controller")
HANDLE_WAIT_S = 0.2  # wall seconds the clock follower waits for the gates' loops before reporting progress


@dataclass
class _Site:
    gate: dict[str, Any]
    logic: GateLogic
    level: dict[str, Any] | None
    rain: dict[str, Any] | None
    board: dict[str, Any] | None
    camera: dict[str, Any] | None
    stage: tuple[float | None, float | None] = (None, None)  # value m, sample time s
    rain_mm_h: float | None = None
    inside: bool | None = None
    alert: tuple[str, datetime] | None = None  # the alert on the signboard now
    alerts: int = 0
    next_s: float = 0.0
    seen_s: float | None = None  # sample time of the reading the last decision saw
    last_poll_s: float = -1e9
    done_s: float | None = None  # the clock reading this gate's loop last finished
    decisions: list[dict[str, Any]] = field(default_factory=list)


class RemoteController:
    """Runs every gate of a fleet's manifest by ``policy`` until the scenario's end."""

    def __init__(
        self,
        manifest_path: str | Path,
        policy: Policy,
        *,
        log_path: str | Path | None = None,
        inputs_path: str | Path | None = None,
    ) -> None:
        self.manifest_path = Path(manifest_path)
        self.m = read_fleet_file(
            self.manifest_path, "manifest", ("speed", "clock_started_at", "duration_s", "start", "devices", "broker")
        )
        cred_file = self.manifest_path.parent / str(self.m.get("credentials_file", "credentials.json"))
        self.creds = read_fleet_file(cred_file, "credentials")
        self.policy = policy
        self.speed = float(self.m["speed"] or 0.0)  # None: a fleet at speed max
        self.t0 = float(self.m["clock_started_at"])
        self.clock_dev = (self.m.get("clock") or {}).get("modbus")
        if self.clock_dev is None and not self.speed:
            raise ManifestError(f"manifest {self.manifest_path}: clock: got neither a clock device nor a fixed speed")
        self.clock_s = 0.0  # the fleet's simulated time, as last read
        self.clock_state = WAITING
        # made anew by run(); asyncio binds them to the running loop when first used
        self._tick = asyncio.Condition()
        self._handled = asyncio.Event()  # every gate's loop has handled the latest clock reading
        self.intake_ages: list[float] = []  # clock - sample time of each new level reading taken in
        self.duration_s = float(self.m["duration_s"])
        self.start = datetime.fromisoformat(self.m["start"])
        self.log_path = Path(log_path) if log_path else None
        self.inputs_path = Path(inputs_path) if inputs_path else None
        self._inputs: Any = None
        devs = {d["id"]: d for d in self.m["devices"]}
        boards = {d.get("access_id"): d for d in devs.values() if d["kind"] == "signboard" and d.get("access_id")}
        cams = {d.get("watches"): d for d in sorted(devs.values(), key=lambda d: d["id"]) if d["kind"] == "cctv"}
        self.sites: list[_Site] = []
        for g in sorted((d for d in devs.values() if d["kind"] == "gate"), key=lambda d: d["id"]):
            self.sites.append(
                _Site(
                    gate=g,
                    logic=GateLogic(g["id"], policy.rule(g["id"])),
                    level=devs.get(g.get("level_sensor_id") or ""),
                    rain=devs.get(g.get("rain_gauge_id") or ""),
                    board=boards.get(g.get("access_id")),
                    camera=cams.get(g.get("access_id")),
                )
            )
        self.interval_s = min(
            (float(s.level["sample_interval_s"]) for s in self.sites if s.level is not None), default=10.0
        )
        self.inbox: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.mqtt_up = False
        self._modbus: dict[int, Any] = {}
        self.readings = {"mqtt": 0, "modbus": 0}  # level readings taken, by where they came from
        self._http: Any = None  # one HTTP client for every CAP post (httpx.AsyncClient)

    # --- the clock ----------------------------------------------------------------------------
    def now_s(self) -> float:
        return self.clock_s

    async def _set_clock(self, t_s: float, state: int) -> None:
        if t_s != self.clock_s or state != self.clock_state:
            async with self._tick:
                self.clock_s, self.clock_state = t_s, state
                self._tick.notify_all()

    def _clock_moved(self, seen: float | None) -> bool:
        """Whether the clock reads another time than ``seen`` (s), or has ended."""
        return self.clock_s != seen or self.clock_state == ENDED

    def _progress(self) -> float | None:
        done = [s.done_s for s in self.sites if s.done_s is not None]
        return None if not self.sites or len(done) < len(self.sites) else min(done)

    async def _follow_clock(self, dev: dict[str, Any]) -> None:
        """Read the fleet's clock device ``dev`` (its manifest entry) every few ms, let the gates'
        loops handle the new time, then write back their progress (the clock may wait for it)."""
        unit = int(dev.get("unit_id", 1))
        written: float | None = None
        while True:
            try:
                c = await self._client(int(dev["port"]))
                rr = await c.read_input_registers(0, count=4, device_id=unit)
                if not rr.isError():
                    t = unpack_time(rr.registers[:3])
                    if t != self.clock_s or int(rr.registers[3]) != self.clock_state:
                        self._handled.clear()
                        await self._set_clock(t, int(rr.registers[3]))
                        try:  # the gates' loops run now; a gate waiting on a slow device holds the progress
                            await asyncio.wait_for(self._handled.wait(), timeout=HANDLE_WAIT_S)
                        except TimeoutError:
                            pass
                done = self._progress()
                if done is not None and done != written:
                    wr = await c.write_registers(0, pack_time(done), device_id=unit)
                    written = done if not wr.isError() else written
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the fleet is gone or busy: try again
                log.warning("clock device: %s", exc)
                await asyncio.sleep(0.05)
            if self.clock_state == ENDED:
                return
            await asyncio.sleep(CLOCK_POLL_S)

    async def _follow_wall_clock(self, tick: float) -> None:
        """No clock device: simulated time = (wall time - clock_started_at) x speed."""
        while True:
            t = (time.time() - self.t0) * self.speed
            await self._set_clock(max(t, 0.0), RUNNING if t >= 0 else WAITING)
            if t >= self.duration_s:
                await self._set_clock(t, ENDED)
                return
            await asyncio.sleep(tick)

    def clock(self, t_s: float) -> datetime:
        return self.start + timedelta(seconds=t_s)

    # --- inputs ---------------------------------------------------------------------------------
    def _start_mqtt(self):
        import paho.mqtt.client as mqtt

        op = self.m["broker"]["operator"]["username"]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gate-controller-{int(time.time())}")
        c.username_pw_set(op, self.creds[op]["password"])
        topics = [s.level["mqtt"]["telemetry"] for s in self.sites if s.level]
        topics += [s.rain["mqtt"]["telemetry"] for s in self.sites if s.rain]

        def on_connect(client, userdata, flags, rc, props=None):
            if not rc.is_failure:
                self.mqtt_up = True
                client.subscribe([(t, 1) for t in topics])

        def on_disconnect(client, userdata, flags, rc, props=None):
            self.mqtt_up = False

        c.on_connect = on_connect
        c.on_disconnect = on_disconnect
        c.on_message = lambda client, userdata, msg: self.inbox.put((msg.topic, msg.payload))
        c.reconnect_delay_set(0.2, 2.0)
        c.connect_async(self.m["broker"]["host"], int(self.m["broker"]["port"]), keepalive=10)
        c.loop_start()
        return c

    def _take_messages(self) -> None:
        by_topic = {}
        for s in self.sites:
            if s.level:
                by_topic[s.level["mqtt"]["telemetry"]] = (s, "level")
            if s.rain:
                by_topic[s.rain["mqtt"]["telemetry"]] = (s, "rain")
        while not self.inbox.empty():
            topic, payload = self.inbox.get()
            hit = by_topic.get(topic)
            if hit is None:
                continue
            try:
                msg = json.loads(payload)
                t, v = float(msg["sim_time_s"]), msg.get("value")
            except (ValueError, KeyError, TypeError):
                continue
            site, what = hit
            if what == "level" and v is not None and (site.stage[1] is None or t > site.stage[1]):
                site.stage = (float(v), t)
                self.readings["mqtt"] += 1
                self.intake_ages.append(self.clock_s - t)
            elif what == "rain" and msg.get("rain_10min_mm") is not None:
                site.rain_mm_h = float(msg["rain_10min_mm"]) * 6.0

    async def _client(self, port: int):
        from pymodbus.client import AsyncModbusTcpClient

        c = self._modbus.get(port)
        if c is None or not c.connected:
            c = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=1)
            await c.connect()
            self._modbus[port] = c
        return c

    async def _poll_level(self, site: _Site, t: float) -> None:
        """The broker is away: read the level sensor's registers (stage mm, status, sample time)."""
        if site.level is None or t - site.last_poll_s < self.interval_s / 2:
            return
        site.last_poll_s = t
        mb = site.level["modbus"]
        try:
            c = await self._client(int(mb["port"]))
            rr = await c.read_holding_registers(0, count=7, device_id=int(mb.get("unit_id", 1)))
        except Exception as exc:  # a device that does not answer is a reading that did not come
            log.warning("modbus read of %s failed: %s", site.level["id"], exc)
            return
        if rr.isError():
            return
        r = rr.registers
        if r[3] & 1:
            sample_t = float((r[5] << 16) | r[6])
            if site.stage[1] is None or sample_t > site.stage[1]:
                site.stage = (r[0] / 1000.0, sample_t)
                self.readings["modbus"] += 1

    async def _camera(self, site: _Site, cam: dict[str, Any]) -> None:
        """Follow the analytics events (ONVIF PullPoint) of ``cam``, the camera of the gate's access point."""
        from onvif import ONVIFCamera

        cid = cam["id"]
        while True:
            c = None
            try:
                c = ONVIFCamera(cam["onvif"]["host"], int(cam["onvif"]["port"]), cid, self.creds[cid]["password"])
                await c.update_xaddrs()
                ev = await c.create_events_service()
                sub = await ev.CreatePullPointSubscription({"InitialTerminationTime": "PT600S"})
                c.xaddrs["http://www.onvif.org/ver10/events/wsdl/PullPointSubscription"] = (
                    sub.SubscriptionReference.Address._value_1
                )
                pp = await c.create_pullpoint_service()
                renewed = time.monotonic()
                while True:
                    r = await pp.PullMessages({"Timeout": "PT2S", "MessageLimit": 20})
                    for n in r.NotificationMessage or []:
                        items = {i.Name: i.Value for i in n.Message._value_1.Data.SimpleItem}
                        if "IsInside" in items:
                            site.inside = str(items["IsInside"]).lower() == "true"
                    if time.monotonic() - renewed > 240:
                        await pp.Renew({"TerminationTime": "PT600S"})
                        renewed = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the camera is away: try again
                log.warning("camera %s: %s", cid, exc)
                await asyncio.sleep(1.0)
            finally:
                if c is not None:
                    await c.close()

    # --- outputs --------------------------------------------------------------------------------
    async def _coil(self, site: _Site, address: int) -> str | None:
        mb = site.gate["modbus"]
        try:
            c = await self._client(int(mb["port"]))
            rr = await c.write_coil(address, True, device_id=int(mb.get("unit_id", 1)))
        except Exception as exc:
            return f"modbus write failed: {exc}"
        return f"modbus exception {rr}" if rr.isError() else None

    async def _post(self, b: dict[str, Any], body: bytes) -> str | None:
        """Post a CAP message to the signboard ``b`` (its manifest entry); the problem, or None."""
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        return await post_cap(self._http, b, self.creds[b["id"]]["password"], body)

    async def _show(self, site: _Site, t: float, message) -> str | None:
        if site.board is None:
            return None
        sent = self.clock(t).replace(microsecond=0)
        if message is None:
            if site.alert is None:
                return None
            site.alerts += 1
            ident = f"UJB-{site.gate['id']}-{site.alerts:04d}"
            body = cap_alert(ident, sent, None, references=reference(*site.alert))
            site.alert = None
        else:
            site.alerts += 1
            ident = f"UJB-{site.gate['id']}-{site.alerts:04d}"
            body = cap_alert(ident, sent, message, place=site.gate.get("access_id") or "")
            site.alert = (ident, sent)
        return await self._post(site.board, body)

    async def _act(self, site: _Site, a: Action, obs: Observation) -> None:
        from .signboard_text import GATE_CLOSED, GATE_WARNING

        problem = None
        if a.kind == "warn":
            problem = await self._show(site, a.t_s, GATE_WARNING)
        elif a.kind == "clear_warning":
            problem = await self._show(site, a.t_s, None)
        elif a.kind == "close":
            problem = await self._coil(site, 0)
            problem = problem or await self._show(site, a.t_s, GATE_CLOSED)
        elif a.kind == "open":
            problem = await self._coil(site, 1)
        rec = {
            "time_s": round(a.t_s, 3),
            "gate": a.gate_id,
            "action": a.kind,
            "reason": a.reason,
            "stage_m": obs.stage_m,
            "reading_time_s": obs.stage_time_s,
            "reading_age_s": None if obs.stage_time_s is None else round(obs.t_s - obs.stage_time_s, 1),
            "people_in_zone": obs.people_in_zone,
            "done_at_s": round(self.now_s(), 3),
        }
        if problem:
            rec["problem"] = problem
            log.warning("%s %s: %s", a.gate_id, a.kind, problem)
        site.decisions.append(rec)
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    # --- the loop -------------------------------------------------------------------------------
    def _log_input(self, obs: Observation, gate_id: str) -> None:
        if self._inputs is not None:
            rec = {
                "gate": gate_id,
                "t_s": obs.t_s,
                "stage_m": obs.stage_m,
                "stage_time_s": obs.stage_time_s,
                "rain_mm_h": obs.rain_mm_h,
                "people_in_zone": obs.people_in_zone,
            }
            self._inputs.write(json.dumps(rec, separators=(",", ":")) + "\n")

    async def _site(self, site: _Site) -> None:
        """One gate's loop, once per new clock reading: readings in, decisions out. Each gate has
        its own, so a device that is slow to answer holds up only its own gate (and the clock)."""
        seen: float | None = None
        while True:
            async with self._tick:
                await self._tick.wait_for(functools.partial(self._clock_moved, seen))
                t, state = self.clock_s, self.clock_state
            seen = t
            if state == ENDED or t >= self.duration_s:
                site.done_s = t
                return
            self._take_messages()
            if not self.mqtt_up or site.stage[1] is None or t - site.stage[1] > 1.5 * self.interval_s:
                # a reading is missing (the broker away, or its backlog after an outage): ask the sensor
                await self._poll_level(site, t)
            fresh = site.stage[1] != site.seen_s
            if fresh or t >= site.next_s:
                # decide on every new reading, and at least twice per sampling interval (stale data)
                site.seen_s = site.stage[1]
                site.next_s = t + self.interval_s / 2
                people = None if site.camera is None or site.inside is None else int(site.inside)
                obs = Observation(t, site.stage[0], site.stage[1], site.rain_mm_h, people)
                self._log_input(obs, site.gate["id"])
                for a in site.logic.step(obs):
                    await self._act(site, a, obs)
            site.done_s = t
            if all(x.done_s == t for x in self.sites):
                self._handled.set()

    async def run(self) -> list[dict[str, Any]]:
        self._tick = asyncio.Condition()
        self._handled = asyncio.Event()
        if self.inputs_path is not None:
            self._inputs = self.inputs_path.open("w", encoding="utf-8")
        client = self._start_mqtt()
        cams = [asyncio.create_task(self._camera(s, s.camera)) for s in self.sites if s.camera is not None]
        if self.clock_dev is not None:
            follow = asyncio.create_task(self._follow_clock(self.clock_dev))
        else:
            tick = min(max(self.interval_s / self.speed / 4, 0.005), 0.25)
            follow = asyncio.create_task(self._follow_wall_clock(tick))
        try:
            await asyncio.gather(*(self._site(s) for s in self.sites))
        finally:
            for task in [*cams, follow]:
                task.cancel()
            await asyncio.gather(*cams, follow, return_exceptions=True)
            client.loop_stop()
            client.disconnect()
            for c in self._modbus.values():
                c.close()
            if self._http is not None:
                await self._http.aclose()
            if self._inputs is not None:
                self._inputs.close()
            if self.log_path is not None:
                summary = {"level_readings": self.readings, "intake_age_s": delay_stats(self.intake_ages)}
                with self.log_path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"summary": summary}) + "\n")
        return [d for s in self.sites for d in s.decisions]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m twin.control.remote_controller", description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", required=True, help="the fleet's manifest.json (credentials.json beside it)")
    ap.add_argument("--policy", required=True, help="gate policy YAML")
    ap.add_argument("--log", default=None, help="append every decision here (JSON lines)")
    ap.add_argument("--inputs", default=None, help="write every observation the logic was given here (JSON lines)")
    ap.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the manifest to appear")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="controller: %(message)s")
    try:
        policy = load_policy(args.policy)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = Path(args.manifest)
    problem = wait_for_manifest(path, args.wait)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        ctl = RemoteController(path, policy, log_path=args.log, inputs_path=args.inputs)
    except (ManifestError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    decisions = asyncio.run(ctl.run())
    print(f"controller: {len(decisions)} decisions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
