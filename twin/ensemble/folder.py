"""A sweep's output folder: one record per finished member, the tables made from them, kept run folders.

::

    sweep.json            what was swept (the request, the design) and a dictionary of every column
    results.parquet       one row per member: member, seed, status, error, param/<key>..., KPI columns
    series.parquet        member, series (stage/<gauge>), t_s, value: the small series of each member
    percentiles.parquet   per KPI column: n, missing, failed, mean, p5, p50, p95, min, max
    exceedance.parquet    per event (column op threshold): n, count, probability and its 95 % interval
    sensitivity.parquet   Sobol indices with confidence intervals (sampler sobol only)
    rules.json            scenario discovery: readable rules for each target outcome
    timings.json          wall time and peak memory of the workers (not results: they vary by machine)
    members/<key>.json    each member's record, named by its key (twin.ensemble.members): a restart
                          skips every member it finds here
    runs/member-<i>/      the run folders kept on request (the worst members)

Every file is written atomically (a temp file renamed into place), so a sweep killed at any moment
leaves only whole files; a member record that cannot be read is run again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_dir, atomic_file
from ..errors import OutputError
from ..results import SUMMARY

SWEEP_JSON = "sweep.json"
FORMAT = 1


class SweepFolder:
    """The folder at ``path``, created when missing; a non-empty folder that is not a sweep's is refused."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{self.path} exists and is not a directory; choose another --out")
        if self.path.is_dir() and any(self.path.iterdir()) and not (self.path / SWEEP_JSON).is_file():
            raise OutputError(
                f"{self.path} is not empty and has no {SWEEP_JSON}, so it is not a sweep folder; "
                "refusing to write into it (choose another --out)"
            )
        (self.path / "members").mkdir(parents=True, exist_ok=True)

    # --- member records ------------------------------------------------------------------
    def record(self, key: str) -> dict[str, Any] | None:
        """The record of the member with ``key``, or None (never run, or unreadable)."""
        f = self.path / "members" / f"{key}.json"
        try:
            rec = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return rec if isinstance(rec, dict) and rec.get("key") == key else None

    def put(self, record: dict[str, Any]) -> None:
        """Keep a member's record (its run folder files, if any, under runs/)."""
        files = record.pop("files", None)
        if files:
            self.put_run(record["member"], files)
        with atomic_file(self.path / "members" / f"{record['key']}.json") as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")

    def run_dir(self, member: int) -> Path:
        return self.path / "runs" / f"member-{member:04d}"

    def put_run(self, member: int, files: dict[str, bytes]) -> Path:
        """Write one kept run folder (name -> bytes) atomically."""
        target = self.run_dir(member)
        target.parent.mkdir(exist_ok=True)
        with atomic_dir(target, overwrite=True, marker=SUMMARY) as tmp:
            for name, data in files.items():
                (tmp / Path(name).name).write_bytes(data)
        return target

    # --- tables ----------------------------------------------------------------------------
    def write_table(self, name: str, table: pd.DataFrame) -> Path:
        with atomic_file(self.path / name) as tmp:
            table.to_parquet(tmp, index=False)
        return self.path / name

    def write_json(self, name: str, data: Any) -> Path:
        with atomic_file(self.path / name) as tmp:
            tmp.write_text(json.dumps(_json_safe(data), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return self.path / name


def _json_safe(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    return x


def results_table(records: list[dict[str, Any]], parameter_keys: list[str]) -> pd.DataFrame:
    """One row per member (sorted by member): member, key, seed, status, error, ``param/<key>`` in
    the order given, then every KPI column any member has, sorted by name (NaN where a member lacks it)."""
    records = sorted(records, key=lambda r: r["member"])
    kpi_cols = sorted({c for r in records for c in r["kpis"]})
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "member": int(r["member"]),
            "key": r["key"],
            "seed": int(r["seed"]),
            "status": r["status"],
            "error": r["error"],
        }
        row.update({f"param/{k}": r["values"].get(k) for k in parameter_keys})
        row.update({c: float(r["kpis"].get(c, math.nan)) for c in kpi_cols})
        rows.append(row)
    cols = ["member", "key", "seed", "status", "error", *(f"param/{k}" for k in parameter_keys), *kpi_cols]
    table = pd.DataFrame(rows, columns=cols)
    for k in parameter_keys:  # a choice of numbers and words is kept as words (one type per column)
        col = table[f"param/{k}"]
        if any(isinstance(v, str) for v in col) and not all(isinstance(v, str) for v in col):
            table[f"param/{k}"] = col.map(str)
    table["member"] = table["member"].astype("int64")
    table["seed"] = table["seed"].astype("int64")
    table["error"] = table["error"].astype("string")
    for c in kpi_cols:
        table[c] = table[c].astype("float64")
    return table


def series_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Long table of every member's small series: member, series, t_s (s), value."""
    parts = []
    for r in sorted(records, key=lambda r: r["member"]):
        s = r.get("series") or {}
        t = s.get("t_s") or []
        for name in sorted(k for k in s if k != "t_s"):
            parts.append(pd.DataFrame({"member": r["member"], "series": name, "t_s": t, "value": s[name]}))
    if not parts:
        return pd.DataFrame({"member": pd.Series([], "int64"), "series": pd.Series([], "string"),
                             "t_s": pd.Series([], "float64"), "value": pd.Series([], "float64")})
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"member": "int64", "series": "string", "t_s": "float64", "value": "float64"})
