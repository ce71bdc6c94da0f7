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
