"""What every simulated device is to the fleet (:class:`Device`), and the parts all of them share
(:class:`DeviceBase`): the id, kind and name from the dataset row, the sampling schedule, the MQTT
account and topics, the manifest's head and tail, and starting and stopping its own server.

Times are simulated seconds from the scenario start; positions EPSG:5186 metres (the fleet adds
``x`` and ``y`` to each dataset row).

The fleet's loop, per device: ``sample(t)`` at every ``due()`` time (a device that is only stepped
is never due: ``math.inf``), and ``step(t)`` at every clock step for the devices that set
``every_step`` (gates, signboards: commands and alerts taken between readings).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from .broker import Account
from .modbus_face import ModbusFace
from .mqtt_link import device_prefix
from .telemetry import FleetContext, topics


@runtime_checkable
class Device(Protocol):
    """One device of the fleet, whatever its kind and protocol face."""

    kind: str  # the dataset's device kind (level_sensor, gate, cctv, ...)
    device_id: str
    row: dict[str, Any]  # its dataset row, with x and y (EPSG:5186 m)
    account: Account  # its MQTT account (no topics: no MQTT face)
    topics: dict[str, str]  # its MQTT topics by name (telemetry, status, state, cmd, event); empty: none
    every_step: bool  # stepped at every clock step (commands, alerts), not only when due

    @property
    def on_mqtt(self) -> Callable[[str, bytes], None] | None:
        """What takes the messages on its subscriptions, if any (a method, or None)."""
        ...

    @property
    def name(self) -> str | None: ...

    @property
    def status_topic(self) -> str | None: ...

    @property
    def waited_for(self) -> bool:
        """The fleet's clock waits for its telemetry (``topics["telemetry"]``) to be delivered."""
        ...

    def due(self) -> float:
        """The simulated time of its next sample (``math.inf``: never)."""
        ...

    def sample(self, t_s: float) -> None:
        """Take the sample due at ``t_s`` (the simulation has been advanced to it)."""
        ...

    def step(self, t_s: float) -> None:
        """A clock step to ``t_s`` (for ``every_step`` devices)."""
        ...

    def listen_port(self) -> int | None:
        """The TCP port its own server is to listen on (None: it serves nothing itself)."""
        ...

    def served(self) -> dict[str, int]:
        """Requests its server has answered, by protocol (``modbus``, ``http``)."""
        ...

    async def open(self) -> None:
        """Start its server, if it has one (the fleet has released its port reservation)."""
        ...

    async def close(self) -> None:
        """Stop its server, if it has one."""
        ...

    def manifest(self) -> dict[str, Any]:
        """Its entry in the fleet's manifest: how to reach it, and ``credentials.json#{id}``."""
        ...


class DeviceBase:
    """The parts every device shares. A subclass sets ``interval_s`` and ``next_s`` when it samples
    on a schedule, implements ``_sample``, and gives its protocol faces in ``_faces``."""

    kind: str = "device"
    every_step: bool = False
    on_mqtt: Callable[[str, bytes], None] | None = None  # a subclass with subscriptions defines the method

    def __init__(self, row: dict[str, Any], ctx: FleetContext) -> None:
        self.device_id = str(row["device_id"])
        self.row = row
        self.ctx = ctx
        self.interval_s = math.inf  # simulated s between samples
        self.next_s = math.inf  # the next sample's time
        self.topics: dict[str, str] = {}
        self.account = Account(self.device_id, "")

    # --- identity ------------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self.row.get("name")

    @property
    def position(self) -> tuple[float, float]:
        """(x, y), EPSG:5186 metres, as the fleet adds them to the dataset row."""
        return float(self.row["x"]), float(self.row["y"])

    def _mqtt(self, *, subscribe: tuple[str, ...] = ()) -> None:
        """Topics under ``uijeongbu/{kind}/{id}/`` and an account that may publish there and
        subscribe to its own topics named in ``subscribe`` (e.g. ``("cmd",)``)."""
        self.topics = topics(self.kind, self.device_id)
        self.account = Account(
            self.device_id,
            "",
            publish=[f"{device_prefix(self.kind, self.device_id)}/#"],
            subscribe=[self.topics[k] for k in subscribe],
        )

    @property
    def status_topic(self) -> str | None:
        return self.topics.get("status")

    @property
    def waited_for(self) -> bool:
        """The fleet's clock waits for its telemetry to be delivered (the dataset's sensors)."""
        return False

    # --- time ----------------------------------------------------------------------------------
    def due(self) -> float:
        return self.next_s

    def sample(self, t_s: float) -> None:
        """Take the sample due at ``t_s`` and schedule the next one ``interval_s`` later."""
        self.next_s = t_s + self.interval_s
        self._sample(t_s)

    def _sample(self, t_s: float) -> None:
        """What the device does at a sample (nothing by default)."""

    def step(self, t_s: float) -> None:
        """A clock step (nothing by default)."""

    # --- its own server ------------------------------------------------------------------------
    def listen_port(self) -> int | None:
        return None

    def served(self) -> dict[str, int]:
        return {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    # --- manifest ------------------------------------------------------------------------------
    def _faces(self) -> dict[str, Any]:
        """The manifest entries between its name and its credentials (protocol faces, settings)."""
        return {}

    def manifest(self) -> dict[str, Any]:
        return {
            "id": self.device_id,
            "kind": self.kind,
            "name": self.name,
            **self._faces(),
            "credentials": f"credentials.json#{self.device_id}",
        }


class ModbusDevice(DeviceBase):
    """A device whose own server is a Modbus TCP face (``self.modbus``)."""

    modbus: ModbusFace

    def listen_port(self) -> int | None:
        return self.modbus.port

    def served(self) -> dict[str, int]:
        return {"modbus": self.modbus.requests}

    async def open(self) -> None:
        await self.modbus.start()

    async def close(self) -> None:
        await self.modbus.stop()


class HttpDevice(DeviceBase):
    """A device whose own server is HTTP (``start``/``stop``, its ``port`` and ``requests`` count)."""

    port: int
    requests: int

    def start(self) -> None:  # pragma: no cover - every HTTP device defines it
        raise NotImplementedError

    def stop(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def listen_port(self) -> int | None:
        return self.port

    def served(self) -> dict[str, int]:
        return {"http": self.requests}

    async def open(self) -> None:
        self.start()

    async def close(self) -> None:
        self.stop()
