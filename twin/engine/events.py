"""The typed event log of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True, order=True)
class Event:
    """Something that happened at ``time_s`` (simulated seconds from the scenario start).

    ``kind`` is a dotted name (``rain.advisory``, ``stage.threshold_up``, ``path.flooded``);
    ``entity_id`` the device, access point or gauge concerned; ``data`` details (JSON-able).
    """

    time_s: float
    seq: int
    kind: str
    entity_id: str
    message: str = field(compare=False)
    data: dict[str, Any] = field(default_factory=dict, compare=False)


class EventLog:
    """Events in the order they happened (time, then order of logging)."""

    def __init__(self) -> None:
        self._events: list[Event] = []

    def log(self, time_s: float, kind: str, entity_id: str, message: str, **data: Any) -> Event:
        ev = Event(float(time_s), len(self._events), kind, entity_id, message, data)
        self._events.append(ev)
        return ev

    def __iter__(self):
        return iter(sorted(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self if e.kind == kind]

    def to_frame(self) -> pd.DataFrame:
        """Columns: time_s (float), kind, entity_id, message, data (JSON text)."""
        import json

        rows = [
            (e.time_s, e.kind, e.entity_id, e.message, json.dumps(e.data, ensure_ascii=False, sort_keys=True))
            for e in self
        ]
        return pd.DataFrame(rows, columns=["time_s", "kind", "entity_id", "message", "data"])
