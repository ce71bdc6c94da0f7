"""The fleet's shared services for devices: the clock, MQTT links and message scheduling."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from twin.models.faults import FaultSchedule

from .broker import Account
from .guard import InputLog
from .mqtt_link import MqttLink, device_prefix


@dataclass
class FleetContext:
    """What every device of a fleet shares. Times are simulated seconds from the scenario start."""

    sim: Any  # twin.simulation.Simulation
    faults: FaultSchedule
    settings: Any  # twin.scenario.DeviceSettings
    seed: int
    host: str
    broker_host: str
    broker_port: int
    loop: asyncio.AbstractEventLoop | None = None
    links: dict[str, MqttLink] = field(default_factory=dict)
    accounts: list[Account] = field(default_factory=list)
    published: int = 0
    tracker: Any = None  # clock.DeliveryTracker: readings the clock waits to see delivered
    tracked: frozenset[str] = frozenset()  # the devices whose readings it waits for
    tracking: bool = True  # off while the broker is down (an outage fault): those readings come late on purpose
    input_log: InputLog = field(default_factory=InputLog)  # refused inputs, one rate-limited line each
    _people: tuple[float, list] = (-1.0, [])
    _cameras: dict[str, Any] | None = None

    def camera_model(self, device_id: str, row: dict[str, Any], position: tuple[float, float]):
        """The camera ``device_id`` as the run sees it (twin.models.camera.camera_models: occluded
        view, detection, night), all of the fleet's cameras built once on the first call; a camera
        the run's city does not have (a device started on its own) from its ``row`` alone."""
        from twin.models.camera import CameraModel, camera_models

        if self._cameras is None:
            city = getattr(self.sim, "city", None)
            self._cameras = camera_models(city, self.sim.scenario, faults=self.faults) if city is not None else {}
        if device_id in self._cameras:
            return self._cameras[device_id]
        return CameraModel.of_camera(device_id, *position, row, faults=self.faults)

    def people_now(self, t_s: float) -> list[tuple[int, float, float, bool]]:
        """Everyone out at simulated time ``t_s`` (person, x, y, heading to safety), computed once per time."""
        if self._people[0] != t_s:
            crowd = self.sim.crowd
            self._people = (t_s, crowd.positions() if crowd is not None else [])
        return self._people[1]

    def clock_iso(self, t_s: float) -> str:
        return self.sim.engine.clock(t_s).isoformat(timespec="milliseconds")

    def send(
        self, device_id: str, topic: str, payload: dict[str, Any] | str, *, latency_s: float = 0.0, retain: bool = False
    ) -> None:
        """Publish now, or after ``latency_s`` wall seconds (a latency fault)."""
        link = self.links.get(device_id)
        if link is None:
            return
        self.published += 1
        if latency_s > 0 and self.loop is not None:  # late on purpose: the clock does not wait for it
            self.loop.call_later(latency_s, link.publish, topic, payload, retain)
            return
        if self.tracking and device_id in self.tracked and topic.endswith("/telemetry") and isinstance(payload, dict):
            self.tracker.published(device_id, int(payload["seq"]), float(payload["sim_time_s"]))
        link.publish(topic, payload, retain=retain)


def telemetry_payload(
    ctx: FleetContext,
    device_id: str,
    kind: str,
    seq: int,
    t_s: float,
    value: float,
    unit: str,
    quality: str,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON every sensor sends: device id, timestamp, value, unit and a per-device sequence
    number that grows by one per message."""
    return {
        "device_id": device_id,
        "kind": kind,
        "seq": seq,
        "time": ctx.clock_iso(t_s),
        "sim_time_s": round(t_s, 3),
        "value": value,
        "unit": unit,
        "quality": quality,
        **extra,
    }


def topics(kind: str, device_id: str) -> dict[str, str]:
    p = device_prefix(kind, device_id)
    return {
        "telemetry": f"{p}/telemetry",
        "status": f"{p}/status",
        "state": f"{p}/state",
        "cmd": f"{p}/cmd",
        "event": f"{p}/event",
    }


def dumps(x: Any) -> str:
    return json.dumps(x, ensure_ascii=False, separators=(",", ":"))
