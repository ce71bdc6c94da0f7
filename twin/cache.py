"""A content-addressed cache of expensive, deterministic results (the validated city, the
catchment model), so that repeated runs on the same data skip the GIS work.

Entries live in ``$TWIN_CACHE_DIR`` (default ``~/.cache/uijeongbu-twin``), named by a hash of
everything they depend on: the dataset's bytes (every file in its folder and every file its
manifest names, wherever it lies, see :func:`dataset_fingerprint`), the twin's source code and the
parameters. A changed file gives a new key, so an entry is never stale; entries are written atomically and an entry
that cannot be read is rebuilt. Only results of this program are stored there (pickle), so the
folder must not be shared with untrusted users.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .atomic import atomic_file

T = TypeVar("T")
CACHE_FORMAT = 1


def cache_dir() -> Path | None:
    """The cache folder, or None when caching is off (``TWIN_CACHE_DIR`` set to an empty string)."""
    env = os.environ.get("TWIN_CACHE_DIR")
    if env is not None:
        return Path(env) if env.strip() else None
    return Path.home() / ".cache" / "uijeongbu-twin"


def fingerprint(*parts: bytes | str) -> str:
    """A hex digest of ``parts`` (BLAKE2b, 128 bits)."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        b = p.encode("utf-8") if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def directory_fingerprint(path: Path) -> str:
    """Digest of every file's name and bytes in ``path`` (not recursive), in sorted order."""
    parts: list[bytes | str] = []
    for f in sorted(p for p in Path(path).iterdir() if p.is_file()):
        parts += [f.name, f.read_bytes()]
    return fingerprint(*parts)


def dataset_fingerprint(path: Path) -> str:
    """Digest of every file a dataset is made of: each file directly in ``path`` and each file its
    manifest names (``layers.<name>.file``, in a subfolder or anywhere else), by the name the
    manifest gives and its bytes. A named file that is missing counts as missing, so adding it
    changes the key. A manifest that cannot be read names no files (its own bytes are in the key;
    validation reports it)."""
    from .dataset_schema import MANIFEST_NAME
    from .errors import JSONFileError
    from .geojson_io import read_json_file

    path = Path(path)
    files = {p.name: p for p in path.iterdir() if p.is_file()}
    try:
        manifest, _ = read_json_file(path / MANIFEST_NAME)
    except JSONFileError:
        manifest = {}
    layers = manifest.get("layers") if isinstance(manifest, dict) else None
    for entry in layers.values() if isinstance(layers, dict) else ():
        name = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(name, str) and name.strip():
            files.setdefault(name, path / name)
    parts: list[bytes | str] = []
    for name in sorted(files):
        f = files[name]
        parts += [name, f.read_bytes() if f.is_file() else b"\0missing"]
    return fingerprint(*parts)


def code_fingerprint(skip: tuple[str, ...] = ()) -> str:
    """Digest of the twin's own source, so that a changed program never reads an old result;
    ``skip`` leaves out subpackages that make no results (``("app",)``: the Streamlit pages)."""
    root = Path(__file__).resolve().parent
    parts: list[bytes | str] = []
    for f in sorted(root.rglob("*.py")):
        rel = f.relative_to(root)
        if rel.parts[0] in skip:
            continue
        parts += [str(rel), f.read_bytes()]
    return fingerprint(*parts)


def cached(kind: str, key: str, build: Callable[[], T]) -> T:
    """The cached value of ``kind``/``key``, or ``build()`` stored under it.

    The entry's name also covers the twin's source (:func:`code_fingerprint`) and the cache format.
    """
    folder = cache_dir()
    if folder is None:
        return build()
    path = folder / f"{kind}-{fingerprint(key, code_fingerprint(), str(CACHE_FORMAT))}.pkl"
    if path.is_file():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a damaged or foreign entry is rebuilt
            pass
    value = build()
    try:
        with atomic_file(path) as tmp:
            tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only cache folder only costs speed
    return value
