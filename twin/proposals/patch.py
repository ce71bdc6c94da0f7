"""A proposal's change to the city: a dataset patch that adds, moves or removes field devices.

A patch is data (JSON, kept with the proposal)::

    {"devices": {
        "add":    [{"device_id": "CAM-P1", "kind": "cctv", "name": "중랑천 신곡교 CCTV",
                    "lon": 127.046, "lat": 37.745, "mount_height_m": 6, "heading_deg": 90,
                    "fov_deg": 90, "resolution_px": 1920, "watches": "AP-JN-R04"}],
        "move":   [{"device_id": "SB-G01", "lon": 127.047, "lat": 37.746}],
        "remove": ["SB-G03"]}}

Only the devices a workshop proposes are patched: gates, CCTV, signboards and crossings
(:data:`PATCH_KINDS`). ``lon``/``lat`` are WGS84 degrees (what a map gives); a moved device may
also change its other attributes (a camera's heading, a gate's access point). A gate's access point
names it (``access_points.gate_id``) as the dataset requires.

:func:`patch_problems` validates a patch the way a dataset is validated: the patched dataset is
written to a temporary folder and read by :func:`twin._validate.read_dataset`, so a new gate at an
access point that does not exist is refused exactly as it would be in ``gis_data``. Problems are
lines ``dataset_patch.devices.add[0] (CAM-P1): ...``. :func:`patched_dataset` writes the patched
dataset once, to ``<data>/datasets/<key>/`` named by the content of the base and the patch, and
atomically (a temporary folder renamed), so a crash leaves no half-written dataset.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..cache import dataset_fingerprint, fingerprint
from ..dataset_schema import MANIFEST_NAME
from ..validation_messages import short

PATCH_KINDS = ("gate", "cctv", "signboard", "crosswalk")
"""Device kinds a proposal may add, move or remove."""
OPERATIONS = ("add", "move", "remove")
MAX_OUTSIDE_M = 500.0
"""Farthest a patched device may stand outside the city boundary, m."""
MAX_CHANGES = 200
"""Most devices one patch may change."""
_PLACE = ("lon", "lat")


def is_empty(patch: dict[str, Any] | None) -> bool:
    """Whether ``patch`` changes nothing."""
    devices = (patch or {}).get("devices") or {}
    return not any(devices.get(op) for op in OPERATIONS)


def canonical(patch: dict[str, Any] | None) -> str:
    """The patch as canonical JSON (sorted keys), the text its key is made of."""
    return json.dumps(patch or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _layer(dataset: Path, name: str) -> tuple[str, dict[str, Any]]:
    """The file name and the raw GeoJSON of layer ``name`` of the dataset at ``dataset``."""
    manifest = json.loads((dataset / MANIFEST_NAME).read_text(encoding="utf-8"))
    file = str(manifest["layers"][name]["file"])
    return file, json.loads((dataset / file).read_text(encoding="utf-8"))


def layer_collection(dataset: Path, name: str) -> dict[str, Any]:
    """The raw GeoJSON FeatureCollection (WGS84) of layer ``name`` of the dataset at ``dataset``."""
    return _layer(dataset, name)[1]


def _shape_problems(patch: Any) -> list[str]:
    """Problems of the patch's form (before the dataset is looked at)."""
    if not isinstance(patch, dict):
        return [f"dataset_patch: got {type(patch).__name__}: expected a mapping with 'devices'"]
    extra = set(patch) - {"devices"}
    if extra:
        return [f"dataset_patch: got {len(extra)} other field(s): expected only 'devices'"]
    devices = patch.get("devices", {})
    if not isinstance(devices, dict):
        return [f"dataset_patch.devices: got {type(devices).__name__}: expected a mapping of add, move, remove"]
    extra = set(devices) - set(OPERATIONS)
    problems = [f"dataset_patch.devices: got {len(extra)} other field(s): expected only {', '.join(OPERATIONS)}"
                ] if extra else []
    for op in OPERATIONS:
        items = devices.get(op, [])
        if not isinstance(items, list):
            problems.append(f"dataset_patch.devices.{op}: got {type(items).__name__}: expected a list")
        elif len(items) > MAX_CHANGES:
            problems.append(f"dataset_patch.devices.{op}: got {len(items)} devices: expected at most {MAX_CHANGES}")
    return problems


def _item_problems(where: str, item: Any, op: str) -> list[str]:
    if op == "remove":
        ok = isinstance(item, str) and item.strip()
        return [] if ok else [f"{where}: got {short(item, 30)}: expected a device id"]
    if not isinstance(item, dict):
        return [f"{where}: got {type(item).__name__}: expected a mapping with device_id, lon, lat"]
    problems = []
    if not isinstance(item.get("device_id"), str) or not item["device_id"].strip():
        problems.append(f"{where}.device_id: got {short(item.get('device_id'), 30)}: expected a device id")
    if op == "add" and item.get("kind") not in PATCH_KINDS:
        problems.append(f"{where}.kind: got {short(item.get('kind'), 30)}: expected one of {', '.join(PATCH_KINDS)}")
    for k in _PLACE:
        v = item.get(k)
        number = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not number:
            problems.append(f"{where}.{k}: got {short(v, 30)}: expected WGS84 degrees (a number)")
    if op == "move" and "kind" in item:
        problems.append(f"{where}.kind: got a field: expected none (a moved device keeps its kind)")
    return problems


def form_problems(patch: Any) -> list[str]:
    """Problems of the patch's form and of each item's fields (ids, kinds, finite lon/lat), without
    looking at any dataset: what can be checked of a patch whose dataset is not here."""
    problems = _shape_problems(patch)
    if problems or is_empty(patch):
        return problems
    ops = patch.get("devices", {})
    return [line for op in OPERATIONS for i, item in enumerate(ops.get(op, []))
            for line in _item_problems(f"dataset_patch.devices.{op}[{i}]", item, op)]


def _apply(patch: dict[str, Any], devices: dict[str, Any], access: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Apply ``patch`` to the raw devices and access-point collections, in place. Returns problems
    that only the patch can have (an id added twice, moving what does not exist) and, per device id
    the patch touches, where in the patch it is (for naming the dataset's problems)."""
    ops = patch.get("devices", {})
    problems: list[str] = []
    where_of: dict[str, str] = {}
    by_id = {str(f["properties"].get("device_id")): f for f in devices["features"]}
    for op in OPERATIONS:
        for i, item in enumerate(ops.get(op, [])):
            where = f"dataset_patch.devices.{op}[{i}]"
            found = _item_problems(where, item, op)
            if found:
                problems += found
                continue
            did = item if op == "remove" else item["device_id"]
            named = f"{where} ({short(did, 30)})"
            if did in where_of:
                problems.append(f"{named}: got a device the patch already changes ({where_of[did]}): "
                                "expected each device once (to change a device, move it)")
                continue
            where_of[did] = named
            feature = by_id.get(did)
            if op == "add":
                if feature is not None:
                    problems.append(f"{named}.device_id: got an id the dataset has: expected a new id")
                    continue
                props = {k: v for k, v in item.items() if k not in _PLACE}
                feature = {"type": "Feature", "properties": props,
                           "geometry": {"type": "Point", "coordinates": [item["lon"], item["lat"]]}}
                devices["features"].append(feature)
                by_id[did] = feature
            elif feature is None or feature["properties"].get("kind") not in PATCH_KINDS:
                got = "an unknown device" if feature is None else f"a {feature['properties'].get('kind')}"
                problems.append(f"{named}: got {got}: expected a {', '.join(PATCH_KINDS)} of the dataset")
                continue
            elif op == "move":
                feature["properties"].update({k: v for k, v in item.items() if k not in _PLACE})
                feature["geometry"] = {"type": "Point", "coordinates": [item["lon"], item["lat"]]}
            else:
                devices["features"].remove(feature)
                del by_id[did]
    problems += _name_gates(devices, access, where_of)
    return problems, where_of


def _name_gates(devices: dict[str, Any], access: dict[str, Any], where_of: dict[str, str]) -> list[str]:
    """Each access point's ``gate_id``: the gate whose ``access_id`` it is (none if no gate stands
    there). A second gate at one access point is a problem of the patch item that put it there."""
    gate_at: dict[str, Any] = {}
    problems = []
    for f in sorted(devices["features"], key=lambda f: str(f["properties"].get("device_id")) in where_of):
        p = f["properties"]
        if p.get("kind") != "gate" or not isinstance(p.get("access_id"), str):
            continue
        other = gate_at.setdefault(p["access_id"], p.get("device_id"))
        if other != p.get("device_id"):
            where = where_of.get(str(p.get("device_id")), "dataset_patch")
            problems.append(f"{where}.access_id: got {short(p['access_id'], 30)}, where gate {short(other, 30)} "
                            "stands: expected an access point without a gate (move or remove that gate)")
    for f in access["features"]:
        p = f["properties"]
        p["gate_id"] = gate_at.get(p.get("access_id"))
    return problems


def _write(dataset: Path, folder: Path, devices: dict[str, Any], access: dict[str, Any], *, copy: bool) -> None:
    """The dataset at ``dataset`` with ``devices`` and ``access`` as its two layers, into ``folder``
    (other files copied, or linked when ``copy`` is false: a folder for validation only)."""
    manifest = json.loads((dataset / MANIFEST_NAME).read_text(encoding="utf-8"))
    layers = manifest.get("layers", {})
    new = {str(layers["devices"]["file"]): devices, str(layers["access_points"]["file"]): access}
    for f in sorted(dataset.iterdir()):
        if f.is_file() and f.name not in new and f.name != MANIFEST_NAME:
            if not copy:
                os.symlink(f.resolve(), folder / f.name)
                continue
            try:  # the unchanged layers: a hard link costs no space (the base is never written in place)
                os.link(f, folder / f.name)
            except OSError:  # another file system
                shutil.copy2(f, folder / f.name)
    for name, collection in new.items():
        (folder / name).write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")
    manifest["name"] = f"{manifest.get('name', 'dataset')} + proposal patch"
    layers["devices"]["features"] = len(devices["features"])
    layers["devices"]["description"] = str(layers["devices"].get("description", "")) + " Patched by a proposal."
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _patched(dataset: Path, patch: dict[str, Any]) -> tuple[list[str], dict[str, str], dict, dict]:
    _, devices = _layer(dataset, "devices")
    _, access = _layer(dataset, "access_points")
    problems, where_of = _apply(patch, devices, access)
    return problems, where_of, devices, access


def patch_problems(patch: Any, dataset: str | os.PathLike[str]) -> list[str]:
    """Every problem of ``patch`` on the dataset at ``dataset``: its form, then the patched dataset
    as the dataset validator sees it (each line names where in the patch). Empty when valid."""
    from .._validate import read_dataset

    problems = _shape_problems(patch)
    if problems or is_empty(patch):
        return problems
    dataset = Path(dataset)
    problems, where_of, devices, access = _patched(dataset, patch)
    if problems:
        return problems
    with tempfile.TemporaryDirectory(prefix="twin-patch-") as tmp:
        _write(dataset, Path(tmp), devices, access, copy=False)
        read = read_dataset(tmp)
    mine, others = _outside_city(read.layers, where_of), []
    for p in read.problems:
        fid = str(p.feature_id) if p.feature_id is not None else None
        where = where_of.get(fid or "") if p.layer == "devices" else None
        if where:
            mine.append(f"{where}: {p.message}")
        else:
            others.append(f"dataset_patch: the patched dataset: {p}")
    return mine or others  # a patched device's own problem first; what follows from it is noise


def _outside_city(layers: dict[str, Any], where_of: dict[str, str]) -> list[str]:
    """A device the patch places farther than :data:`MAX_OUTSIDE_M` outside the city boundary."""
    boundary, devices = layers.get("boundary"), layers.get("devices")
    if boundary is None or devices is None or not len(boundary):
        return []
    area = boundary.geometry.union_all().buffer(MAX_OUTSIDE_M)
    out = []
    for did, geom in zip(devices["device_id"], devices.geometry, strict=True):
        where = where_of.get(str(did))
        if where and not where.startswith("dataset_patch.devices.remove") and not area.contains(geom):
            out.append(f"{where}: lon/lat: got a point {geom.distance(area) / 1000 + MAX_OUTSIDE_M / 1000:.1f} km "
                       "outside the city: expected a place in the city (WGS84 lon, lat)")
    return out


def patch_key(patch: dict[str, Any], dataset: str | os.PathLike[str]) -> str:
    """The patched dataset's key: a digest of the base dataset's files and the patch."""
    return fingerprint(dataset_fingerprint(Path(dataset)), canonical(patch))


def patched_dataset(patch: dict[str, Any], dataset: str | os.PathLike[str], data: str | os.PathLike[str]) -> Path:
    """The folder of ``dataset`` with ``patch`` applied: ``<data>/datasets/<key>/``, written once
    (atomically) and reused. The patch must be valid (:func:`patch_problems`)."""
    dataset = Path(dataset)
    root = Path(data) / "datasets"
    final = root / patch_key(patch, dataset)
    if final.is_dir():
        return final
    from ..atomic import atomic_dir

    _, _, devices, access = _patched(dataset, patch)
    try:
        with atomic_dir(final, overwrite=True, marker=MANIFEST_NAME) as tmp:  # a killed writer's folder is swept
            _write(dataset, tmp, devices, access, copy=True)
    except OSError:  # another process wrote the same key first: theirs is the same bytes
        if not final.is_dir():
            raise
    return final


def patch_features(patch: dict[str, Any] | None, dataset: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The devices ``patch`` changes, as GeoJSON Point features in WGS84 lon/lat: properties
    ``device_id``, ``kind``, ``name``, ``change`` (add, move, remove) and, for a move, ``from_lon``/
    ``from_lat``. A removed device is shown where it stood. Items the patch cannot place are left out."""
    if is_empty(patch) or _shape_problems(patch):
        return []
    assert patch is not None
    _, devices = _layer(Path(dataset), "devices")
    by_id = {str(f["properties"].get("device_id")): f for f in devices["features"]}
    out = []
    ops = patch.get("devices", {})
    for op in OPERATIONS:
        for item in ops.get(op, []):
            if _item_problems("", item, op):
                continue
            did = item if op == "remove" else item["device_id"]
            old = by_id.get(did)
            if op != "add" and old is None:
                continue
            base = old["properties"] if old is not None else {}
            props = {"device_id": did, "kind": (item.get("kind") if op == "add" else base.get("kind")),
                     "name": (item.get("name") if op != "remove" and item.get("name") else base.get("name")),
                     "change": op}
            if op == "remove":
                coords = old["geometry"]["coordinates"]  # type: ignore[index]
            else:
                coords = [item["lon"], item["lat"]]
            if op == "move":
                props["from_lon"], props["from_lat"] = old["geometry"]["coordinates"][:2]  # type: ignore[index]
            out.append({"type": "Feature", "properties": props,
                        "geometry": {"type": "Point", "coordinates": [float(coords[0]), float(coords[1])]}})
    return out
