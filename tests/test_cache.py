"""The content-addressed cache: same bytes give the cached result, changed bytes a fresh one."""

from __future__ import annotations

import json

import pytest

from twin import DatasetError, load_city
from twin.cache import cache_dir, cached


def test_cached_builds_once_per_key(tmp_path, monkeypatch):
    monkeypatch.setenv("TWIN_CACHE_DIR", str(tmp_path / "c"))
    calls = []
    assert cached("x", "k1", lambda: calls.append(1) or {"v": 1}) == {"v": 1}
    assert cached("x", "k1", lambda: calls.append(1) or {"v": 2}) == {"v": 1}
    assert cached("x", "k2", lambda: calls.append(1) or {"v": 3}) == {"v": 3}
    assert len(calls) == 2
    # a damaged entry is rebuilt, not trusted
    for f in (tmp_path / "c").iterdir():
        f.write_bytes(b"not a pickle")
    assert cached("x", "k1", lambda: {"v": 4}) == {"v": 4}


def test_cache_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("TWIN_CACHE_DIR", "")
    assert cache_dir() is None
    calls = []
    cached("x", "k", lambda: calls.append(1))
    cached("x", "k", lambda: calls.append(1))
    assert len(calls) == 2


def test_an_edited_dataset_is_validated_again(dataset_copy):
    city = load_city(dataset_copy)
    assert city.fingerprint and city.path == dataset_copy
    again = load_city(dataset_copy)
    assert again.fingerprint == city.fingerprint and len(again.layers["roads"]) == len(city.layers["roads"])
    data = json.loads((dataset_copy / "roads.geojson").read_text(encoding="utf-8"))
    data["features"][0]["properties"]["width_m"] = -1
    (dataset_copy / "roads.geojson").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(DatasetError, match="width_m' must be > 0"):
        load_city(dataset_copy)


def _move_layer_to_subfolder(dataset, layer: str, sub: str = "layers") -> None:
    (dataset / sub).mkdir(parents=True)
    (dataset / f"{layer}.geojson").rename(dataset / sub / f"{layer}.geojson")
    manifest = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    manifest["layers"][layer]["file"] = f"{sub}/{layer}.geojson"
    (dataset / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_a_layer_in_a_subfolder_is_part_of_the_key(dataset_copy):
    """A changed layer file in a subfolder was not in the key: gis info and twin run used the old data."""
    _move_layer_to_subfolder(dataset_copy, "devices")
    city = load_city(dataset_copy)
    n = len(city.layers["devices"])
    path = dataset_copy / "layers" / "devices.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if f["properties"]["kind"] != "cctv"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    again = load_city(dataset_copy)
    assert again.fingerprint != city.fingerprint
    assert len(again.layers["devices"]) < n
    data["features"][0]["properties"]["device_id"] = data["features"][1]["properties"]["device_id"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DatasetError, match="duplicate device_id"):
        load_city(dataset_copy)


def test_the_key_covers_every_named_file_and_only_reads_files(dataset_copy, tmp_path):
    from twin.cache import dataset_fingerprint

    _move_layer_to_subfolder(dataset_copy, "slopes", sub="a/b")
    key = dataset_fingerprint(dataset_copy)
    assert dataset_fingerprint(dataset_copy) == key
    (dataset_copy / "a" / "b" / "slopes.geojson").write_text('{"type":"FeatureCollection","features":[]}')
    assert dataset_fingerprint(dataset_copy) != key
    key = dataset_fingerprint(dataset_copy)
    (dataset_copy / "a" / "b" / "slopes.geojson").unlink()  # a missing file is part of the key too
    assert dataset_fingerprint(dataset_copy) != key
    (dataset_copy / "manifest.json").write_text("[" * 100_000)  # a broken manifest still gives a key
    assert dataset_fingerprint(dataset_copy)
