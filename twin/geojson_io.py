"""Deterministic GeoJSON writing and dataset directories; bounded reading of their JSON.

Layers are written as RFC 7946 GeoJSON (WGS84, 7 decimals, about 1 cm), one feature per line so
diffs stay readable, atomically (temp file, then rename). ``write_dataset`` writes every layer
plus ``manifest.json``: what the importers and the dataset build script produce.

:func:`read_json_file` reads a manifest or layer file that may have been written by anyone: it
refuses bytes that are not UTF-8 and text that is not JSON with one line naming the file and the
place; values nested deeper than :data:`MAX_JSON_DEPTH` are cut out (replaced by a marker) before
parsing, and :func:`bad_values` finds those and the numbers JSON cannot carry (``NaN``,
``Infinity``, ``1e400``) that Python's ``json`` reads anyway, each with its path in the document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient

from .atomic import write_text_atomic
from .dataset_schema import FILE_CRS, LAYERS, MANIFEST_NAME, SCHEMA_VERSION, WORKING_CRS
from .errors import JSONFileError
from .input_files import JSON_STRING, bracket_depth

DECIMALS = 7
MAX_JSON_DEPTH = 32
"""Nesting levels of ``[`` and ``{`` a dataset file may use (a GeoJSON MultiPolygon needs 8; GDAL's
JSON parser stops at 32 by default)."""
TOO_DEEP = "\x00twin: nested too deep\x00"
"""What :func:`read_json_file` puts in place of a value nested deeper than the limit."""

_BRACKET = re.compile(r"[\[\]{}]")
_MAYBE_NOT_FINITE = re.compile(r"NaN|Infinity|[eE]\+?0*[1-9][0-9]{2,}|[0-9]{300,}")
"""Outside strings: a token that may parse to a non-finite float (exponent >= 100, 300 digits)."""
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
"""An escape of a UTF-16 surrogate (``\\ud800``): paired ones decode to one character, a lone one
stays a surrogate, which is not Unicode text (pandas, pyarrow and GDAL refuse it)."""
_MAX_INT_DIGITS = 18


def read_json_file(path: Path, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, list[tuple[tuple, str]]]:
    """The JSON document in ``path``, read within bounds, and its bad values.

    Returns ``(document, bad)``: ``bad`` lists ``(path, what)`` for every value JSON cannot carry
    (see :func:`bad_values`); values nested deeper than ``max_depth`` are replaced by
    :data:`TOO_DEEP` and listed there too. Integers of more than 18 digits are read as floats.
    Raises :class:`JSONFileError` (one line: the file name and where, never its contents) when the
    file cannot be read, is not UTF-8 or is not JSON.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise JSONFileError(f"{path.name} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONFileError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    structure = JSON_STRING.sub('""', text)  # strings hold no structure
    cut = bracket_depth(structure) > max_depth
    if cut:
        text = _cut_deep(text, max_depth)
    try:
        doc = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise JSONFileError(f"{path.name} is not valid JSON: {exc.msg} at {where}") from None
    except (ValueError, RecursionError) as exc:
        raise JSONFileError(f"{path.name} is not valid JSON ({type(exc).__name__})") from None
    suspect = cut or _MAYBE_NOT_FINITE.search(structure) or _MAYBE_SURROGATE.search(text)
    bad = list(bad_values(doc)) if suspect else []
    return doc, bad


def bad_values(doc: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """``(path, what)`` for every value of ``doc`` JSON cannot carry: NaN, Infinity, a number too
    large for a double, a value nested too deep (cut out by :func:`read_json_file`), or a string
    (value or key) holding a lone UTF-16 surrogate."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), doc)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, float) and not math.isfinite(v):
            what = "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
            yield path, f"{what} is not a JSON number (RFC 8259); expected a finite number"
        elif v == TOO_DEEP:
            yield path, f"nested deeper than {MAX_JSON_DEPTH} levels"
        elif isinstance(v, str) and _lone_surrogate(v):
            yield path, "a lone UTF-16 surrogate (an escape such as \\ud800) is not Unicode text; expected text"
        elif isinstance(v, dict):
            for k in v:
                if _lone_surrogate(k):
                    yield (*path, k), "a key with a lone UTF-16 surrogate is not Unicode text; expected text"
            stack.extend(((*path, k), x) for k, x in reversed(list(v.items())))
        elif isinstance(v, list):
            stack.extend(((*path, i), x) for i, x in reversed(list(enumerate(v))))


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_path(path: tuple[str | int, ...], *, limit: int = 6) -> str:
    """``path`` as ``a.b[0].c``, at most ``limit`` steps then ``…``; long or odd keys are shortened."""
    out = ""
    for step in path[:limit]:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step.isidentifier() and len(step) <= 40:
            out += ("." if out else "") + step
        else:
            key = step if len(step) <= 20 and step.isprintable() else f"{len(step)} characters"
            out += f"[{json.dumps(key, ensure_ascii=True)}]"
    return out + ("…" if len(path) > limit else "")


def _parse_int(s: str) -> int | float:
    return int(s) if len(s.lstrip("-")) <= _MAX_INT_DIGITS else float(s)


def _cut_deep(text: str, max_depth: int) -> str:
    """``text`` with every value that opens nesting level ``max_depth + 1`` replaced by :data:`TOO_DEEP`."""
    spans = np.array([m.span() for m in JSON_STRING.finditer(text)], dtype=np.int64).reshape(-1, 2)
    pieces, depth, start, last = [], 0, -1, 0
    for m in _BRACKET.finditer(text):
        pos = m.start()
        i = int(np.searchsorted(spans[:, 0], pos, side="right")) - 1
        if i >= 0 and pos < spans[i, 1]:
            continue  # inside a string
        if m.group() in "[{":
            depth += 1
            if depth == max_depth + 1:
                start = pos
        else:
            depth -= 1
            if depth == max_depth and start >= 0:
                pieces += [text[last:start], json.dumps(TOO_DEEP)]
                last, start = pos + 1, -1
    if start >= 0:  # never closed: the document is not JSON anyway
        pieces += [text[last:start], json.dumps(TOO_DEEP)]
        last = len(text)
    return "".join(pieces) + text[last:]


def _clean(v):
    if v is None:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return str(v)


def _round(coords):
    if isinstance(coords, (float, int)):
        return round(float(coords), DECIMALS)
    return [_round(c) for c in coords]


def _orient(g):
    if g.geom_type == "Polygon":
        return orient(g, 1.0)
    if g.geom_type == "MultiPolygon":
        return shapely.geometry.MultiPolygon([orient(p, 1.0) for p in g.geoms])
    return g


def write_geojson(gdf: gpd.GeoDataFrame, path: Path, *, columns: list[str]) -> None:
    """Write ``gdf`` (any CRS) as RFC 7946 GeoJSON with properties in ``columns`` order."""
    wgs = gdf.to_crs(FILE_CRS) if gdf.crs is not None else gdf.set_crs(WORKING_CRS).to_crs(FILE_CRS)
    lines = []
    for rec, geom in zip(wgs[columns].itertuples(index=False, name=None), wgs.geometry.values, strict=True):
        gj = mapping(_orient(geom))
        gj = {"type": gj["type"], "coordinates": _round(gj["coordinates"])}
        props = {c: _clean(v) for c, v in zip(columns, rec, strict=True)}
        lines.append(
            json.dumps(
                {"type": "Feature", "properties": props, "geometry": gj}, ensure_ascii=False, separators=(",", ":")
            )
        )
    body = ",\n".join(lines)
    text = '{"type":"FeatureCollection","features":[\n' + body + ("\n" if lines else "") + "]}\n"
    write_text_atomic(path, text)


def layer_columns(name: str, gdf: gpd.GeoDataFrame) -> list[str]:
    """Schema attributes of layer ``name`` first (id first), then any other columns sorted."""
    spec = LAYERS[name]
    first = [spec.id_column] + [a.name for a in spec.attrs if a.name != spec.id_column]
    for attrs in spec.kind_attrs.values():
        first += [a.name for a in attrs if a.name not in first]
    first += [a.name for a in spec.optional_attrs if a.name not in first and a.name in gdf.columns]
    rest = sorted(c for c in gdf.columns if c != gdf.geometry.name and c not in first)
    return first + rest


def write_dataset(
    out: Path,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    name: str,
    sources: dict[str, dict],
    extra_manifest: dict | None = None,
) -> dict:
    """Write ``layers`` (any CRS) and a manifest into directory ``out``; return the manifest.

    ``sources`` maps a layer name to its manifest entry fields (``source``, ``licence``,
    ``approximate``, ``description``). Layers of the schema that are missing are written empty,
    so the directory always holds every layer file.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for lname, spec in LAYERS.items():
        gdf = layers.get(lname)
        if gdf is None:
            gdf = gpd.GeoDataFrame({spec.id_column: []}, geometry=[], crs=WORKING_CRS)
        cols = layer_columns(lname, gdf)
        gdf = gdf.copy()
        for c in cols:
            if c not in gdf:
                gdf[c] = None
        write_geojson(gdf, out / f"{lname}.geojson", columns=cols)
        meta = {"source": "none", "licence": "n/a", "approximate": False, "description": ""}
        meta.update(sources.get(lname, {}))
        entries[lname] = {"file": f"{lname}.geojson", **meta, "features": int(len(gdf))}
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "crs": FILE_CRS,
        "working_crs": WORKING_CRS,
        **(extra_manifest or {}),
        "layers": entries,
    }
    write_text_atomic(out / MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest
