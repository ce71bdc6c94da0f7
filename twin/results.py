"""The run folder: summary.json, timeseries.parquet, events.parquet, model.inp and the resolved
scenario, written into a temporary folder and swapped in whole (a crash leaves no half run).

Reading one trusts nothing in it: a folder that is unfinished (the temporary sibling of a run
killed while it was written), a member that is a symbolic link, a summary that is not strict JSON
or not of the expected types, a table that is damaged or lacks its columns, each gives a
:class:`~twin.errors.RunFolderError` of one line naming the file and the problem, never the
file's contents.

Why one module of this size: the writer and the reader of a run folder must agree on every file,
column and type, and keeping both sides together is what keeps them agreeing.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .atomic import PARTIAL_NAME, atomic_dir
from .errors import RunFolderError
from .input_files import json_depth

SUMMARY = "summary.json"
REQUIRED = (SUMMARY, "timeseries.parquet", "events.parquet")
MAX_SUMMARY_BYTES = 16 * 2**20  # bytes: a summary is tens of kB; a bigger one is not ours
MAX_JSON_DEPTH = 32  # nesting of [ and { in summary.json (it uses 5)
MAX_JSON_INT = 2**53  # larger integers are not counts or seconds (and overflow a float)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same run gives the same zip, byte for byte
# the columns of each table and their kinds: "num" numbers, "str" text (or null), "bool" true/false
COLUMNS = {
    "timeseries.parquet": {"time_s": "num", "entity_id": "str", "variable": "str", "value": "num", "unit": "str"},
    "events.parquet": {"time_s": "num", "kind": "str", "entity_id": "str", "message": "str", "data": "str"},
    "trajectories.parquet": {"time_s": "num", "lon": "num", "lat": "num", "evacuating": "bool"},
    "evacuees.parquet": {"evacuation_s": "num"},
}
_KIND_WORDS = {"num": "numbers", "str": "text", "bool": "true/false"}
FINITE = ("time_s", "lon", "lat")  # columns that may not hold NaN or infinity


def json_safe(x: Any) -> Any:
    """``x`` with NaN and infinities as None (JSON has neither), dict keys as text, tuples as lists."""
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
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
        timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        events.to_parquet(tmp / "events.parquet", index=False)
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")
        for name, table in (tables or {}).items():
            table.to_parquet(tmp / name, index=False)
        # last: a folder with its summary has everything else (the folder is swapped in whole anyway)
        (tmp / SUMMARY).write_text(
            json.dumps(json_safe(summary), ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
        )
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


_ABSENT: Any = None
"""The default of a field that may be missing but not null: pydantic does not validate defaults, so a
missing field reads as None while the field's type (without None) refuses a null in the file."""


class _Part(BaseModel):
    """A section of summary.json: the fields the app and ``twin run`` read, strictly typed; other
    fields are kept as they are. ``Field(default=_ABSENT)`` on a type without None: the field may be
    missing, not null."""

    model_config = ConfigDict(strict=True, extra="allow")


class _Header(_Part):
    name: dict[str, str] = Field(default=_ABSENT)
    seed: int | None = None
    start: str | None = None
    duration_s: float | None = None
    rainfall: str | None = None
    dataset: str | None = None


class _Gauge(_Part):
    peak_stage_m: float
    time_of_peak_s: float
    time_of_peak: str = Field(default=_ABSENT)
    peak_discharge_m3s: float | None = None
    thresholds_m: dict[str, float | None] = Field(default=_ABSENT)
    highest_level: str | None = None


class _FloodedPaths(_Part):
    count: int
    first_s: float | None = None
    min_warning_lead_time_s: float | None = None


class _Swmm(_Part):
    runoff_continuity_error_pct: float
    flow_routing_continuity_error_pct: float


class _Order(_Part):
    time_s: float
    people_on_paths: int


class _Bound(_Part):
    bound_s: float | None = None


class _Crowd(_Part):
    people: int = Field(default=_ABSENT)
    evacuees: int = Field(default=_ABSENT)
    evacuated: int = Field(default=_ABSENT)
    stranded: int = Field(default=_ABSENT)
    exposed_people: int = Field(default=_ABSENT)
    t50_s: float | None = None
    t90_s: float | None = None
    t100_s: float | None = None
    evacuation_orders: dict[str, _Order] = Field(default=_ABSENT)
    evacuation_lower_bound_s: dict[str, _Bound] = Field(default=_ABSENT)


class _Summary(_Part):
    """A section may be missing (a run without people has no ``crowd``) but, when present, is
    never null: the readers take a present section for the kind it always is."""

    scenario: _Header = Field(default=_ABSENT)
    gauges: dict[str, _Gauge] = Field(default=_ABSENT)
    access_points: dict[str, dict[str, Any]] = Field(default=_ABSENT)
    flooded_paths: _FloodedPaths = Field(default=_ABSENT)
    swmm: _Swmm = Field(default=_ABSENT)
    crowd: _Crowd = Field(default=_ABSENT)
    gates: dict[str, Any] = Field(default=_ABSENT)


def validation_problem(exc: ValidationError) -> str:
    """The first problem of a pydantic error as ``field.path: what was expected`` (never the value)."""
    errors = exc.errors(include_url=False, include_input=False)
    err = errors[0]
    where = ".".join(str(x) for x in err["loc"]) or "top level"
    what = "expected a JSON object" if err["type"] in ("model_type", "dict_type") else err["msg"].lower()
    return f"{where}: {what}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


class _Refused(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_JSON_INT:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits, more than 2^53")
    return int(text)


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise _Refused("a number too large for a float")
    return x


@contextlib.contextmanager
def _open_regular(path: Path) -> Iterator[io.BufferedReader]:
    """``path`` opened for reading, never through a symbolic link; RunFolderError if it is not a
    regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RunFolderError(f"{path}: missing") from None
    except OSError as exc:
        if path.is_symlink():
            raise RunFolderError(f"{path}: a symbolic link: expected a regular file of the run") from None
        raise RunFolderError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RunFolderError(f"{path}: not a regular file: expected a file of the run")
    with os.fdopen(fd, "rb") as fh:
        yield fh


def read_json(path: str | Path, *, max_bytes: int = MAX_SUMMARY_BYTES) -> Any:
    """A JSON file of a run folder, read defensively: a regular file (not a link) of at most
    ``max_bytes``, UTF-8, nested at most :data:`MAX_JSON_DEPTH` levels, strict JSON (no NaN or
    infinity, integers within 2^53). RunFolderError naming the file otherwise."""
    path = Path(path)
    with _open_regular(path) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise RunFolderError(f"{path}: larger than {max_bytes} bytes: expected a file of a run")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON: not UTF-8 (byte {exc.start})") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise RunFolderError(f"{path}: not valid JSON for a run: nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_int=_bounded_int, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except (_Refused, ValueError, RecursionError) as exc:
        why = str(exc) if isinstance(exc, _Refused) else type(exc).__name__
        raise RunFolderError(f"{path}: not valid JSON for a run: {why}") from None


def read_json_object(path: str | Path, model: type[BaseModel]) -> dict[str, Any]:
    """A JSON object of a run folder: strict bounded JSON (:func:`read_json`) whose known
    sections have the types ``model`` (pydantic) gives. RunFolderError naming file and field otherwise."""
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict):
        raise RunFolderError(f"{path}: expected a JSON object, got a {type(data).__name__}")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise RunFolderError(f"{path}: {validation_problem(exc)}") from None
    return data


def read_summary(path: str | Path) -> dict[str, Any]:
    """summary.json, checked (:func:`read_json_object`)."""
    return read_json_object(path, _Summary)


def _check_columns(path: Path, df: pd.DataFrame, columns: dict[str, str]) -> None:
    for col, kind in columns.items():
        if col not in df.columns:
            raise RunFolderError(f"{path}: no column {col!r}: expected columns {', '.join(columns)}")
        s = df[col]
        if not len(s):
            continue  # an empty table (a run without events) has no types to check
        if kind == "num":
            ok = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        elif kind == "bool":
            ok = pd.api.types.is_bool_dtype(s)
        else:
            ok = pd.api.types.is_string_dtype(s) or s.isna().all()
        if not ok:
            raise RunFolderError(f"{path}: column {col!r} holds {s.dtype}: expected {_KIND_WORDS[kind]}")
        if col in FINITE and len(s) and not np.isfinite(s.to_numpy(dtype=float, na_value=np.nan)).all():
            raise RunFolderError(f"{path}: column {col!r} holds NaN or infinite values: expected finite numbers")


def read_table(path: str | Path) -> pd.DataFrame:
    """One Parquet table of a run folder, with its expected columns checked (RunFolderError)."""
    path = Path(path)
    with _open_regular(path) as fh:
        try:
            df = pd.read_parquet(fh)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise RunFolderError(f"{path}: not a readable Parquet table ({type(exc).__name__})") from None
    _check_columns(path, df, COLUMNS.get(path.name, {}))
    return df


def is_partial(folder: str | Path) -> bool:
    """Whether ``folder`` is the temporary sibling of a run folder still being written (or left
    behind by a run that was killed): never a run."""
    return bool(PARTIAL_NAME.match(Path(folder).name))


def read_run_folder(folder: str | Path) -> RunData:
    """Read a run folder written by :func:`write_run_folder` (``twin run --out``).

    Raises :class:`~twin.errors.RunFolderError` naming the folder or file and what is missing or
    broken (one line; never the file's contents).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a folder: expected the output folder of `twin run --out`")
    folder = folder.resolve()
    if is_partial(folder):
        raise RunFolderError(
            f"{folder}: a partial run folder (the unfinished write of a run that was stopped): not a run"
        )
    missing = [name for name in REQUIRED if not (folder / name).exists() and not (folder / name).is_symlink()]
    if missing:
        raise RunFolderError(f"{folder}: not a run folder: missing {', '.join(missing)}")
    summary = read_summary(folder / SUMMARY)

    def table(name: str) -> pd.DataFrame | None:
        path = folder / name
        if not path.exists() and not path.is_symlink():
            return None
        return read_table(path)

    return RunData(
        summary=summary,
        timeseries=table("timeseries.parquet"),
        events=table("events.parquet"),
        trajectories=table("trajectories.parquet"),
        evacuees=table("evacuees.parquet"),
        folder=folder,
    )


def list_run_folders(parent: str | Path) -> list[Path]:
    """The complete run folders directly in ``parent``, sorted by name: real folders (not links),
    not the partial sibling of an unfinished write, holding every required file. Nothing is read."""
    parent = Path(parent)
    out = []
    for p in sorted(parent.iterdir()) if parent.is_dir() else []:
        if p.is_symlink() or not p.is_dir() or is_partial(p) or p.name.startswith("."):
            continue
        if all((p / name).is_file() and not (p / name).is_symlink() for name in REQUIRED):
            out.append(p)
    return out


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


def _run_files(folder: Path) -> Iterator[Path]:
    """Every regular file under ``folder``, never through a symbolic link (links to files and to
    folders are skipped, so nothing outside the folder is reached), nor a file with other hard
    links (it may be another file of the system)."""
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = Path(root) / name
            st = path.lstat()
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                yield path


def zip_run_folder(folder: str | Path, *, name: str | None = None) -> bytes:
    """The files of a run folder as a zip (in memory), members sorted and time-stamped 1980-01-01
    so the same run gives the same bytes. The members sit under ``name`` (default: the folder's).

    Only the folder's own regular files go in: symbolic links are skipped, whatever they point to."""
    folder = Path(folder)
    name = name or folder.name
    if not (folder / SUMMARY).is_file() or (folder / SUMMARY).is_symlink() or is_partial(folder.resolve()):
        raise RunFolderError(f"{folder}: not a run folder: missing {SUMMARY}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(_run_files(folder)):
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            except OSError:
                continue  # replaced by a link since the walk: skipped like one
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                data = fh.read()
            info = zipfile.ZipInfo(f"{name}/{path.relative_to(folder).as_posix()}", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()
