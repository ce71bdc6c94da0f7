"""`twin gis validate` and load_city on broken copies of the shipped dataset.

Each break is one a user could make editing the files by hand or exporting from another tool.
Every problem must name the layer and the feature, and the command must never print a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin import DatasetError, load_city
from twin.cli import main


def _edit_features(path: Path, fn) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data["features"])
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _validate(data: Path):
    res = CliRunner().invoke(main, ["gis", "validate", "--data", str(data)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def test_shipped_dataset_is_valid():
    code, out = _validate(Path(load_city().path))
    assert code == 0 and "valid" in out


def test_missing_attribute(dataset_copy):
    def drop(features):
        del features[4]["properties"]["width_m"]

    _edit_features(dataset_copy / "roads.geojson", drop)
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "roads[E00005]: attribute 'width_m' is missing" in out


def test_attribute_of_wrong_type(dataset_copy):
    def bad(features):
        features[0]["properties"]["year_built"] = "nineteen-eighty"

    _edit_features(dataset_copy / "buildings.geojson", bad)
    code, out = _validate(dataset_copy)
    assert code == 1 and "buildings[B00001]: attribute 'year_built' must be an integer" in out
    assert "buildings[B00002]" not in out  # one bad value blames one feature, not the column


@pytest.mark.parametrize(
    ("layer", "index", "attr", "value", "expected"),
    [
        ("buildings", 3, "year_built", "1990", "buildings[B00004]: attribute 'year_built' must be an integer"),
        ("roads", 2, "width_m", True, "roads[E00003]: attribute 'width_m' must be a number"),
        ("streams", 0, "approximate", "yes", "streams[JN-01]: attribute 'approximate' must be true or false"),
        ("facilities", 0, "position_source", 17, None),  # not a schema attribute: passed through
        # an id that is not a string is named by the feature's position, never printed
        ("slopes", 1, "slope_id", {"k": 1}, "slopes[#1]: attribute 'slope_id' must be a string, got an object"),
    ],
)
def test_json_types_are_checked_exactly(dataset_copy, layer, index, attr, value, expected):
    _edit_features(dataset_copy / f"{layer}.geojson", lambda fs: fs[index]["properties"].update({attr: value}))
    code, out = _validate(dataset_copy)
    if expected is None:
        assert code == 0, out
    else:
        assert code == 1 and expected in out
        assert len([line for line in out.splitlines() if line.startswith("  - ")]) == 1, out


def test_elevation_in_coordinates_is_accepted(dataset_copy):
    """RFC 7946 positions may carry an elevation; GDAL then reports EPSG:4979."""

    def add_z(features):
        for f in features:
            f["geometry"]["coordinates"] = [*f["geometry"]["coordinates"][:2], 42.0]

    _edit_features(dataset_copy / "facilities.geojson", add_z)
    code, out = _validate(dataset_copy)
    assert code == 0, out
    assert not load_city(dataset_copy).layers["facilities"].has_z.any()


def test_reference_year_must_be_a_year(dataset_copy):
    manifest = json.loads((dataset_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["reference_year"] = "abc"
    (dataset_copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out = _validate(dataset_copy)
    assert code == 1 and "reference_year must be a year" in out


def test_loaded_attributes_have_schema_dtypes(city):
    b = city.layers["buildings"]
    assert str(b["year_built"].dtype) == "Int64" and str(b["storeys"].dtype) == "Int64"
    assert str(city.layers["roads"]["width_m"].dtype) == "float64"


def test_invalid_geometry(dataset_copy):
    def bowtie(features):
        lon, lat = features[7]["geometry"]["coordinates"][0][0]
        d = 0.0002
        features[7]["geometry"] = {
            "type": "Polygon",
            "coordinates": [[[lon, lat], [lon + d, lat + d], [lon + d, lat], [lon, lat + d], [lon, lat]]],
        }

    _edit_features(dataset_copy / "buildings.geojson", bowtie)
    code, out = _validate(dataset_copy)
    assert code == 1 and "buildings[B00008]: invalid geometry: Self-intersection" in out


def test_unreachable_facility(dataset_copy):
    def move(features):
        for f in features:
            if f["properties"]["name"] == "가능초등학교":
                f["geometry"]["coordinates"] = [127.0100, 37.7000]  # on 사패산, far from any path
                return f["properties"]["facility_id"]

    fid = []
    _edit_features(dataset_copy / "facilities.geojson", lambda fs: fid.append(move(fs)))
    code, out = _validate(dataset_copy)
    assert code == 1 and f"facilities[{fid[0]}]: unreachable" in out


def test_disconnected_walk_graph(dataset_copy):
    def island(features):
        features.append(
            {
                "type": "Feature",
                "properties": {"edge_id": "E99999", "kind": "road", "width_m": 3.0, "name": None},
                "geometry": {"type": "LineString", "coordinates": [[127.14, 37.70], [127.141, 37.70]]},
            }
        )

    _edit_features(dataset_copy / "roads.geojson", island)
    code, out = _validate(dataset_copy)
    assert code == 1 and "walk graph is not connected: 2 components" in out


def test_wrong_crs(dataset_copy):
    """A layer saved in EPSG:5186 instead of WGS84 (a common QGIS export slip)."""
    import geopandas as gpd

    path = dataset_copy / "dongs.geojson"
    gdf = gpd.read_file(path).to_crs("EPSG:5186")
    path.unlink()
    gdf.to_file(path, driver="GeoJSON")
    code, out = _validate(dataset_copy)
    assert code == 1 and "dongs: CRS is EPSG:5186, expected EPSG:4326" in out


def test_undeclared_projected_coordinates(dataset_copy):
    def metres(features):
        features[0]["geometry"]["coordinates"] = [204900.0, 571400.0]

    _edit_features(dataset_copy / "devices.geojson", metres)
    code, out = _validate(dataset_copy)
    assert code == 1 and "devices[RG-10184010]: coordinates are not lon/lat degrees" in out, out
    _edit_features(dataset_copy / "devices.geojson", lambda fs: [metres([f]) for f in fs])
    code, out = _validate(dataset_copy)
    assert code == 1 and "devices: coordinates (2.049e+05, 5.714e+05)" in out and "not lon/lat degrees" in out, out


def test_duplicate_id(dataset_copy):
    def dup(features):
        features[5]["properties"]["device_id"] = features[4]["properties"]["device_id"]

    _edit_features(dataset_copy / "devices.geojson", dup)
    data = json.loads((dataset_copy / "devices.geojson").read_text(encoding="utf-8"))
    dup_id = data["features"][4]["properties"]["device_id"]
    code, out = _validate(dataset_copy)
    assert code == 1 and f"devices[{dup_id}]: duplicate device_id" in out


def test_layer_file_that_is_not_json(dataset_copy):
    path = dataset_copy / "streams.geojson"
    path.write_text(path.read_text(encoding="utf-8")[:5000], encoding="utf-8")  # truncated mid-file
    code, out = _validate(dataset_copy)
    assert code == 1 and "streams: streams.geojson is not valid JSON" in out


def test_unknown_kind_and_missing_manifest(dataset_copy, tmp_path):
    def bad_kind(features):
        features[0]["properties"]["kind"] = "escalator"

    _edit_features(dataset_copy / "roads.geojson", bad_kind)
    code, out = _validate(dataset_copy)
    assert code == 1 and "roads[E00001]: attribute 'kind' is 'escalator', expected one of road" in out
    (dataset_copy / "manifest.json").unlink()
    code, out = _validate(dataset_copy)
    assert code == 1 and "manifest.json not found" in out


def test_several_problems_are_all_reported_and_load_city_raises(dataset_copy):
    _edit_features(dataset_copy / "roads.geojson", lambda fs: fs[0]["properties"].update(width_m=-2))
    _edit_features(dataset_copy / "devices.geojson", lambda fs: fs[1]["properties"].update(kind=None))
    with pytest.raises(DatasetError) as exc:
        load_city(dataset_copy)
    layers = {p.layer for p in exc.value.problems}
    assert {"roads", "devices"} <= layers
    assert "roads[E00001]: attribute 'width_m' must be > 0" in str(exc.value)


def test_real_cli_prints_no_traceback(dataset_copy):
    (dataset_copy / "buildings.geojson").write_text("not json at all", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "twin.cli", "gis", "validate", "--data", str(dataset_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "buildings: buildings.geojson is not valid JSON" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "twin.cli", "gis", "info", "--data", str(dataset_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "error:" in proc.stderr and "Traceback" not in proc.stderr


def _add_door(path: Path, edge_id: str = "E-DOOR", length_m: float = 0.3) -> None:
    """A link ``length_m`` long from the last point of E00001 (lengths in EPSG:5186 metres)."""
    from pyproj import Transformer

    to_m = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True)
    to_deg = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True)

    def door(features):
        lon, lat = features[0]["geometry"]["coordinates"][-1][:2]
        x, y = to_m.transform(lon, lat)
        features.append(
            {
                "type": "Feature",
                "properties": {"edge_id": edge_id, "kind": "road", "width_m": 1.0, "name": None},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[lon, lat], list(to_deg.transform(x, y + length_m))],
                },
            }
        )

    _edit_features(path, door)


def test_a_link_shorter_than_the_merge_distance_is_refused(dataset_copy):
    """Issue 15: a 0.3 m door became a loop no route used, and the dataset was called valid."""
    _add_door(dataset_copy / "roads.geojson")
    code, out = _validate(dataset_copy)
    assert code == 1
    assert (
        "roads[E-DOOR]: roads.geojson: geometry: got a link 0.30 m long: expected a link at least 0.5 m long "
        "whose ends stay apart (the walk graph joins line ends closer than 0.5 m); make it longer or merge it "
        "into its neighbour" in out
    ), out
    assert len([line for line in out.splitlines() if line.startswith("  - ")]) == 1, out
    with pytest.raises(DatasetError, match=r"roads\[E-DOOR\]"):
        load_city(dataset_copy)


def test_a_link_just_longer_than_the_merge_distance_is_kept(dataset_copy):
    _add_door(dataset_copy / "roads.geojson", length_m=0.7)
    code, out = _validate(dataset_copy)
    assert code == 0, out
    edge = [d for _, _, k, d in load_city(dataset_copy).graph.edges(keys=True, data=True) if k == "E-DOOR"]
    assert len(edge) == 1 and edge[0]["length_m"] == pytest.approx(0.7, abs=0.01)


def test_the_short_link_problem_names_the_file_the_manifest_gives(dataset_copy):
    manifest = json.loads((dataset_copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["layers"]["roads"]["file"] = "walk_links.geojson"
    (dataset_copy / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    (dataset_copy / "roads.geojson").rename(dataset_copy / "walk_links.geojson")
    _add_door(dataset_copy / "walk_links.geojson")
    code, out = _validate(dataset_copy)
    assert code == 1 and "roads[E-DOOR]: walk_links.geojson: geometry: got a link 0.30 m long" in out, out


@pytest.mark.parametrize(
    ("layer", "index", "attr", "value", "expected"),
    [
        # optional attributes (the collapse model's) are checked when present ...
        ("slopes", 0, "risk_grade", "F",
         "slopes[SLP-01]: attribute 'risk_grade' is 'F', expected one of A, B, C, D, E"),
        ("slopes", 0, "friction_deg", 95, "slopes[SLP-01]: attribute 'friction_deg' must be <= 89"),
        ("slopes", 0, "ks_m_s", -1e-5, "slopes[SLP-01]: attribute 'ks_m_s' must be > 0"),
        ("buildings", 0, "occupants", 2.5, "buildings[B00001]: attribute 'occupants' must be an integer"),
        ("buildings", 0, "tilt_ratio", 0.5, "buildings[B00001]: attribute 'tilt_ratio' must be <= 0.2"),
        # ... and may be null
        ("slopes", 0, "cohesion_kpa", None, None),
        # the water table starts within the soil (TRIGRS: d <= Z)
        ("slopes", 2, "water_table_depth_m", 40.0,
         "slopes[SLP-03]: attribute 'water_table_depth_m' must be at most soil_depth_m"),
    ],
)  # fmt: skip
def test_optional_collapse_attributes_are_checked_when_present(dataset_copy, layer, index, attr, value, expected):
    _edit_features(dataset_copy / f"{layer}.geojson", lambda fs: fs[index]["properties"].update({attr: value}))
    code, out = _validate(dataset_copy)
    if expected is None:
        assert code == 0, out
    else:
        assert code == 1 and expected in out, out
        assert len([line for line in out.splitlines() if line.startswith("  - ")]) <= 1, out


def test_a_dataset_without_the_optional_attributes_is_valid(dataset_copy):
    def strip(features):
        for f in features:
            for k in ("soil_depth_m", "cohesion_kpa", "risk_grade", "runout_m", "downhill_deg"):
                f["properties"].pop(k, None)

    _edit_features(dataset_copy / "slopes.geojson", strip)
    code, out = _validate(dataset_copy)
    assert code == 0, out


def test_an_extensometer_must_sit_on_a_slope(dataset_copy):
    def move(features):
        ext = next(f for f in features if f["properties"]["kind"] == "extensometer")
        ext["properties"]["host_id"] = "B00001"  # a building

    _edit_features(dataset_copy / "devices.geojson", move)
    code, out = _validate(dataset_copy)
    assert code == 1 and "attribute 'host_id': no slopes feature has id 'B00001' (extensometers sit on slopes)" in out
