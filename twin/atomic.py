"""Atomic writes: a crash never leaves a half-written result.

Files are written to a temporary sibling and renamed over the target (``os.replace`` is atomic
on POSIX when both live on the same file system). Directories are built in a temporary sibling
and swapped in at the end: on Linux in one step (``renameat2`` with ``RENAME_EXCHANGE``), so a
crash at any moment leaves either the old folder or the new one at the target, never neither.

The temporary siblings are named ``.NAME.partial-PID-XXXX`` (and ``.NAME.old-PID-XXXX`` where the
swap cannot be done in one step): readers know them for unfinished writes
(:data:`PARTIAL_NAME`), and the next write in the same parent removes those whose process is gone
(a run killed with SIGKILL cannot clean up after itself).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError

# the temporary siblings of atomic_dir (group 1: the writer's process id); the last alternative
# is the mkdtemp name of earlier versions (.NAME.XXXXXXXX), with no process id
PARTIAL_NAME = re.compile(r"^\..+\.(?:(?:partial|old)-(\d+)(?:-[A-Za-z0-9_]+)?|[a-z0-9_]{8})$")
_RENAME_EXCHANGE = 2  # linux/fs.h


@contextlib.contextmanager
def atomic_file(target: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target``.

    On an exception the temporary file is removed and ``target`` is left as it was.
    ``suffix`` defaults to the target's suffix, so drivers that infer the format from the
    extension (GeoPackage, Parquet) still do.
    """
    target = Path(target).resolve()
    if target.exists() and not target.is_file():
        raise OutputError(f"{target} exists and is not a regular file; choose another output path")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # let the writer create it (some drivers refuse an existing file)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    with atomic_file(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def check_output_dir(
    target: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    marker: str = "manifest.json",
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """The checks of :func:`atomic_dir`, to run before long work; returns the resolved target."""
    target = Path(target).resolve()
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} exists and is not a directory")
    for src in inputs:
        src = Path(src).resolve()
        if src == target or target in src.parents:
            raise OutputError(f"the output directory {target} contains the input {src}; choose another --out")
    if target.exists() and any(target.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{target} exists and is not empty (use --overwrite to replace it)")
        if not (target / marker).is_file():
            raise OutputError(
                f"{target} is not empty and has no {marker}, so it is not an output of this tool; "
                "refusing to replace it (choose another --out)"
            )
    return target


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system
    cannot (then the caller renames twice)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def sweep_partials(parent: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary siblings left in ``parent`` by writers that died (their process is
    gone). Those of earlier versions carry no process id and are left alone (readers still refuse
    them). Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        m = PARTIAL_NAME.match(entry.name)
        if not m or not entry.is_dir(follow_symlinks=False):
            continue
        if m.group(1) is not None and not _alive(int(m.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_dir(
    target: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    marker: str = "manifest.json",
    inputs: Iterable[str | os.PathLike[str]] = (),
) -> Iterator[Path]:
    """Yield a temporary directory beside ``target``; on success it replaces ``target``.

    An existing, non-empty ``target`` is replaced only with ``overwrite`` and only when it holds
    ``marker`` (so it is an output of ours, not somebody's folder). Raises OutputError when it is
    not, when ``target`` is a file, or when one of ``inputs`` lies inside ``target`` (replacing
    it would delete the input). FileExistsError when it exists and ``overwrite`` is false.
    """
    target = check_output_dir(target, overwrite=overwrite, marker=marker, inputs=inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_partials(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists() and _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old folder
        return
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
        os.replace(target, old)  # over the empty placeholder
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
