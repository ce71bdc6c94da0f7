"""Fuzzing the dataset reader: a random field of a random feature of a small dataset set to NaN,
Infinity, a huge or negative number, the wrong type, a deep list, odd unicode, or removed. Either
validation passes, or it reports problems one line each, naming the layer and the feature or the
field, never repeating a long value; never an exception. A bounded sample of the datasets that pass
is loaded into a CityModel, which must succeed or raise a TwinError (issue 13).

The small dataset is cut from the shipped one around gate G01: its roads within 600 m (largest
connected part), the features near them, the 중랑천 reaches, every reference kept resolvable.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin._validate import read_dataset
from twin.city import DEFAULT_DATASET, load_city
from twin.dataset_schema import LAYERS
from twin.errors import TwinError
from twin.walk_graph import components_by_size, walk_graph

LONG = "긴" * 5000
DEEP = 40  # nesting of the deep list, above the reader's limit (32)
MUTATIONS = [
    ("nan", math.nan),
    ("inf", math.inf),
    ("-inf", -math.inf),
    ("huge", 1e308),
    ("-huge", -1e308),
    ("huge int", 10**30),
    ("negative", -1),
    ("zero", 0),
    ("string", "string"),
    ("bool", True),
    ("list", [1, 2]),
    ("object", {"k": 1}),
    ("null", None),
    ("unicode", "\u202e\ud800\x00가"),
    ("long", LONG),
    ("deep", "DEEP"),
    ("missing", "MISSING"),
]
LOADS = {"done": 0}
MAX_LOADS = 8


def _small_dataset(out: Path) -> Path:
    city = load_city()
    raw = {
        name: json.loads((DEFAULT_DATASET / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
        for name in LAYERS
    }
    aps = city.layer("access_points").set_index("access_id")
    centre = aps.loc["AP-JN-R04"].geometry
    roads = city.layer("roads")
    near = roads[roads.distance(centre) < 600]
    main = components_by_size(walk_graph(near))[0]
    G = walk_graph(near)
    keep_edges = {d["edge_id"] for u, v, d in G.edges(data=True) if u in main and v in main}
    area = shapely.union_all(near[near["edge_id"].isin(keep_edges)].geometry.values).buffer(150)

    def inside(name: str) -> set[str]:
        gdf = city.layer(name)
        col = LAYERS[name].id_column
        return set(gdf[gdf.intersects(area)][col])

    keep = {
        "roads": keep_edges,
        "access_points": {a for a in inside("access_points") if aps.loc[a, "stream"] == "중랑천"},
        "facilities": inside("facilities"),
        "buildings": set(sorted(inside("buildings"))[:40]),
        "slopes": inside("slopes"),
        "streams": set(city.layer("streams").query("name == '중랑천'")["reach_id"]),
        "boundary": set(city.layer("boundary")["city_code"]),
        "dongs": set(city.layer("dongs")["dong_code"]),
    }
    dev = city.layer("devices").set_index("device_id")
    devices = set()
    for did in sorted(inside("devices")) + ["LS-G01", "RG-G01"]:
        d = dev.loc[did]
        ok = {
            "gate": lambda d: d["access_id"] in keep["access_points"],
            "signboard": lambda d: d["access_id"] in keep["access_points"],
            "cctv": lambda d: not isinstance(d["watches"], str) or d["watches"] in keep["access_points"],
            "tilt_sensor": lambda d: d["host_id"] in keep["buildings"] | keep["slopes"],
            "crack_sensor": lambda d: d["host_id"] in keep["buildings"] | keep["slopes"],
            "crosswalk": lambda d: d["school_id"] in keep["facilities"],
            "level_sensor": lambda d: d["stream"] == "중랑천",
        }.get(d["kind"], lambda d: True)(d)
        if ok:
            devices.add(did)
    keep["devices"] = devices
    out.mkdir(parents=True)
    for name, features in raw.items():
        col = LAYERS[name].id_column
        kept = [f for f in features if f["properties"][col] in keep[name]]
        for f in kept:
            p = f["properties"]
            if (
                p.get("access_id") is not None
                and name != "access_points"
                and p["access_id"] not in keep["access_points"]
            ):
                p["access_id"] = None
            if name == "access_points" and p["gate_id"] not in devices:
                p["gate_id"] = None
            if name == "devices" and p.get("zone_id") not in (None, *keep["facilities"]):
                p["zone_id"] = None
        (out / f"{name}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": kept}, ensure_ascii=False), encoding="utf-8"
        )
    manifest = json.loads((DEFAULT_DATASET / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("hydrology")  # its gauges (신곡교, 금신교) are not in the cut-out
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, list]]:
    out = _small_dataset(tmp_path_factory.mktemp("fuzz") / "small")
    problems = read_dataset(out).problems
    assert problems == [], [str(p) for p in problems]
    features = {name: json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))["features"] for name in LAYERS}
    return out, features


def test_small_dataset_is_valid_and_loads(small):
    path, features = small
    city = load_city(path, cache=False)
    assert len(city.devices_of_kind("gate")) == 1 and len(features["roads"]) > 50


@st.composite
def mutation(draw, features):
    layer = draw(st.sampled_from(sorted(n for n, fs in features.items() if fs)))
    index = draw(st.integers(0, len(features[layer]) - 1))
    keys = sorted(features[layer][index]["properties"]) + ["geometry"]
    field = draw(st.sampled_from(keys))
    label, value = draw(st.sampled_from(MUTATIONS))
    return layer, index, field, label, value


def _apply(feature: dict, field: str, value) -> None:
    if value == "DEEP":
        value = 1
        for _ in range(DEEP):
            value = [value]
    if field == "geometry":
        coords = feature["geometry"]["coordinates"]
        while isinstance(coords[0], list):
            coords = coords[0]
        if value == "MISSING":
            feature["geometry"] = None
        else:
            coords[0] = value
    elif value == "MISSING":
        del feature["properties"][field]
    else:
        feature["properties"][field] = value


@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_mutated_dataset_gives_problems_or_loads(small, tmp_path_factory, data):
    src, features = small
    layer, index, field, label, value = data.draw(mutation(features))
    work = tmp_path_factory.mktemp("m") / "d"
    shutil.copytree(src, work)
    fs = json.loads(json.dumps(features[layer]))
    feature = fs[index]
    spec = LAYERS[layer]
    fid = feature["properties"].get(spec.id_column)
    _apply(feature, field, value)
    (work / f"{layer}.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": fs}), encoding="utf-8"
    )  # ensure_ascii (a lone surrogate is escaped), allow_nan (NaN and Infinity are written as such)

    result = read_dataset(work)
    lines = [str(p) for p in result.problems + result.warnings]
    for line in lines:
        assert "\n" not in line and len(line) <= 300, line[:400]
        assert LONG[:20] not in line
        line.encode("utf-8")  # printable: no lone surrogate
    if result.problems:
        named = (field, f"#{index}", str(fid), spec.id_column, f"{layer}.geojson")
        assert any(n in line for line in lines for n in named), (layer, index, field, label, lines)
    elif LOADS["done"] < MAX_LOADS:
        LOADS["done"] += 1
        try:
            load_city(work, cache=False)
        except TwinError:
            pass


def test_what_validates_runs(small, tmp_path):
    """Valid means runnable: a short flood scenario on the small dataset runs, or fails cleanly."""
    from click.testing import CliRunner

    from twin.cli import main

    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "dry_baseline.yaml"
    args = ["run", str(scenario), "--set", f"dataset={small[0]}", "--set", "duration=30min"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "run"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "summary.json").is_file()
