"""Time series of a run in long format: (time_s, entity_id, variable, value, unit)."""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd


class Recorder:
    """Collects samples; declare each variable's unit once with :meth:`declare`."""

    def __init__(self) -> None:
        self._units: dict[str, str] = {}
        # compact columns: 8 + 4 + 2 + 8 bytes a sample (a 30-day run samples millions)
        self._t = array("d")
        self._e = array("i")
        self._v = array("h")
        self._x = array("d")
        self._entities: dict[str, int] = {}
        self._variables: dict[str, int] = {}

    def declare(self, variable: str, unit: str) -> None:
        if self._units.get(variable, unit) != unit:
            raise ValueError(f"variable {variable!r} already recorded in {self._units[variable]}, not {unit}")
        self._units[variable] = unit

    def record(self, time_s: float, entity_id: str, variable: str, value: float) -> None:
        if variable not in self._units:
            raise KeyError(f"declare the unit of {variable!r} before recording it")
        self._t.append(float(time_s))
        self._e.append(self._entities.setdefault(entity_id, len(self._entities)))
        self._v.append(self._variables.setdefault(variable, len(self._variables)))
        self._x.append(float(value))

    def record_many(self, time_s: float, variable: str, values: dict[str, float]) -> None:
        """Record one variable of many entities at the same time."""
        if variable not in self._units:
            raise KeyError(f"declare the unit of {variable!r} before recording it")
        n = len(values)
        ent = self._entities
        self._t.extend([float(time_s)] * n)
        self._e.extend([ent.setdefault(e, len(ent)) for e in values])
        self._v.extend([self._variables.setdefault(variable, len(self._variables))] * n)
        self._x.extend([float(x) for x in values.values()])

    def __len__(self) -> int:
        return len(self._t)

    def to_frame(self) -> pd.DataFrame:
        """Columns: time_s (float64), entity_id, variable, value (float64), unit (text)."""
        entities = np.array(list(self._entities), dtype=object)
        variables = np.array(list(self._variables), dtype=object)
        units = np.array([self._units[v] for v in self._variables], dtype=object)
        e = np.frombuffer(self._e, dtype=np.int32) if len(self._e) else np.zeros(0, np.int32)
        v = np.frombuffer(self._v, dtype=np.int16) if len(self._v) else np.zeros(0, np.int16)
        return pd.DataFrame(
            {
                "time_s": np.frombuffer(self._t, dtype=np.float64).copy() if len(self._t) else np.zeros(0),
                "entity_id": pd.Series(entities[e] if len(e) else [], dtype="string"),
                "variable": pd.Series(variables[v] if len(v) else [], dtype="string"),
                "value": np.frombuffer(self._x, dtype=np.float64).copy() if len(self._x) else np.zeros(0),
                "unit": pd.Series(units[v] if len(v) else [], dtype="string"),
            }
        )

    def series(self, entity_id: str, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """(times_s, values) of one entity's variable."""
        if entity_id not in self._entities or variable not in self._variables:
            return np.zeros(0), np.zeros(0)
        e = np.frombuffer(self._e, dtype=np.int32)
        v = np.frombuffer(self._v, dtype=np.int16)
        m = (e == self._entities[entity_id]) & (v == self._variables[variable])
        return np.frombuffer(self._t, dtype=np.float64)[m].copy(), np.frombuffer(self._x, dtype=np.float64)[m].copy()
