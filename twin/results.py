"""The run folder: summary.json, timeseries.parquet, events.parquet, model.inp and the resolved
scenario, written into a temporary folder and swapped in whole (a crash leaves no half run)."""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._atomic import atomic_dir
from .errors import RunFolderError

SUMMARY = "summary.json"
REQUIRED = (SUMMARY, "timeseries.parquet", "events.parquet")
OPTIONAL_TABLES = ("trajectories.parquet", "evacuees.parquet")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same run gives the same zip, byte for byte


def _json_safe(x: Any) -> Any:
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def write_run_folder(
    out: str | Path,
    *,
    summary: dict[str, Any],
    timeseries: pd.DataFrame,
    events: pd.DataFrame,
    files: dict[str, str],
    tables: dict[str, pd.DataFrame] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write a run folder atomically. ``files``: extra text files (name -> content), e.g. model.inp.

    An existing folder is replaced only when it is a run folder (holds summary.json).
    """
    with atomic_dir(out, overwrite=overwrite, marker=SUMMARY) as tmp:
        (tmp / SUMMARY).write_text(
            json.dumps(_json_safe(summary), ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
        timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        events.to_parquet(tmp / "events.parquet", index=False)
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        for name, table in (tables or {}).items():
            table.to_parquet(tmp / name, index=False)
    return Path(out).resolve()


@dataclass(frozen=True)
class RunData:
    """A run read back from its folder. Times are simulated seconds from the scenario start.

    ``timeseries``: time_s, entity_id, variable, value, unit. ``events``: time_s, kind,
    entity_id, message, data (JSON text). ``trajectories`` (lon/lat WGS84, x/y EPSG:5186) and
    ``evacuees`` exist when the scenario had people.
    """

    summary: dict[str, Any]
    timeseries: pd.DataFrame
    events: pd.DataFrame
    trajectories: pd.DataFrame | None
    evacuees: pd.DataFrame | None
    folder: Path

    def series(self, variable: str, prefix: str = "") -> pd.DataFrame:
        """One variable as a table: index time_s, a column per entity (ids starting with ``prefix``)."""
        ts = self.timeseries
        sel = ts[(ts["variable"] == variable) & ts["entity_id"].str.startswith(prefix)]
        wide = sel.pivot_table(index="time_s", columns="entity_id", values="value", aggfunc="last")
        wide.columns = [str(c) for c in wide.columns]
        return wide.sort_index()


def read_run_folder(folder: str | Path) -> RunData:
    """Read a run folder written by :func:`write_run_folder` (``twin run --out``).

    Raises :class:`~twin.errors.RunFolderError` naming the folder and what is missing or broken.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder: expected the output folder of `twin run --out`")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise RunFolderError(f"{folder}: not a run folder: missing {', '.join(missing)}")
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{folder / SUMMARY}: not valid JSON: {exc}") from None
    if not isinstance(summary, dict):
        raise RunFolderError(f"{folder / SUMMARY}: expected a JSON object")

    def table(name: str) -> pd.DataFrame | None:
        path = folder / name
        if not path.is_file():
            return None
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise RunFolderError(f"{path}: not a readable Parquet table: {exc}") from None

    return RunData(
        summary=summary,
        timeseries=table("timeseries.parquet"),
        events=table("events.parquet"),
        trajectories=table("trajectories.parquet"),
        evacuees=table("evacuees.parquet"),
        folder=folder.resolve(),
    )


def read_jsonl(path: str | Path, *, strict: bool = True) -> list[dict[str, Any]] | None:
    """The records of a JSON-lines file of a run folder (None if there is no such file). A line
    that is not a JSON object raises :class:`~twin.errors.RunFolderError` naming the file and
    the line; with ``strict=False`` it is skipped (a log cut short by a crash)."""
    path = Path(path)
    if not path.is_file():
        return None
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            rec = exc
        if isinstance(rec, dict):
            out.append(rec)
        elif strict:
            what = f"not JSON ({rec.msg})" if isinstance(rec, json.JSONDecodeError) else "not a JSON object"
            raise RunFolderError(f"{path}: line {n}: {what}")
    return out


def zip_run_folder(folder: str | Path, *, name: str | None = None) -> bytes:
    """The files of a run folder as a zip (in memory), members sorted and time-stamped 1980-01-01
    so the same run gives the same bytes. The members sit under ``name`` (default: the folder's)."""
    folder = Path(folder)
    name = name or folder.name
    if not (folder / SUMMARY).is_file():
        raise RunFolderError(f"{folder}: not a run folder: missing {SUMMARY}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{name}/{path.relative_to(folder).as_posix()}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()
