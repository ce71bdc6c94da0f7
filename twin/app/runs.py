"""Runs the app has made, kept by (scenario file, overrides) so that asking again is instant, and
run folders opened from disk, checked before a page draws them.

Each run is written as a normal run folder (the same as ``twin run --out``) under one temporary
root, then read back; the app draws from that folder and zips it for download. The root is
``$TMPDIR/twin-app-runs-PID-XXXX``; it is removed when the app exits, and a new store removes the
roots of app processes that died without cleaning up (each live store holds a lock on its root).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..city import CityModel
from ..dataset_schema import THRESHOLD_LEVELS as LEVELS
from ..errors import RunFolderError, ScenarioError
from ..results import RunData, read_json_object, read_run_folder

Progress = Callable[[float, float], None]
ROOT_PREFIX = "twin-app-runs-"
LOCK = ".lock"
LEGACY_AGE_S = 86400.0  # s
MAX_UPLOAD_BYTES = 5 * 2**20  # bytes: a rain CSV of a month at 10 minutes for 12 gauges is ~2 MB
MAX_EVENT_DATA = 65536  # characters of one event's data (JSON text)


def _lock(root: Path) -> int:
    fd = os.open(root / LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def sweep_stale_roots(tmp: str | Path | None = None) -> list[Path]:
    """Remove the run-store roots in the temporary folder whose app is gone (nobody holds the
    lock on their ``.lock``). A root without a lock file (made by an earlier version, which took
    no lock) is removed once untouched for :data:`LEGACY_AGE_S`."""
    removed = []
    tmp = Path(tmp or tempfile.gettempdir())
    for entry in tmp.glob(f"{ROOT_PREFIX}*"):
        if entry.is_symlink() or not entry.is_dir() or entry.lstat().st_uid != os.getuid():
            continue
        try:
            fd = os.open(entry / LOCK, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except OSError:  # no lock: a root of an earlier version, removed once it is a day old
            if time.time() - entry.lstat().st_mtime > LEGACY_AGE_S:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # alive
        finally:
            os.close(fd)
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _cleanup(root: Path, fd: int | None) -> None:
    shutil.rmtree(root, ignore_errors=True)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


class RunStore:
    """At most ``max_runs`` runs, least recently used dropped first (its folder deleted).

    Without ``root`` the store makes its own temporary root, sweeps the stale ones of dead apps,
    and removes its own at :meth:`close` or at interpreter exit."""

    max_upload_bytes = MAX_UPLOAD_BYTES

    def __init__(self, city: CityModel | None, *, root: str | Path | None = None, max_runs: int = 16) -> None:
        self.city = city
        self._finalizer = None
        if root is not None:
            self.root = Path(root)
            self.root.mkdir(parents=True, exist_ok=True)
        else:
            sweep_stale_roots()
            self.root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-"))
            fd = _lock(self.root)
            self._finalizer = weakref.finalize(self, _cleanup, self.root, fd)  # also runs at exit
        self.max_runs = max_runs
        self._runs: OrderedDict[tuple[str, tuple[str, ...]], RunData] = OrderedDict()
        self._lock = threading.Lock()

    def close(self) -> None:
        """Remove the store's own temporary root (a root given by the caller is left)."""
        if self._finalizer is not None:
            self._finalizer()

    @staticmethod
    def key(path: str | Path, sets: tuple[str, ...] | list[str]) -> tuple[str, tuple[str, ...]]:
        return (str(Path(path).resolve()), tuple(sets))

    def has(self, path: str | Path, sets) -> bool:
        return self.key(path, sets) in self._runs

    def save_upload(self, name: str, data: bytes) -> Path:
        """Keep an uploaded file (a rain CSV) in the store: ``uploads/SHA.EXT``, named by its
        contents (the browser's file name is not used as a path). ScenarioError when too large."""
        if len(data) > self.max_upload_bytes:
            raise ScenarioError(f"uploaded file: {len(data)} bytes, larger than {self.max_upload_bytes}")
        ext = "".join(c for c in Path(name).suffix.lower()[:8] if c.isalnum() or c == ".") or ".bin"
        folder = self.root / "uploads"
        folder.mkdir(exist_ok=True)
        path = folder / f"{hashlib.sha256(data).hexdigest()[:24]}{ext}"
        if not path.is_file():
            tmp = folder / f".{path.name}.{os.getpid()}.tmp"
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    def get(self, path: str | Path, sets=(), *, progress: Progress | None = None) -> RunData:
        """The run of scenario ``path`` with ``--set`` overrides ``sets``; runs it when new.

        Raises :class:`~twin.errors.ScenarioError` for a bad scenario or override (also for a
        scenario on another dataset than the store's city).
        """
        from ..runner import run_scenario
        from ..scenario import load_scenario

        key = self.key(path, sets)
        with self._lock:
            if key in self._runs:
                self._runs.move_to_end(key)
                return self._runs[key]
        scenario = load_scenario(key[0], overrides=list(key[1]))
        name = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:16]
        folder = self.root / f"{Path(key[0]).stem}-{name}"
        run_scenario(scenario, out=folder, city=self.city, progress=progress)
        data = open_run(folder, self.city)
        with self._lock:
            self._runs[key] = data
            while len(self._runs) > self.max_runs:
                _, old = self._runs.popitem(last=False)
                shutil.rmtree(old.folder, ignore_errors=True)
        return data


# --- what the pages read beyond twin.results' checks ----------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _Check(_Strict):
    passed: bool
    value: float | int | str | None = None
    detail: str | None = None


class _Timing(_Strict):
    broken: list[str] = []
    sustained: str = ""


class _Verdict(_Strict):
    status: str | None = None
    passed: bool
    failed: list[str] = []
    gates: dict[str, dict[str, _Check]]
    timing: _Timing | None = None


def read_verdict(folder: str | Path) -> dict[str, Any] | None:
    """The run's verdict.json (None without one), checked against what the gates section reads.
    RunFolderError naming the file and the field otherwise."""
    from ..control.verdict import CHECKS

    path = Path(folder) / "verdict.json"
    if not path.exists() and not path.is_symlink():
        return None
    data = read_json_object(path, _Verdict)
    for gate, checks in data["gates"].items():
        missing = [c for c in CHECKS if c not in checks]
        if missing:
            raise RunFolderError(f"{path}: gates.{gate}: no check {missing[0]}: expected {', '.join(CHECKS)}")
    return data


def check_events(run: RunData) -> None:
    """The event data the pages read: a JSON object (or nothing) in ``data``, a known alert level
    on ``stage.threshold_*``, a list of texts on ``signboard.display``. RunFolderError naming
    ``events.parquet``, the row and the field."""
    path = run.folder / "events.parquet"
    ev = run.events
    for i, (kind, raw) in enumerate(zip(ev["kind"], ev["data"], strict=True)):
        if raw is None or raw == "" or (isinstance(raw, float) and raw != raw):
            data: Any = {}
        else:
            if len(raw) > MAX_EVENT_DATA:
                raise RunFolderError(f"{path}: row {i}: data longer than {MAX_EVENT_DATA} characters")
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError):
                raise RunFolderError(f"{path}: row {i} ({kind}): data is not JSON") from None
            if not isinstance(data, dict):
                raise RunFolderError(f"{path}: row {i} ({kind}): data is not a JSON object")
        if kind in ("stage.threshold_up", "stage.threshold_down") and data.get("level") not in LEVELS:
            raise RunFolderError(f"{path}: row {i} ({kind}): data.level: expected one of {', '.join(LEVELS)}")
        if kind == "signboard.display":
            lines = data.get("lines") or []
            if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
                raise RunFolderError(f"{path}: row {i} ({kind}): data.lines: expected a list of texts")
        if "people_on_path" in data and (
            isinstance(data["people_on_path"], bool) or not isinstance(data["people_on_path"], int)
        ):
            raise RunFolderError(f"{path}: row {i} ({kind}): data.people_on_path: expected an integer")


def open_run(folder: str | Path, city: CityModel | None = None) -> RunData:
    """A run folder as the pages need it: :func:`twin.results.read_run_folder` (complete, every
    file of the expected type), then the event data and ``verdict.json`` the pages read.
    RunFolderError (one line, naming the file) for anything else."""
    run = read_run_folder(folder)
    check_events(run)
    read_verdict(run.folder)
    return run
