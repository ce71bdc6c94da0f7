"""River level sensors and tipping-bucket rain gauges: Modbus TCP registers and MQTT telemetry,
their values read from the running simulation through a :class:`SensorModel`.

Register maps (holding and input registers carry the same values; read-only; unsigned 16-bit):

level sensor: 0 stage (mm above the gauge datum), 1 sensor height above the bed (mm),
2 distance sensor -> water (mm), 3 status (bit 0 reading valid, bit 1 no echo), 4 sequence
number (low 16 bits), 5-6 sample time (s since the scenario start, 32 bits, high word first).

rain gauge: 0 rain in the last 10 min (0.1 mm), 1 last 60 min (0.1 mm), 2 since the start
(0.1 mm), 3 bucket tips since the start (low 16 bits), 4 status, 5 sequence number,
6-7 sample time (s, 32 bits, high word first).
"""

from __future__ import annotations

from typing import Any

from twin.models.sensor_model import RainTotals, SensorModel, sample_phase_s

from .device import ModbusDevice
from .modbus_face import ModbusFace
from .telemetry import FleetContext, telemetry_payload

LEVEL_MAP = {
    0: "stage_mm",
    1: "sensor_height_mm",
    2: "distance_mm",
    3: "status (bit0 valid, bit1 no echo)",
    4: "seq_low16",
    5: "time_s_high",
    6: "time_s_low",
}
RAIN_MAP = {
    0: "rain_10min_0.1mm",
    1: "rain_60min_0.1mm",
    2: "rain_total_0.1mm",
    3: "tips_low16",
    4: "status (bit0 valid, bit1 no signal)",
    5: "seq_low16",
    6: "time_s_high",
    7: "time_s_low",
}


def _u16(x: float) -> int:
    return int(min(max(round(x), 0), 65535))


def _u32(x: float) -> list[int]:
    v = int(min(max(round(x), 0), 2**32 - 1))
    return [v >> 16, v & 0xFFFF]


class Sensor(ModbusDevice):
    """Common to both kinds: sampling schedule, sequence numbers, Modbus face and MQTT account."""

    kind = "sensor"
    unit = ""
    register_map: dict[int, str] = {}

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, settings, port: int) -> None:
        super().__init__(row, ctx)
        self.source_id = self.device_id  # the sensor whose stage it reads (a load-test replica: the one it copies)
        self.interval_s = float(settings.sample_interval)
        self.model = SensorModel(
            self.device_id, seed=ctx.seed, noise_sd=settings.noise_sd, resolution=settings.resolution, faults=ctx.faults
        )
        self.seq = 0
        self.next_s = sample_phase_s(self.device_id, self.interval_s)
        self._mqtt()
        self.modbus = ModbusFace(
            host=ctx.host,
            port=port,
            sizes={"holding_registers": len(self.register_map), "input_registers": len(self.register_map)},
            on_refuse=lambda why: ctx.input_log.refuse(self.device_id, why),
        )

    def _registers(self, values: list[int]) -> None:
        self.modbus.set("holding_registers", 0, values)
        self.modbus.set("input_registers", 0, values)

    @property
    def waited_for(self) -> bool:
        """The fleet's clock waits for its readings to be delivered (a dataset sensor, not a replica)."""
        return self.source_id == self.device_id

    def _faces(self) -> dict[str, Any]:
        return {
            "modbus": {
                "host": self.modbus.host,
                "port": self.modbus.port,
                "unit_id": 1,
                "holding_registers": {str(k): v for k, v in self.register_map.items()},
                "input_registers": "same as holding_registers",
            },
            "mqtt": self.topics | {"username": self.device_id},
            "sample_interval_s": self.interval_s,
            "unit": self.unit,
        }


class LevelSensor(Sensor):
    kind = "level_sensor"
    unit = "m"
    register_map = LEVEL_MAP

    def __init__(self, row, ctx, *, port: int, source_id: str | None = None) -> None:
        super().__init__(row, ctx, settings=ctx.settings.level_sensor, port=port)
        self.source_id = source_id or self.device_id  # a load-test replica reads the sensor it copies
        h = row.get("sensor_height_m")
        self.sensor_height_m = float(h) if h == h and h is not None else 10.0

    def _sample(self, t_s: float) -> None:
        true = self.ctx.sim.stage_m(self.source_id)
        r = self.model.read(true, t_s)
        valid = r.value is not None
        stage = r.value if r.value is not None else 0.0
        self.seq += 1 if valid else 0
        self._registers(
            [
                _u16(stage * 1000),
                _u16(self.sensor_height_m * 1000),
                _u16((self.sensor_height_m - stage) * 1000) if valid else 0,
                1 if valid else 2,
                self.seq & 0xFFFF,
                *_u32(t_s),
            ]
        )
        if r.value is not None:
            msg = telemetry_payload(self.ctx, self.device_id, self.kind, self.seq, t_s, r.value, "m", r.quality)
            self.ctx.send(self.device_id, self.topics["telemetry"], msg, latency_s=r.latency_s)


class RainGauge(Sensor):
    kind = "rain_gauge"
    unit = "mm"
    register_map = RAIN_MAP

    def __init__(self, row, ctx, *, port: int) -> None:
        super().__init__(row, ctx, settings=ctx.settings.rain_gauge, port=port)
        self.totals = RainTotals(float(ctx.settings.rain_gauge.resolution))

    def _sample(self, t_s: float) -> None:
        true_total = self.ctx.sim.rain_mm(self.device_id, 0.0, t_s)
        r = self.model.read(true_total, t_s)
        if r.value is None:
            self._registers([0, 0, 0, 0, 2, self.seq & 0xFFFF, *_u32(t_s)])
            return
        total, last10, last60, tips = self.totals.add(t_s, r.value)
        self.seq += 1
        self._registers(
            [_u16(last10 * 10), _u16(last60 * 10), _u16(total * 10), tips & 0xFFFF, 1, self.seq & 0xFFFF, *_u32(t_s)]
        )
        msg = telemetry_payload(
            self.ctx,
            self.device_id,
            self.kind,
            self.seq,
            t_s,
            round(total, 3),
            "mm",
            r.quality,
            rain_10min_mm=round(last10, 3),
            rain_60min_mm=round(last60, 3),
            tips=tips,
        )
        self.ctx.send(self.device_id, self.topics["telemetry"], msg, latency_s=r.latency_s)
