"""What a real sensor does to the true value: sampling, noise, resolution, and faults.

Deterministic: each device draws from its own generator, seeded by the scenario seed and the
device id, and readings are taken at fixed simulated times, so the same scenario gives the same
readings whatever the wall clock does.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from .faults import FaultSchedule


@dataclass
class Reading:
    """One sample: simulated time (s), the value (None during a dropout) and what happened."""

    time_s: float
    value: float | None
    quality: str  # "good", "dropout", "stuck", "spike", "drift"
    latency_s: float = 0.0  # extra delay before it is sent (wall seconds)


class SensorModel:
    """Turns the true value into readings. Units are the device's (m for level, mm for rain)."""

    def __init__(
        self,
        device_id: str,
        *,
        seed: int,
        noise_sd: float,
        resolution: float,
        faults: FaultSchedule | None = None,
    ) -> None:
        self.device_id = device_id
        self.noise_sd = float(noise_sd)
        self.resolution = float(resolution)
        self.faults = faults or FaultSchedule()
        self.rng = np.random.default_rng([int(seed), zlib.crc32(device_id.encode("utf-8"))])
        self.last: float | None = None

    def _quantise(self, v: float) -> float:
        if self.resolution > 0:
            v = round(v / self.resolution) * self.resolution
            return round(v, 9)
        return v

    def read(self, true_value: float | None, t_s: float) -> Reading:
        """A reading of ``true_value`` taken at simulated time ``t_s``."""
        noise = float(self.rng.normal(0.0, self.noise_sd)) if self.noise_sd > 0 else 0.0
        spike_draw = float(self.rng.random())  # drawn every time: faults never shift later draws
        lat = self.faults.active(self.device_id, "latency", t_s)
        latency = lat.latency_s if lat else 0.0
        if true_value is None or self.faults.active(self.device_id, "dropout", t_s):
            return Reading(t_s, None, "dropout", latency)
        if self.faults.active(self.device_id, "stuck", t_s) and self.last is not None:
            return Reading(t_s, self.last, "stuck", latency)
        value = true_value + noise
        quality = "good"
        drift = self.faults.active(self.device_id, "drift", t_s)
        if drift:  # reads falsely: off the truth by magnitude per hour since the fault began
            value += drift.magnitude * (t_s - drift.start_s) / 3600.0
            quality = "drift"
        spike = self.faults.active(self.device_id, "spikes", t_s)
        if spike and spike_draw < spike.probability:
            value += spike.magnitude
            quality = "spike"
        value = self._quantise(max(value, 0.0))
        self.last = value
        return Reading(t_s, value, quality, latency)


def sample_phase_s(device_id: str, interval_s: float) -> float:
    """When in its interval a device takes its first reading (s): real loggers are not in step,
    so each samples at its own phase, fixed by its id."""
    return round(zlib.crc32(device_id.encode("utf-8")) % 1000 / 1000 * interval_s, 3)


class RainTotals:
    """A tipping-bucket gauge's running totals from its readings of the total since the start
    (mm): a bucket never un-tips, and the last 10 and 60 minutes are read off the history."""

    def __init__(self, bucket_mm: float) -> None:
        self.bucket_mm = float(bucket_mm) or 0.5
        self.history: list[tuple[float, float]] = []  # (time s, total mm) of the readings

    def _total_before(self, t_s: float) -> float:
        prior = [v for (tt, v) in self.history if tt <= t_s + 1e-9]
        return prior[-1] if prior else 0.0

    def add(self, t_s: float, reading_mm: float) -> tuple[float, float, float, int]:
        """Take a reading at ``t_s``; returns (total, last 10 min, last 60 min, bucket tips)."""
        total = max(reading_mm, self.history[-1][1] if self.history else 0.0)
        self.history.append((t_s, total))
        self.history = [h for h in self.history if h[0] >= t_s - 3600.0 - 1e-9]
        last10 = total - self._total_before(t_s - 600.0)
        last60 = total - self._total_before(t_s - 3600.0)
        return total, last10, last60, int(round(total / self.bucket_mm))
