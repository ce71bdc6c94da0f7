"""The run folder: summary.json, timeseries.parquet, events.parquet, model.inp and the resolved
scenario, written into a temporary folder and swapped in whole (a crash leaves no half run)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from ._atomic import atomic_dir

SUMMARY = "summary.json"


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
