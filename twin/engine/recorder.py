"""Time series of a run in long format: (time_s, entity_id, variable, value, unit)."""

from __future__ import annotations

import numpy as np
import pandas as pd


class Recorder:
    """Collects samples; declare each variable's unit once with :meth:`declare`."""

    def __init__(self) -> None:
        self._units: dict[str, str] = {}
        self._t: list[float] = []
        self._e: list[str] = []
        self._v: list[str] = []
        self._x: list[float] = []

    def declare(self, variable: str, unit: str) -> None:
        if self._units.get(variable, unit) != unit:
            raise ValueError(f"variable {variable!r} already recorded in {self._units[variable]}, not {unit}")
        self._units[variable] = unit

    def record(self, time_s: float, entity_id: str, variable: str, value: float) -> None:
        if variable not in self._units:
            raise KeyError(f"declare the unit of {variable!r} before recording it")
        self._t.append(float(time_s))
        self._e.append(entity_id)
        self._v.append(variable)
        self._x.append(float(value))

    def record_many(self, time_s: float, variable: str, values: dict[str, float]) -> None:
        for entity_id, value in values.items():
            self.record(time_s, entity_id, variable, value)

    def __len__(self) -> int:
        return len(self._t)

    def to_frame(self) -> pd.DataFrame:
        """Columns: time_s (float64), entity_id, variable, value (float64), unit (categorical text)."""
        df = pd.DataFrame(
            {
                "time_s": np.asarray(self._t, dtype="float64"),
                "entity_id": pd.Series(self._e, dtype="string"),
                "variable": pd.Series(self._v, dtype="string"),
                "value": np.asarray(self._x, dtype="float64"),
            }
        )
        df["unit"] = pd.Series([self._units[v] for v in self._v], dtype="string")
        return df

    def series(self, entity_id: str, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """(times_s, values) of one entity's variable."""
        t = np.asarray(self._t)
        e = np.asarray(self._e, dtype=object)
        v = np.asarray(self._v, dtype=object)
        m = (e == entity_id) & (v == variable)
        return t[m], np.asarray(self._x)[m]
