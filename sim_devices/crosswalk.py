"""IoT crosswalks in the school zones: people waiting at and walking on the crossing, from the
crowd model; the driver warning sign (on while anyone waits or crosses) and a per-crossing count.

MQTT ``uijeongbu/crosswalk/{id}/telemetry``: ``{"device_id","seq","time","sim_time_s","waiting",
"crossing","count","warning_sign": "on"|"off"}`` every ``devices.crosswalk_interval``.
"""

from __future__ import annotations

import zlib
from typing import Any

from .device import DeviceBase
from .telemetry import FleetContext


class Crosswalk(DeviceBase):
    kind = "crosswalk"

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, port: int | None = None) -> None:
        super().__init__(row, ctx)
        self.edge_id = str(row.get("edge_id") or "")
        self.interval_s = float(ctx.settings.crosswalk_interval)
        self.next_s = round(zlib.crc32(self.device_id.encode("utf-8")) % 1000 / 1000 * self.interval_s, 3)
        self.seq = 0
        self._mqtt()
        self.last: dict[str, Any] = {}

    def counts(self) -> tuple[int, int, int]:
        """(waiting to cross: at its kerb or queued behind it; crossing; entered so far) on the crossing's link."""
        crowd = self.ctx.sim.crowd
        link = crowd.model.links.links.get(self.edge_id) if crowd is not None else None
        if link is None:
            return 0, 0, 0
        return int(link.waiting_n), int(link.occupants), int(link.entered)

    def _sample(self, t_s: float) -> None:
        if self.ctx.faults.active(self.device_id, "dropout", t_s):
            return
        waiting, crossing, count = self.counts()
        self.seq += 1
        self.last = {
            "device_id": self.device_id,
            "kind": self.kind,
            "seq": self.seq,
            "time": self.ctx.clock_iso(t_s),
            "sim_time_s": round(t_s, 3),
            "waiting": waiting,
            "crossing": crossing,
            "count": count,
            "warning_sign": "on" if waiting + crossing > 0 else "off",
            "school_id": self.row.get("school_id"),
        }
        self.ctx.send(self.device_id, self.topics["telemetry"], self.last)

    def _faces(self) -> dict[str, Any]:
        return {
            "edge_id": self.edge_id,
            "mqtt": self.topics | {"username": self.device_id},
            "interval_s": self.interval_s,
        }
