"""Where people were, and when: person-seconds on each road link per hour of the day, from a crowd
run's folder (``twin run --out``), to weight coverage by the people it would see.

The crowd records the number of people on every busy link every ``sample_interval`` s
(``occupants`` in ``timeseries.parquet``, entity = the link's ``edge_id``). A sample at time t
counts for the interval before it: person-seconds = occupants × interval. Hours are local hours
of the day (Asia/Seoul, the scenario's ``start`` plus the simulated time). Within a link people
are taken as spread evenly along it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import RunFolderError
from ..results import read_run_folder


@dataclass(frozen=True)
class Exposure:
    """Person-seconds per road link (index ``edge_id``) and local hour of the day (columns 0-23),
    from the run in ``folder``."""

    person_s: pd.DataFrame
    folder: Path

    @property
    def total_person_s(self) -> float:
        return float(self.person_s.to_numpy().sum())

    def per_link(self) -> pd.Series:
        """Person-seconds per link over the whole run."""
        return self.person_s.sum(axis=1)


def exposure_of_run(folder: str | Path) -> Exposure:
    """Person-seconds per link and hour from the run folder ``folder``. Raises
    :class:`~twin.errors.RunFolderError` when the folder is not a run, or a run without people."""
    run = read_run_folder(folder)
    ts = run.timeseries
    occ = ts[ts["variable"] == "occupants"]
    if occ.empty:
        raise RunFolderError(
            f"{run.folder}: no crowd in this run (no 'occupants' in timeseries.parquet): "
            "expected the run of a scenario with people"
        )
    start_text = (run.summary.get("scenario") or {}).get("start")
    try:
        start = datetime.fromisoformat(str(start_text))
    except ValueError:
        raise RunFolderError(
            f"{run.folder / 'summary.json'}: scenario.start: got {str(start_text)[:40]!r}: "
            "expected an ISO date and time"
        ) from None
    times = np.unique(occ["time_s"].to_numpy(dtype=float))
    steps = np.diff(np.concatenate([[0.0], times]))
    step_of = dict(zip(times.tolist(), steps.tolist(), strict=True))
    mid = occ["time_s"].to_numpy(dtype=float) - 0.5 * occ["time_s"].map(step_of).to_numpy(dtype=float)
    hour = np.array([(start + timedelta(seconds=float(t))).hour for t in mid])
    ps = occ["value"].to_numpy(dtype=float) * occ["time_s"].map(step_of).to_numpy(dtype=float)
    df = pd.DataFrame({"edge_id": occ["entity_id"].astype(str).to_numpy(), "hour": hour, "ps": ps})
    table = df.pivot_table(index="edge_id", columns="hour", values="ps", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=range(24), fill_value=0.0).sort_index()
    return Exposure(table, run.folder)
