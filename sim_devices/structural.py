"""Tilt and crack sensors on old buildings and steep slopes, as a LoRaWAN network server (ChirpStack
v4) publishes their uplinks on MQTT: ``application/{applicationId}/device/{devEui}/event/up`` with
the frame counter, the raw payload (base64) and the decoded ``object``.

No collapse model exists yet, so the values drift neutrally: a small fixed offset per device, a
random walk (tilt 0.0005° per uplink, crack 0.0002 mm) and reading noise. Payload (big-endian):
tilt fPort 10: int16 x, int16 y (0.001°), uint16 battery (mV); crack fPort 11: uint16 width
(0.001 mm), uint16 battery (mV).
"""

from __future__ import annotations

import base64
import hashlib
import struct
import uuid
import zlib
from typing import Any

import numpy as np

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
    """One LoRaWAN tilt or crack sensor; ``sample(t)`` sends its uplink due at ``t``."""

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, port: int | None = None) -> None:
        super().__init__(row, ctx)
        self.kind = str(row["kind"])  # tilt_sensor, crack_sensor or extensometer
        self.eui = dev_eui(self.device_id)
        self.app = str(APPLICATION[self.kind])
        self.interval_s = float(ctx.settings.structural_interval)
        self.rng = np.random.default_rng([int(ctx.seed), zlib.crc32(self.device_id.encode("utf-8")), 7])
        self.f_cnt = 0
        self.next_s = float(self.rng.uniform(0, self.interval_s))  # devices are not in step
        if self.kind == "tilt_sensor":
            self.state = list(self.rng.normal(0.0, 0.05, size=2))  # degrees
        else:
            self.state = [float(self.rng.uniform(0.2, 0.5))]  # mm
        self.battery_mv = float(self.rng.uniform(3500, 3650))
        self.topic = f"application/{self.app}/device/{self.eui}/event/up"
        self.account = Account(self.device_id, "", publish=[f"application/{self.app}/device/{self.eui}/event/#"])

    def _sample(self, t_s: float) -> None:
        if self.ctx.faults.active(self.device_id, "dropout", t_s):
            return
        self.f_cnt += 1
        self.battery_mv -= 0.02
        if self.kind == "tilt_sensor":
            self.state = [v + float(self.rng.normal(0.0, 0.0005)) for v in self.state]
            x, y = (v + float(self.rng.normal(0.0, 0.001)) for v in self.state)
            raw = struct.pack(">hhH", round(x * 1000), round(y * 1000), round(self.battery_mv))
            obj = {"tilt_x_deg": round(x, 3), "tilt_y_deg": round(y, 3)}
            port = 10
        elif self.kind == "extensometer":
            self.state[0] = max(0.0, self.state[0] + float(self.rng.normal(0.0, 0.0002)))
            d = max(0.0, self.state[0] + float(self.rng.normal(0.0, 0.01)))
            raw = struct.pack(">IH", round(d * 100), round(self.battery_mv))
            obj = {"displacement_mm": round(d, 2)}
            port = 12
        else:
            self.state[0] = max(0.0, self.state[0] + float(self.rng.normal(0.0, 0.0002)))
            w = max(0.0, self.state[0] + float(self.rng.normal(0.0, 0.001)))
            raw = struct.pack(">HH", round(w * 1000), round(self.battery_mv))
            obj = {"crack_mm": round(w, 3)}
            port = 11
        obj["battery_v"] = round(self.battery_mv / 1000, 3)
        self.ctx.send(self.device_id, self.topic, self.uplink(t_s, port, raw, obj))

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
