"""A fleet: every device of a scenario on 127.0.0.1, an MQTT broker, and the simulation in step
with a wall clock (``speed`` simulated seconds per second).

    fleet = Fleet(scenario, speed=60)
    asyncio.run(fleet.serve(manifest="fleet.json"))

The manifest (JSON, written atomically once everything listens) lists every device with its
Modbus endpoint and register map, its MQTT topics and a reference into ``credentials.json``
(written beside the manifest, readable by its owner only).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from twin._atomic import atomic_file
from twin.city import CityModel
from twin.models.faults import FaultSchedule
from twin.simulation import Simulation

from .broker import OPERATOR, Account, BrokerError, MosquittoBroker, free_port, new_password, parse_broker_url
from .crosswalk import Crosswalk
from .gate import Gate
from .mqtt_link import TOPIC_ROOT, MqttLink
from .onvif_camera import Camera
from .sensors import LevelSensor, RainGauge
from .signboard import Signboard
from .structural import StructuralSensor
from .telemetry import FleetContext

KINDS = {
    "level_sensor": LevelSensor,
    "rain_gauge": RainGauge,
    "gate": Gate,
    "signboard": Signboard,
    "tilt_sensor": StructuralSensor,
    "crack_sensor": StructuralSensor,
    "crosswalk": Crosswalk,
    "cctv": Camera,
}
TICK_S = 0.01  # wall seconds between steps of the clock


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
    ) -> None:
        """``replicas``: extra level sensors for load tests, copies of the real ones (ids
        ``{id}-R0001``...) that read the stage of the sensor they copy."""
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.scenario = scenario
        self.speed = float(speed)
        self.host = host
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="twin-fleet-"))
        self.sim = Simulation(scenario, city=city, controller=False, watch_gates=True)
        self.broker_kind = broker_url if broker_url in (None, "embedded", "mosquitto") else "external"
        self.broker_kind = self.broker_kind or "embedded"
        self.external = self.broker_kind == "external"
        self.ports: set[int] = set()
        bh, bp = parse_broker_url(broker_url) if self.external else (host, free_port(host, self.ports))
        self.ctx = FleetContext(
            sim=self.sim,
            faults=FaultSchedule(scenario.faults),
            settings=scenario.devices,
            seed=scenario.seed,
            host=host,
            broker_host=bh,
            broker_port=bp,
        )
        self.devices: list[Any] = []
        for kind in kinds:
            layer = self.sim.city.devices_of_kind(kind)
            rows = layer.assign(x=layer.geometry.x, y=layer.geometry.y).drop(columns="geometry").to_dict("records")
            for row in sorted(rows, key=lambda r: str(r["device_id"])):
                if only is None or str(row["device_id"]) in only:
                    self.devices.append(KINDS[kind](row, self.ctx, port=free_port(host, self.ports)))
        level = [d for d in self.devices if isinstance(d, LevelSensor)]
        for k in range(replicas if level else 0):
            src = level[k % len(level)]
            row = {**src.row, "device_id": f"{src.device_id}-R{k + 1:04d}"}
            self.devices.append(LevelSensor(row, self.ctx, port=free_port(host, self.ports), source_id=src.device_id))
        self.operator = Account(
            OPERATOR,
            new_password(),
            publish=[f"{TOPIC_ROOT}/gate/+/cmd"],
            subscribe=[f"{TOPIC_ROOT}/#", "application/#"],  # and the LoRaWAN uplinks
        )
        for d in self.devices:
            d.account.password = new_password()
        self.broker: Any = None  # MosquittoBroker or EmbeddedBroker
        self._broker_job: asyncio.Future | None = None  # a broker stopping or starting (outage fault)
        self.max_lag_s = 0.0  # how far (simulated s) a reading was taken behind the wall clock, at worst
        self.manifest_path: Path | None = None

    # --- the parts ---------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        return [self.operator] + [d.account for d in self.devices]

    def manifest(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name.model_dump(),
            "scenario_file": str(self.scenario.source_path) if self.scenario.source_path else None,
            "speed": self.speed,
            "clock_started_at": getattr(self, "wall0_epoch", None),  # Unix time of simulated second 0
            "start": self.scenario.start.isoformat(),
            "duration_s": self.scenario.duration_s,
            "broker": {
                "host": self.ctx.broker_host,
                "port": self.ctx.broker_port,
                "url": f"mqtt://{self.ctx.broker_host}:{self.ctx.broker_port}",
                "managed": not self.external,
                "kind": self.broker_kind,
                "operator": {"username": OPERATOR, "credentials": f"credentials.json#{OPERATOR}"},
                "topic_root": TOPIC_ROOT,
            },
            "credentials_file": "credentials.json",
            "devices": [d.manifest() for d in self.devices],
        }

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
                status_topic=d.topics["status"] if hasattr(d, "topics") else None,
                subscriptions=tuple(d.account.subscribe),
                on_message=getattr(d, "on_mqtt", None),
            )
            link.start()
            self.ctx.links[d.device_id] = link

    async def _online(self, timeout_s: float = 120.0) -> None:
        """Wait until every device is connected to the broker (the clock starts then)."""
        deadline = time.monotonic() + timeout_s
        links = list(self.ctx.links.values())
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
    ) -> dict[str, Any]:
        """Run the fleet to the scenario's end (or ``until_s``, or ``stop``); returns counts.

        ``hold_s``: wall seconds between the manifest appearing (``on_ready(path)`` is called then)
        and simulated second 0, for a controller to connect before the clock starts; the
        manifest's ``clock_started_at`` is that future instant."""
        self.ctx.loop = asyncio.get_running_loop()
        end = min(until_s, self.sim.engine.duration_s) if until_s is not None else self.sim.engine.duration_s
        with self.sim:
            if self.broker_kind == "mosquitto":
                self.broker = MosquittoBroker(
                    self.workdir / "broker", self.accounts(), host=self.host, port=self.ctx.broker_port
                )
                self.broker.start()
            elif self.broker_kind == "embedded":
                from .embedded_broker import EmbeddedBroker

                self.broker = EmbeddedBroker(self.accounts(), host=self.host, port=self.ctx.broker_port)
                self.broker.start()
            try:
                for d in self.devices:
                    if hasattr(d, "modbus"):
                        await d.modbus.start()
                    elif hasattr(d, "start"):
                        d.start()
                self._start_links()
                await self._online()
                self.wall0 = time.monotonic() + hold_s
                self.wall0_epoch = time.time() + hold_s  # simulated second 0 on the wall clock
                path = self.write_manifest(manifest or self.workdir / "manifest.json")
                if on_ready is not None:
                    on_ready(path)
                await asyncio.sleep(max(self.wall0 - time.monotonic(), 0.0))
                await self._clock(end, progress, stop)
            finally:
                await asyncio.gather(*(link.stop() for link in self.ctx.links.values()))
                for d in self.devices:
                    if hasattr(d, "modbus"):
                        await d.modbus.stop()
                    elif hasattr(d, "stop"):
                        d.stop()
                if self._broker_job is not None:
                    await asyncio.gather(self._broker_job, return_exceptions=True)
                if self.broker is not None:
                    self.broker.stop()
        return {
            "sim_time_s": self.sim.now,
            "messages": self.ctx.published,
            "modbus_requests": sum(d.modbus.requests for d in self.devices if hasattr(d, "modbus")),
            "http_requests": sum(d.requests for d in self.devices if isinstance(d, Signboard | Camera)),
            "max_clock_lag_s": round(self.max_lag_s, 2),
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
            "fleet": {**result, "speed": self.speed, "devices": len(self.devices)},
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

    async def _clock(self, end: float, progress, stop) -> None:
        sensors = [d for d in self.devices if hasattr(d, "due")]
        gates = [d for d in self.devices if isinstance(d, Gate | Signboard)]  # stepped every tick
        heap = [(d.due(), i) for i, d in enumerate(sensors)]
        heapq.heapify(heap)
        wall0 = self.wall0
        outage = False
        last_report = -1.0
        while self.sim.now < end - 1e-9:
            if stop is not None and stop.is_set():
                break
            target = min((time.monotonic() - wall0) * self.speed, end)
            done = 0
            while heap and heap[0][0] <= target + 1e-9:
                done += 1
                if done % 200 == 0:
                    await asyncio.sleep(0)  # let the servers answer even when the clock is behind
                t, i = heapq.heappop(heap)
                self.max_lag_s = max(self.max_lag_s, (time.monotonic() - wall0) * self.speed - t)
                self.sim.advance_to(t)
                for g in gates:
                    g.step(t)
                sensors[i].sample(t)
                heapq.heappush(heap, (sensors[i].due(), i))
            self.sim.advance_to(target)
            for g in gates:
                g.step(target)
            if self.broker is not None:
                want = self.broker_outage(target)
                loop = asyncio.get_running_loop()
                # in a thread, not awaited: the clock and the devices' Modbus faces go on meanwhile
                if want and not outage:
                    self._broker_job = loop.run_in_executor(None, self.broker.stop)
                elif outage and not want:
                    if self._broker_job is not None:
                        await self._broker_job
                    self._broker_job = loop.run_in_executor(None, self.broker.start)
                outage = want
            if progress is not None and target - last_report >= 60.0:
                progress(target, end)
                last_report = target
            await asyncio.sleep(TICK_S)
