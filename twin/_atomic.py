"""Atomic writes: a crash never leaves a half-written result.

Files are written to a temporary sibling and renamed over the target (``os.replace`` is atomic
on POSIX when both live on the same file system). Directories are built in a temporary sibling
and swapped in at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import OutputError


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
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
