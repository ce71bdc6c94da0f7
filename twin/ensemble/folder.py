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
    runs/member-<i>/      the run folders kept on request (the worst members), each with its member.key

Every file is written atomically (a temp file renamed into place), so a sweep killed at any moment
leaves only whole files; a member record that cannot be read is run again.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..atomic import atomic_dir, atomic_file
from ..errors import OutputError
from ..results import SUMMARY, json_safe

SWEEP_JSON = "sweep.json"
RUN_KEY = "member.key"
FORMAT = 1


OUTPUTS = ("results.parquet", "series.parquet", "percentiles.parquet", "exceedance.parquet", "sensitivity.parquet",
           "rules.json", "timings.json")
"""What a sweep makes from its records: removed when a sweep starts, so that a folder never shows
tables of another request (a sweep stopped half-way shows none until it is run again)."""
LOCK = ".sweep.lock"
MARKER = ".twin-sweep"


class SweepFolder:
    """The folder at ``path``, created when missing; a non-empty folder that is not a sweep's is refused
    (a sweep's holds :data:`MARKER` or sweep.json). Use as a context manager: it is locked meanwhile,
    and a second sweep on the same folder is refused."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"--out {self.path}: exists and is not a directory; choose another --out")
        ours = (self.path / MARKER).is_file() or (self.path / SWEEP_JSON).is_file()
        if self.path.is_dir() and any(self.path.iterdir()) and not ours:
            raise OutputError(
                f"--out {self.path}: not empty and not a sweep folder; refusing to write into it (choose another --out)"
            )
        try:
            (self.path / "members").mkdir(parents=True, exist_ok=True)
            (self.path / MARKER).touch()
        except OSError as exc:
            raise OutputError(f"--out {self.path}: cannot be written ({exc.strerror or type(exc).__name__})") from None

    def __enter__(self) -> SweepFolder:
        lock = self.path / LOCK
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if _alive(lock):
                    raise OutputError(
                        f"--out {self.path}: another sweep is writing to it (process {_pid(lock)}); wait for it, "
                        "or choose another --out"
                    ) from None
                lock.unlink(missing_ok=True)  # left by a sweep that was killed
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            return self
        raise OutputError(f"--out {self.path}: could not take its lock ({LOCK})")

    def __exit__(self, *exc: Any) -> None:
        lock = self.path / LOCK
        if _pid(lock) == os.getpid():
            lock.unlink(missing_ok=True)

    def clear_outputs(self) -> None:
        """Remove the tables of an earlier request (:data:`OUTPUTS`); the records stay (they are keyed)."""
        for name in OUTPUTS:
            (self.path / name).unlink(missing_ok=True)

    # --- member records ------------------------------------------------------------------
    def record(self, key: str) -> dict[str, Any] | None:
        """The record of the member with ``key``, or None (never run, or unreadable)."""
        f = self.path / "members" / f"{key}.json"
        try:
            rec = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return rec if _record_ok(rec, key) else None

    def put(self, record: dict[str, Any]) -> None:
        """Keep a member's record (its run folder files, if any, under runs/)."""
        files = record.pop("files", None)
        if files:
            self.put_run(record["member"], record["key"], files)
        with atomic_file(self.path / "members" / f"{record['key']}.json") as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")

    def run_dir(self, member: int) -> Path:
        return self.path / "runs" / f"member-{member:04d}"

    def put_run(self, member: int, key: str, files: dict[str, bytes]) -> Path:
        """Write one kept run folder (name -> bytes) atomically, with the member's key (``member.key``)."""
        target = self.run_dir(member)
        target.parent.mkdir(exist_ok=True)
        with atomic_dir(target, overwrite=True, marker=SUMMARY) as tmp:
            for name, data in files.items():
                (tmp / Path(name).name).write_bytes(data)
            (tmp / RUN_KEY).write_text(key + "\n", encoding="utf-8")
        return target

    def has_run(self, member: int, key: str) -> bool:
        """True when the kept run folder of ``member`` is whole and is this member's (its key)."""
        d = self.run_dir(member)
        try:
            return (d / SUMMARY).is_file() and (d / RUN_KEY).read_text(encoding="utf-8").strip() == key
        except OSError:
            return False

    def prune_runs(self, keep: dict[int, str]) -> None:
        """Remove kept run folders that are not in ``keep`` (member -> key) or hold another member's run."""
        import shutil

        runs = self.path / "runs"
        if not runs.is_dir():
            return
        for d in runs.iterdir():
            m = re.fullmatch(r"member-(\d+)", d.name)
            if not (d.is_dir() and m):
                continue
            i = int(m.group(1))
            if not (i in keep and self.has_run(i, keep[i])):
                shutil.rmtree(d)

    # --- tables ----------------------------------------------------------------------------
    def write_table(self, name: str, table: pd.DataFrame) -> Path:
        with atomic_file(self.path / name) as tmp:
            table.to_parquet(tmp, index=False)
        return self.path / name

    def write_json(self, name: str, data: Any) -> Path:
        with atomic_file(self.path / name) as tmp:
            tmp.write_text(json.dumps(json_safe(data), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return self.path / name


def _alive(lock: Path) -> bool:
    """True when the process that took ``lock`` still runs (on this machine)."""
    pid = _pid(lock)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _record_ok(rec: Any, key: str) -> bool:
    """A member record of the shape :func:`twin.ensemble.worker.run_member` makes, for ``key``; any
    other file (hand-edited, from another version) is run again rather than trusted."""
    if not isinstance(rec, dict) or rec.get("key") != key:
        return False
    if not (type(rec.get("member")) is int and type(rec.get("seed")) is int and isinstance(rec.get("values"), dict)):
        return False
    if rec.get("status") not in ("ok", "failed") or not isinstance(rec.get("error"), str | type(None)):
        return False
    kpis, series = rec.get("kpis"), rec.get("series", {})
    if not isinstance(kpis, dict) or not all(isinstance(k, str) and _number(v) for k, v in kpis.items()):
        return False
    return isinstance(series, dict) and all(
        isinstance(v, list) and all(_number(x) for x in v) for v in series.values()
    )


def _number(v: Any) -> bool:
    return v is None or (isinstance(v, int | float) and not isinstance(v, bool))


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
