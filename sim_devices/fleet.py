"""A fleet: every device of a scenario on 127.0.0.1, an MQTT broker, and the simulation in step
with a paced clock (at most ``speed`` simulated seconds per wall second; :mod:`.clock`).

    fleet = Fleet(scenario, speed=60)             # or speed=math.inf: as fast as the slowest part allows
    asyncio.run(fleet.serve(manifest="fleet.json"))

The manifest (JSON, written atomically once everything listens) lists every device with its
Modbus endpoint and register map, its MQTT topics and a reference into ``credentials.json``
(written beside the manifest, readable by its owner only), and the clock device a controller
reads the simulated time from. A probe subscriber on the fleet's own loop sees every reading
arrive: the clock waits for it, and with ``record=`` it writes every MQTT message with its
arrival time (``messages.jsonl``).

Why one module of this size: one object owns the order of everything that happens in a fleet
(servers up, manifest, clock ticks, sampling, delivery, shutdown), and that order is the point.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from twin.atomic import atomic_file
from twin.city import CityModel
from twin.control.fleet_clock import ENDED, RUNNING, delay_stats
from twin.models.faults import FaultSchedule
from twin.simulation import Simulation

from .broker import (
    BROKER_KINDS,
    OPERATOR,
    Account,
    BrokerError,
    MosquittoBroker,
    PortReservations,
    default_broker_kind,
    new_password,
    parse_broker_url,
)
from .clock import ClockFace, DeliveryTracker, PacedClock, timing_budget_s
from .collapse_desk import ALARM_TOPIC, AlarmDesk
from .collapse_desk import LEVELS as DESK_LEVELS
from .crosswalk import Crosswalk
from .device import Device
from .gate import Gate
from .guard import shielded
from .mqtt_link import TOPIC_ROOT, MqttLink
from .onvif_camera import Camera
from .sensors import LevelSensor, RainGauge
from .signboard import Signboard
from .structural import StructuralSensor
from .telemetry import FleetContext

KINDS: dict[str, Callable[..., Device]] = {  # dataset kind -> device class, built as cls(row, ctx, port=...)
    "level_sensor": LevelSensor,
    "rain_gauge": RainGauge,
    "gate": Gate,
    "signboard": Signboard,
    "tilt_sensor": StructuralSensor,
    "crack_sensor": StructuralSensor,
    "extensometer": StructuralSensor,
    "crosswalk": Crosswalk,
    "cctv": Camera,
}
STRUCTURAL_KINDS = ("tilt_sensor", "crack_sensor", "extensometer")
TICK_S = 0.01  # wall seconds between steps of the clock
MAX_TICK_S = 0.002  # ... at speed max
PATIENCE_S = 10.0  # wall seconds the clock waits for a reading or the controller before it gives up on them


class Fleet:
    """Devices of ``scenario`` with their protocol faces: level sensors, rain gauges, gates,
    signboards, LoRaWAN tilt and crack sensors, crosswalks."""

    def __init__(
        self,
        scenario,
        *,
        city: CityModel | None = None,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        broker_url: str | None = None,
        workdir: str | Path | None = None,
        kinds: tuple[str, ...] = tuple(KINDS),
        only: set[str] | None = None,
        replicas: int = 0,
        strict: bool = False,
        record: str | Path | None = None,
        patience_s: float = PATIENCE_S,
    ) -> None:
        """``speed``: simulated s per wall s at most (``math.inf``: as fast as possible);
        ``strict``: exactly ``speed``, never slowed down (for a controller that keeps wall time);
        ``record``: write every MQTT message with its arrival time to this JSON-lines file;
        ``patience_s``: wall seconds the clock waits for a reading or a controller that does not
        come before it gives up on them (and says so in its timing notes);
        ``replicas``: extra sensors for load tests, copies of the real ones (ids ``{id}-R0001``...):
        of the level sensors, reading the stage of the sensor they copy, or in a fleet without level
        sensors, of the structural sensors, reading the true tilt, crack or displacement of theirs."""
        if not speed > 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        if strict and math.isinf(speed):
            raise ValueError("a strict clock needs a finite speed")
        self.scenario = scenario
        self.speed = float(speed)
        self.host = host
        self._own_workdir = not workdir  # a temporary folder of ours: removed when the fleet stops
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="twin-fleet-"))
        self.record_path = Path(record) if record else None
        self.patience_s = float(patience_s)
        self.sim = Simulation(scenario, city=city, controller=False, watch_gates=True, collapse=True)
        # mosquitto, the broker a city would deploy, wherever it is installed; amqtt inside the fleet otherwise
        auto = broker_url in (None, "auto")
        self.broker_kind = default_broker_kind() if auto else broker_url if broker_url in BROKER_KINDS else "external"
        self.external = self.broker_kind == "external"
        self.ports = PortReservations(host)  # held until each server binds its own
        if self.external and broker_url is not None:  # external: a URL, neither None, "auto" nor a kind
            bh, bp = parse_broker_url(broker_url)
        else:
            bh, bp = host, self.ports.take()
        self.ctx = FleetContext(
            sim=self.sim,
            faults=FaultSchedule(scenario.faults),
            settings=scenario.devices,
            seed=scenario.seed,
            host=host,
            broker_host=bh,
            broker_port=bp,
        )
        self.devices: list[Device] = []
        for kind in kinds:
            layer = self.sim.city.devices_of_kind(kind)
            rows = layer.assign(x=layer.geometry.x, y=layer.geometry.y).drop(columns="geometry").to_dict("records")
            for row in sorted(rows, key=lambda r: str(r["device_id"])):
                if only is None or str(row["device_id"]) in only:
                    self.devices.append(KINDS[kind](row, self.ctx, port=self.ports.take()))
        level = [d for d in self.devices if isinstance(d, LevelSensor)]
        structural = [d for d in self.devices if isinstance(d, StructuralSensor)]
        copied: list[Any] = level or structural
        for k in range(replicas if copied else 0):
            src = copied[k % len(copied)]
            row = {**src.row, "device_id": f"{src.device_id}-R{k + 1:04d}"}
            cls = LevelSensor if level else StructuralSensor
            self.devices.append(cls(row, self.ctx, port=self.ports.take(), source_id=src.device_id))
        served = {d.kind for d in self.devices}
        # an outside collapse early warning posts its alarms here (collapse_desk.py)
        self.desk = AlarmDesk(self.ctx, new_password()) if served & set(STRUCTURAL_KINDS) else None
        self.operator = Account(
            OPERATOR,
            new_password(),
            publish=[f"{TOPIC_ROOT}/gate/+/cmd", ALARM_TOPIC],
            subscribe=[f"{TOPIC_ROOT}/#", "application/#"],  # and the LoRaWAN uplinks
        )
        for d in self.devices:
            d.account.password = new_password()
        self.broker: Any = None  # MosquittoBroker or EmbeddedBroker
        self._broker_job: asyncio.Future | None = None  # a broker stopping or starting (outage fault)
        structural_only = bool(served & set(STRUCTURAL_KINDS)) and "level_sensor" not in served
        # the budget follows the readings a controller decides on: the level sensors', or, in a fleet with
        # LoRaWAN structural sensors and no level sensor (an early-warning test, with its rain gauges and
        # signboards), theirs (10 min uplinks)
        self.budget_s = timing_budget_s(
            scenario.devices.structural_interval if structural_only else scenario.devices.level_sensor.sample_interval
        )
        self.clock = PacedClock(
            self.speed, self.sim.engine.duration_s, step_s=self.budget_s / 2, lead_s=self.budget_s / 2, strict=strict
        )
        self.clock_face = ClockFace(host=host, port=self.ports.take(), clock=self.clock)
        self.tracker = DeliveryTracker()
        self.ctx.tracker = self.tracker
        self.max_lag_s = 0.0  # how far (simulated s) a reading was taken behind the clock, at worst
        self.delays: list[float] = []  # reading taken -> delivered to the probe, simulated s
        self.notes: list[str] = []  # what the pacing gave up on, in words
        self.pace_controller = True  # until the controller's progress stands still too long
        self._released_at: float | None = None  # the progress at which the clock stopped waiting for it
        self.controller_paced = False  # a controller reported its progress and the clock waited for it
        self.probe: MqttLink | None = None
        self.recorded = 0
        self._record: TextIO | None = None  # messages.jsonl, open while recording
        self.manifest_path: Path | None = None

    # --- the parts ---------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        desk = [self.desk.account] if self.desk is not None else []
        return [self.operator] + [d.account for d in self.devices] + desk

    def manifest(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name.model_dump(),
            "scenario_file": str(self.scenario.source_path) if self.scenario.source_path else None,
            "speed": None if math.isinf(self.speed) else self.speed,
            # Unix time of simulated second 0; simulated time = (now - it) x speed only with a strict clock
            "clock_started_at": getattr(self, "wall0_epoch", None),
            "clock": {
                "mode": self.clock.mode,
                "speed_ceiling": None if math.isinf(self.speed) else self.speed,
                "modbus": self.clock_face.manifest(),
                "timing_budget_s": self.budget_s,
                "note": "read the simulated time from the clock device; write your progress to be waited for "
                "(docs/devices.md). Only a strict clock keeps (wall time - clock_started_at) x speed.",
            },
            "start": self.scenario.start.isoformat(),
            "duration_s": self.scenario.duration_s,
            "broker": {
                "host": self.ctx.broker_host,
                "port": self.ctx.broker_port,
                "url": f"mqtt://{self.ctx.broker_host}:{self.ctx.broker_port}",
                "managed": not self.external,
                "kind": self.broker_kind,
                "limits": getattr(self.broker, "limits", None),  # what this broker cannot guarantee, in words
                "operator": {"username": OPERATOR, "credentials": f"credentials.json#{OPERATOR}"},
                "topic_root": TOPIC_ROOT,
            },
            "credentials_file": "credentials.json",
            "collapse_alarms": None
            if self.desk is None
            else {
                "topic": f"{TOPIC_ROOT}/collapse/{{site_id}}/alarm",
                "levels": list(DESK_LEVELS),
                "publish_as": OPERATOR,
                "note": 'JSON {"level": ..., "reason": ..., "sensor": ...} (docs/collapse.md)',
            },
            "monitored_sites": self._monitored_sites(),
            # position: EPSG:5186 m, for a controller that picks the nearest gauge or signboard to a site
            "devices": [
                {**d.manifest(), "position": [round(float(d.row["x"]), 1), round(float(d.row["y"]), 1)]}
                for d in self.devices
            ],
        }

    def _monitored_sites(self) -> list[dict[str, Any]]:
        """The monitored slopes and buildings an early-warning system watches: id, kind (slope or
        building), name, position (its centroid, EPSG:5186 m) and its structural sensors served here
        (id -> tilt, crack or extensometer)."""
        model = self.sim.collapse
        if model is None or self.desk is None:
            return []
        served = {d.device_id for d in self.devices}
        return [
            {"id": s.site_id, "kind": s.kind, "name": s.name, "position": [round(s.x, 1), round(s.y, 1)],
             "sensors": {x.device_id: x.kind for x in s.sensors if x.device_id in served}}
            for s in model.sites
            if any(x.device_id in served for x in s.sensors)
        ]  # fmt: skip

    def write_manifest(self, path: str | Path) -> Path:
        path = Path(path)
        creds = {a.username: {"username": a.username, "password": a.password} for a in self.accounts()}
        cpath = path.parent / "credentials.json"
        with atomic_file(cpath) as tmp:
            tmp.write_text(json.dumps(creds, indent=2), encoding="utf-8")
            tmp.chmod(0o600)
        with atomic_file(path) as tmp:
            tmp.write_text(json.dumps(self.manifest(), ensure_ascii=False, indent=2), encoding="utf-8")
        self.manifest_path = path
        return path

    def _start_links(self) -> None:
        for d in self.devices:
            if not d.account.publish and not d.account.subscribe:
                continue  # no MQTT face (cameras speak ONVIF)
            link = MqttLink(
                client_id=d.device_id,
                host=self.ctx.broker_host,
                port=self.ctx.broker_port,
                username=d.account.username,
                password=d.account.password,
                status_topic=d.status_topic,
                subscriptions=tuple(d.account.subscribe),
                on_message=shielded(d.on_mqtt, d.device_id, self.ctx.input_log) if d.on_mqtt is not None else None,
            )
            link.start()
            self.ctx.links[d.device_id] = link
        if self.desk is not None:
            a = self.desk.account
            link = MqttLink(
                client_id=a.username,
                host=self.ctx.broker_host,
                port=self.ctx.broker_port,
                username=a.username,
                password=a.password,
                status_topic=None,
                subscriptions=tuple(a.subscribe),
                on_message=shielded(self.desk.on_mqtt, a.username, self.ctx.input_log),
            )
            link.start()
            self.ctx.links[a.username] = link

    def _start_probe(self) -> None:
        """The fleet's own subscriber, on its loop: it sees every reading arrive (the clock waits for
        them) and, with ``record``, writes every message with its arrival time."""
        # the readings of the dataset's own sensors (not load-test replicas), or everything when recording
        self.ctx.tracked = frozenset(d.device_id for d in self.devices if d.waited_for)
        mine = tuple(d.topics["telemetry"] for d in self.devices if d.device_id in self.ctx.tracked)
        subs = (f"{TOPIC_ROOT}/#", "application/#") if self.record_path else mine
        if self.record_path is not None:
            self.record_path.parent.mkdir(parents=True, exist_ok=True)
            # a lone surrogate in a message (\ud800) is written back as its JSON escape, never a crash
            self._record = self.record_path.open("w", encoding="utf-8", errors="backslashreplace")
        self.probe = MqttLink(
            client_id=f"fleet-probe-{self.ctx.broker_port}",
            host=self.ctx.broker_host,
            port=self.ctx.broker_port,
            username=self.operator.username,
            password=self.operator.password,
            subscriptions=subs,
            subscribe_qos=1 if self.record_path else 0,  # a record misses nothing; a mere observer acks nothing
            on_message=shielded(self._arrived, "fleet-probe", self.ctx.input_log),
        )
        self.probe.start()

    def _arrived(self, topic: str, payload: bytes) -> None:
        """A message reached the probe (on the fleet's loop)."""
        now = self.clock.now
        try:
            data: Any = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):  # what a controller under test may send
            data = payload.decode("utf-8", "replace")
        if topic.endswith("/telemetry") and isinstance(data, dict):
            dev, seq, t = data.get("device_id"), data.get("seq"), data.get("sim_time_s")
            if isinstance(dev, str) and isinstance(seq, int) and isinstance(t, int | float):
                if self.tracker.delivered(dev, seq) is not None:  # not one late on purpose
                    self.delays.append(now - float(t))
        if self._record is not None:
            line = {"wall": round(time.time(), 4), "sim_s": round(now, 3), "topic": topic, "payload": data}
            self._record.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.recorded += 1

    async def _online(self, timeout_s: float = 120.0) -> None:
        """Wait until every device and the probe are connected to the broker (the clock starts then)."""
        deadline = time.monotonic() + timeout_s
        links = [*self.ctx.links.values(), *([self.probe] if self.probe is not None else [])]
        while time.monotonic() < deadline:
            refused = [lk for lk in links if lk.refused]
            if refused:
                raise BrokerError(f"the broker refused {len(refused)} devices (first: {refused[0].refused})")
            if all(lk.connected.is_set() for lk in links):
                self.online_s = timeout_s - (deadline - time.monotonic())
                return
            await asyncio.sleep(0.05)
        waiting = sum(1 for lk in links if not lk.connected.is_set())
        raise BrokerError(f"{waiting} of {len(links)} devices not connected to the broker after {timeout_s:.0f} s")

    async def _await_controller(self, timeout_s: float) -> None:
        """Hold simulated second 0 until a controller has written its progress (it is reading the
        clock), for at most ``timeout_s`` wall seconds."""
        deadline = time.monotonic() + timeout_s
        while self.clock_face.progress_s is None and time.monotonic() < deadline:
            self.clock_face.publish(time.monotonic())
            await asyncio.sleep(0.02)
        if self.clock_face.progress_s is None:
            self.notes.append(f"no controller reported its progress within {timeout_s:.0f} s of the start")

    def _broker_away(self) -> None:
        """Stop the broker (an outage) and hold its port, so it comes back where the devices look."""
        self.broker.stop()
        self.ports.hold(self.ctx.broker_port)

    def _broker_back(self) -> None:
        self.ports.release(self.ctx.broker_port)
        self.broker.start()

    def broker_outage(self, t_s: float) -> bool:
        return self.ctx.faults.active(None, "broker_outage", t_s) is not None

    # --- running ------------------------------------------------------------------------------
    async def serve(
        self,
        *,
        manifest: str | Path | None = None,
        until_s: float | None = None,
        progress: Callable[[float, float], None] | None = None,
        stop: asyncio.Event | None = None,
        hold_s: float = 0.0,
        on_ready: Callable[[Path], None] | None = None,
        await_controller_s: float | None = None,
    ) -> dict[str, Any]:
        """Run the fleet to the scenario's end (or ``until_s``, or ``stop``); returns counts and
        ``timing`` (:meth:`timing`).

        ``hold_s``: wall seconds between the manifest appearing (``on_ready(path)`` is called then)
        and simulated second 0, for a controller to connect before the clock starts; the
        manifest's ``clock_started_at`` is that future instant. ``await_controller_s``: then also
        wait (up to this long) for a controller to report its progress on the clock device."""
        self.ctx.loop = asyncio.get_running_loop()
        end = min(until_s, self.sim.engine.duration_s) if until_s is not None else self.sim.engine.duration_s
        with self.sim:
            if self.broker_kind == "mosquitto":
                self.broker = MosquittoBroker(
                    self.workdir / "broker", self.accounts(), host=self.host, port=self.ctx.broker_port
                )
            elif self.broker_kind == "embedded":
                from .embedded_broker import EmbeddedBroker

                self.broker = EmbeddedBroker(
                    self.accounts(), host=self.host, port=self.ctx.broker_port, input_log=self.ctx.input_log
                )
            if self.broker is not None:
                logging.getLogger("sim_devices.broker").warning("MQTT broker limits: %s", self.broker.limits)
                self.ports.release(self.ctx.broker_port)
                self.broker.start()
            try:
                self.ports.release(self.clock_face.modbus.port)
                await self.clock_face.modbus.start()
                self.clock_face.publish(time.monotonic())
                for d in self.devices:
                    port = d.listen_port()
                    if port is not None:
                        self.ports.release(port)
                    await d.open()
                self._start_links()
                self._start_probe()
                await self._online()
                self.wall0 = time.monotonic() + hold_s
                self.wall0_epoch = time.time() + hold_s  # simulated second 0 on the wall clock
                path = self.write_manifest(manifest or self.workdir / "manifest.json")
                if on_ready is not None:
                    on_ready(path)
                while time.monotonic() < self.wall0:
                    self.clock_face.publish(time.monotonic())
                    await asyncio.sleep(min(0.02, max(self.wall0 - time.monotonic(), 0.0)))
                if await_controller_s is not None and not self.clock.strict:
                    await self._await_controller(await_controller_s)
                await self._clock(end, progress, stop)
            finally:
                links = [*self.ctx.links.values(), *([self.probe] if self.probe is not None else [])]
                await asyncio.gather(*(link.stop() for link in links))
                if self._record is not None:
                    self._record.close()
                await self.clock_face.modbus.stop()
                for d in self.devices:
                    await d.close()
                if self._broker_job is not None:
                    await asyncio.gather(self._broker_job, return_exceptions=True)
                if self.broker is not None:
                    self.broker.stop()
                self.ports.close()
                self.ctx.input_log.flush()  # how many refused inputs were not logged, at the end
                if self._own_workdir:  # the broker's files and the credentials: nothing to keep
                    shutil.rmtree(self.workdir, ignore_errors=True)
        return self.result()

    def result(self) -> dict[str, Any]:
        """Counts and timing of the run so far (also after it was interrupted)."""
        return {
            "sim_time_s": self.sim.now,
            "messages": self.ctx.published,
            "messages_recorded": self.recorded,
            "modbus_requests": sum(d.served().get("modbus", 0) for d in self.devices),
            "http_requests": sum(d.served().get("http", 0) for d in self.devices),
            "max_clock_lag_s": round(self.max_lag_s, 2),
            "refused_inputs": dict(sorted(self.ctx.input_log.refused.items())),
            "timing": self.timing(),
        }

    def timing(self) -> dict[str, Any]:
        """How the clock went (simulated s unless named wall): its mode and ceiling, the speed it
        sustained, its worst lag, the delivery delay of the readings to the probe, and how long it
        was held back and by what."""
        eff = self.clock.effective_speed(time.monotonic())
        return {
            "mode": self.clock.mode,
            "speed_ceiling": None if math.isinf(self.speed) else self.speed,
            "effective_speed": None if eff is None else round(eff, 1),
            "budget_s": self.budget_s,
            "max_clock_lag_s": round(self.max_lag_s, 2),
            "delivery_delay_s": delay_stats(self.delays),
            "held_wall_s": self.clock.holds.as_dict(),
            "controller_paced": self.controller_paced,
            "notes": list(self.notes),
        }

    def write_run(
        self,
        out: str | Path,
        result: dict[str, Any],
        *,
        files: dict[str, str] | None = None,
        summary_extra: dict[str, Any] | None = None,
    ) -> Path:
        """The fleet's run as a normal run folder (the app opens it): what the devices did is in
        the events (gate.*, signboard.display, cctv.objects_inside) beside the models' own."""
        from twin.errors import TwinError
        from twin.results import write_run_folder
        from twin.scenario import dump_resolved

        s = self.scenario
        summary: dict[str, Any] = {
            "scenario": self.sim.scenario_header(),
            "fleet": {**result, "speed": None if math.isinf(self.speed) else self.speed, "devices": len(self.devices)},
        }
        if self.sim.finished:
            try:
                summary.update(self.sim.summary_parts())
            except (TwinError, KeyError, ValueError) as exc:  # a model that could not finish its summary
                summary["summary_error"] = str(exc)
        summary.update(summary_extra or {})
        tables = {"trajectories.parquet": self.sim.crowd.trajectories()} if self.sim.crowd is not None else {}
        return write_run_folder(
            out,
            summary=summary,
            timeseries=self.sim.engine.recorder.to_frame(),
            events=self.sim.engine.events.to_frame(),
            files={"scenario.resolved.yaml": dump_resolved(s), **(files or {})},
            tables=tables,
        )

    def _undelivered(self, wall: float) -> float | None:
        """The oldest reading not yet delivered, unless the clock has waited long enough for it."""
        oldest = self.tracker.oldest(wall)
        if oldest is not None and self.tracker.overdue(wall, self.patience_s):
            n = self.tracker.give_up()
            self.notes.append(
                f"gave up waiting for {n} readings at {self.clock.now:.0f} s: the oldest, taken at {oldest:.0f} s, "
                f"was not delivered within {self.patience_s:g} wall s"
            )
            return None
        return oldest

    def _progress(self, wall: float) -> float | None:
        """The controller's progress, while it reports one and keeps it moving. A controller whose
        progress stands still for ``patience_s`` while the clock waits is let go; it is waited
        for again once its progress moves."""
        face = self.clock_face
        if self.clock.strict or face.progress_s is None:
            return None
        if not self.pace_controller:
            if face.progress_s == self._released_at:
                return None
            self.pace_controller = True
            self.notes.append(f"the controller's progress moved again at {self.clock.now:.0f} s: waited for again")
        stuck_since = face.progress_wall if face.progress_wall is not None else wall
        if face.progress_s + self.clock.lead_s <= self.clock.now and wall - stuck_since > self.patience_s:
            self.pace_controller = False
            self._released_at = face.progress_s
            self.notes.append(
                f"the controller's progress stopped at {face.progress_s:.0f} s for {self.patience_s:g} wall s: "
                "the clock no longer waits for it"
            )
            return None
        self.controller_paced = True
        return face.progress_s

    async def _clock(self, end: float, progress, stop) -> None:
        sensors = [d for d in self.devices if d.due() < math.inf]  # sampled when due
        gates = [d for d in self.devices if d.every_step]  # stepped every tick (gates, signboards)
        heap = [(d.due(), i) for i, d in enumerate(sensors)]
        heapq.heapify(heap)
        clock = self.clock
        clock.end_s = end
        # a strict clock starts exactly at the manifest's clock_started_at: wall-time controllers count from it
        clock.start(self.wall0 if clock.strict else time.monotonic())
        self.clock_face.publish(time.monotonic(), RUNNING)
        tick = MAX_TICK_S if math.isinf(self.speed) else TICK_S
        outage = False
        last_report = -1.0
        while clock.now < end - 1e-9:
            if stop is not None and stop.is_set():
                break
            wall = time.monotonic()
            target = clock.advance(wall, undelivered_s=self._undelivered(wall), progress_s=self._progress(wall))
            done = 0
            while heap and heap[0][0] <= target + 1e-9:
                done += 1
                if done % 200 == 0:
                    await asyncio.sleep(0)  # let the servers answer even when the clock is behind
                t, i = heapq.heappop(heap)
                self.max_lag_s = max(self.max_lag_s, clock.lag_s(time.monotonic(), t))
                self.sim.advance_to(t)
                for g in gates:
                    g.step(t)
                sensors[i].sample(t)
                heapq.heappush(heap, (sensors[i].due(), i))
            self.sim.advance_to(target)
            for g in gates:
                g.step(target)
            if self.desk is not None:
                self.desk.step(target)
            self.clock_face.publish(time.monotonic())
            if self.broker is not None:
                want = self.broker_outage(target)
                loop = asyncio.get_running_loop()
                # in a thread, not awaited: the clock and the devices' Modbus faces go on meanwhile
                if want and not outage:
                    self.ctx.tracking = False  # readings queue up on purpose: the clock does not wait
                    self.tracker.give_up()
                    self._broker_job = loop.run_in_executor(None, self._broker_away)
                elif outage and not want:
                    if self._broker_job is not None:
                        await self._broker_job
                    self._broker_job = loop.run_in_executor(None, self._broker_back)
                    self._broker_job.add_done_callback(lambda _: setattr(self.ctx, "tracking", True))
                outage = want
            if progress is not None and target - last_report >= 60.0:
                progress(target, end)
                last_report = target
            await asyncio.sleep(tick)
        self.clock_face.publish(time.monotonic(), ENDED)
