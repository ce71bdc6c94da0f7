"""Tilt sensors, crack gauges and extensometers on old buildings and steep slopes, as a LoRaWAN
network server (ChirpStack v4) publishes their uplinks on MQTT:
``application/{applicationId}/device/{devEui}/event/up`` with the frame counter, the raw payload
(base64) and the decoded ``object``.

The values are the collapse model's (twin/models/collapse.py): a slope's tilt rod, tension crack
and extensometer follow its creep and acceleration in the scenario's rain, a building's tilt and
crack follow its settlement; each sensor reads through its own noise, resolution and faults, at
its own phase within ``devices.structural_interval``, so that the fleet's readings are those of
``twin run`` for the same scenario. A slope that fails takes its sensors with it: they fall
silent. Payload (big-endian): tilt fPort 10: int16 x, int16 y (0.001 deg; x along the tilt, y 0),
uint16 battery (mV); crack fPort 11: uint16 width (0.001 mm), uint16 battery (mV); extensometer
fPort 12: uint32 wire position (0.01 mm), uint16 battery (mV).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
import zlib
from typing import Any

import numpy as np

from twin.models.sensor_model import sample_phase_s

from .broker import Account
from .device import DeviceBase
from .telemetry import FleetContext

TENANT = uuid.uuid5(uuid.NAMESPACE_DNS, "uijeongbu.go.kr")
APPLICATION = {
    "tilt_sensor": uuid.uuid5(TENANT, "structural-tilt"),
    "crack_sensor": uuid.uuid5(TENANT, "structural-crack"),
    "extensometer": uuid.uuid5(TENANT, "structural-extensometer"),
}
F_PORT = {"tilt_sensor": 10, "crack_sensor": 11, "extensometer": 12}
GATEWAY = "0016c001ff10a235"
KR920 = (922_100_000, 922_300_000, 922_500_000)  # Hz, the KR920 plan's default channels


def dev_eui(device_id: str) -> str:
    return hashlib.sha1(device_id.encode("utf-8")).hexdigest()[:16]


class StructuralSensor(DeviceBase):
    """One LoRaWAN tilt sensor, crack gauge or extensometer; ``sample(t)`` sends its uplink due at ``t``."""

    def __init__(
        self, row: dict[str, Any], ctx: FleetContext, *, port: int | None = None, source_id: str | None = None
    ) -> None:
        super().__init__(row, ctx)
        self.kind = str(row["kind"])  # tilt_sensor, crack_sensor or extensometer
        self.source_id = source_id or self.device_id  # a load-test replica reads the true value of the one it copies
        self.eui = dev_eui(self.device_id)
        self.app = str(APPLICATION[self.kind])
        self.interval_s = float(ctx.settings.structural_interval)
        self.rng = np.random.default_rng([int(ctx.seed), zlib.crc32(self.device_id.encode("utf-8")), 7])
        self.f_cnt = 0
        self.next_s = sample_phase_s(self.device_id, self.interval_s)  # the collapse model's own times
        self.battery_mv = float(self.rng.uniform(3500, 3650))
        self.topic = f"application/{self.app}/device/{self.eui}/event/up"
        self.account = Account(self.device_id, "", publish=[f"application/{self.app}/device/{self.eui}/event/#"])

    def _sample(self, t_s: float) -> None:
        model = self.ctx.sim.collapse
        where = model.sensor_site(self.source_id) if model is not None else None
        if where is None:  # on no monitored site: nothing to read
            return
        if self.source_id == self.device_id:
            value = model.reading(self.device_id, where[1], where[0], t_s)
        else:  # a replica: the truth through its own noise, leaving the copied sensor's readings alone
            value = self._replica_value(model.truth[where[0]].at(where[1], t_s))
        if value is None:  # a dropout, or destroyed with its slope
            return
        self.f_cnt += 1
        self.battery_mv -= 0.02
        if self.kind == "tilt_sensor":
            raw = struct.pack(">hhH", round(value * 1000), 0, round(self.battery_mv))
            obj: dict[str, Any] = {"tilt_x_deg": round(value, 3), "tilt_y_deg": 0.0}
            port = 10
        elif self.kind == "extensometer":
            raw = struct.pack(">IH", round(value * 100), round(self.battery_mv))
            obj = {"displacement_mm": round(value, 2)}
            port = 12
        else:
            raw = struct.pack(">HH", round(value * 1000), round(self.battery_mv))
            obj = {"crack_mm": round(value, 3)}
            port = 11
        obj["battery_v"] = round(self.battery_mv / 1000, 3)
        self.ctx.send(self.device_id, self.topic, self.uplink(t_s, port, raw, obj))

    def _replica_value(self, truth: float | None) -> float | None:
        if truth is None:
            return None
        reading = getattr(self.ctx.settings, self.kind)  # StructuralReading: noise_sd and resolution, units of the kind
        value = truth + float(self.rng.normal(0.0, reading.noise_sd))
        if reading.resolution <= 0:  # 0 = exact
            return value
        return round(value / reading.resolution) * reading.resolution

    def uplink(self, t_s: float, f_port: int, raw: bytes, obj: dict[str, Any]) -> dict[str, Any]:
        """A ChirpStack v4 ``up`` event (integration.UplinkEvent in JSON)."""
        return {
            "deduplicationId": str(uuid.uuid5(TENANT, f"{self.eui}:{self.f_cnt}")),
            "time": self.ctx.clock_iso(t_s),
            "deviceInfo": {
                "tenantId": str(TENANT),
                "tenantName": "Uijeongbu",
                "applicationId": self.app,
                "applicationName": "structural-monitoring",
                "deviceProfileId": str(uuid.uuid5(TENANT, self.kind)),
                "deviceProfileName": self.kind.replace("_", "-"),
                "deviceName": self.device_id,
                "devEui": self.eui,
                "tags": {
                    "host_id": str(self.row.get("host_id") or ""),
                    "host_layer": str(self.row.get("host_layer") or ""),
                },
            },
            "devAddr": self.eui[-8:],
            "adr": True,
            "dr": 5,
            "fCnt": self.f_cnt,
            "fPort": f_port,
            "confirmed": False,
            "data": base64.b64encode(raw).decode("ascii"),
            "object": obj,
            "rxInfo": [
                {
                    "gatewayId": GATEWAY,
                    "uplinkId": self.f_cnt % 65536,
                    "rssi": int(-90 - (zlib.crc32(self.eui.encode()) % 25)),
                    "snr": 7.5,
                }
            ],
            "txInfo": {
                "frequency": KR920[self.f_cnt % 3],
                "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 9, "codeRate": "CR_4_5"}},
            },
        }

    def _faces(self) -> dict[str, Any]:
        return {
            "host_id": self.row.get("host_id"),
            "lorawan": {
                "dev_eui": self.eui,
                "application_id": self.app,
                "f_port": F_PORT[self.kind],
            },
            "mqtt": {"up": self.topic, "username": self.device_id},
            "uplink_interval_s": self.interval_s,
        }
