"""A sweep's analysis from its results table: percentiles and exceedance probabilities of the KPIs,
Sobol indices of the run-wide KPIs (Sobol designs), and rules for the outcomes to explain.

The statistics are :mod:`twin.ensemble.statistics`, :mod:`~twin.ensemble.sensitivity` and
:mod:`~twin.ensemble.discovery`; this module picks their inputs from the table: which columns are
KPIs, which events each declares (:mod:`twin.ensemble.kpis`), which members finished.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import SweepError
from .design import Design
from .discovery import discover
from .kpis import measure_of
from .parameters import Parameter
from .sensitivity import sobol_indices
from .spec import Target
from .statistics import Event, exceedance, kpi_summary


def kpi_columns(table: pd.DataFrame) -> list[str]:
    """The KPI columns of a results table (every column but member, key, seed, status, error, param/...)."""
    meta = {"member", "key", "seed", "status", "error"}
    return [c for c in table.columns if c not in meta and not c.startswith("param/")]


def percentiles(table: pd.DataFrame) -> pd.DataFrame:
    """p5, p50, p95 (and n, mean, min, max) of every KPI column over the finished members."""
    return kpi_summary(table, kpi_columns(table))


def exceedance_events(table: pd.DataFrame) -> pd.DataFrame:
    """The probability of every event the KPIs declare (a path floods, a gauge reaches 경계, a gate
    fails), per place, with its 95 % interval."""
    events = [
        Event(c, op, threshold)
        for c in kpi_columns(table)
        if (m := measure_of(c)) is not None
        for op, threshold in m.events
    ]
    return exceedance(table, events)


def sensitivity(table: pd.DataFrame, parameters: tuple[Parameter, ...], d: Design) -> pd.DataFrame:
    """Sobol first and total indices (with 95 % intervals) of each run-wide KPI (``kpi/...``) to each
    varied parameter: columns kpi, parameter, S1, S1_conf, ST, ST_conf, blocks, dropped_blocks. A
    failed member, or a KPI that does not exist in a member (t90 when nobody left), drops its base
    sample's block (see :func:`twin.ensemble.sensitivity.sobol_indices`): ``dropped_blocks`` says how
    many, since the indices then describe only the members where the KPI exists."""
    names = [p.key for p in parameters]
    parts = []
    ordered = table.sort_values("member")
    for c in (c for c in kpi_columns(table) if c.startswith("kpi/")):
        y = ordered[c].to_numpy(dtype=float).copy()
        y[(ordered["status"] != "ok").to_numpy()] = np.nan
        if np.isnan(y).all():
            continue
        try:
            s = sobol_indices(names, y, seed=0)
        except SweepError:  # too few whole blocks left: no indices for this KPI
            continue
        s.insert(0, "kpi", c)
        s["blocks"] = int(s.attrs["blocks"])
        s["dropped_blocks"] = int(s.attrs["dropped_blocks"])
        parts.append(s.reset_index(drop=True))
    cols = ["kpi", "parameter", "S1", "S1_conf", "ST", "ST_conf", "blocks", "dropped_blocks"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def discover_rules(table: pd.DataFrame, parameters: tuple[Parameter, ...], targets: tuple[Target, ...]) -> list[dict]:
    """For each target outcome, the rules that say which parameter ranges lead to it (PRIM, then a
    decision tree), as plain data: target, bad, n, method, conditions, coverage, density, n_inside,
    n_bad_inside, text_en, text_ko."""
    ok = table[table["status"] == "ok"]
    out: list[dict[str, Any]] = []
    x = pd.DataFrame({p.key: ok[f"param/{p.key}"].to_numpy() for p in parameters})
    for p in parameters:
        if p.categorical:
            x[p.key] = x[p.key].astype(str)
        else:
            x[p.key] = x[p.key].astype(float)
    for t in targets:
        if t.column not in ok.columns:
            continue
        y = ok[t.column].to_numpy(dtype=float)
        bad = _holds(y, t.op, t.threshold)
        entry: dict[str, Any] = {"target": t.text(), "bad": int(bad.sum()), "n": int(len(bad)), "rules": []}
        for r in discover(x, bad):
            entry["rules"].append(
                {
                    "method": r.method,
                    "conditions": [
                        {"parameter": c.parameter, "low": c.low, "high": c.high,
                         "categories": sorted(c.categories) if c.categories is not None else None}
                        for c in r.conditions
                    ],
                    "coverage": r.coverage,
                    "density": r.density,
                    "n_inside": r.n_inside,
                    "n_bad_inside": r.n_bad_inside,
                    "text_en": r.text("en"),
                    "text_ko": r.text("ko"),
                }
            )
        out.append(entry)
    return out


def _holds(y: np.ndarray, op: str, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == ">":
            return y > threshold
        if op == ">=":
            return y >= threshold
        if op == "<":
            return y < threshold
        if op == "<=":
            return y <= threshold
        return y == threshold
