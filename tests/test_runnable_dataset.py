"""Valid means runnable: a dataset that passes `twin gis validate` loads into the city model and
runs, and one that would not is refused with one line per problem (file, feature, field), never a
traceback and never the contents of the file (issue 13).

Each test is a reproduction on a copy of the shipped dataset that passed validation (or printed a
traceback) before the checks it names existed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from twin import DatasetError, load_city
from twin._validate import read_dataset
from twin.cli import main

REPO = Path(__file__).resolve().parents[1]
DEEP = 100_000


def _edit_features(path: Path, fn) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    fn(data["features"])
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # allow_nan: writes NaN


def _device(features, device_id):
    return next(f for f in features if f["properties"]["device_id"] == device_id)


def _validate(data: Path) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["gis", "validate", "--data", str(data)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def _problem_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("  - ")]


def _assert_short_lines(out: str, limit: int = 300) -> None:
    for line in out.splitlines():
        assert len(line) <= limit, line[:400]


# -- JSON that Python reads but GeoJSON cannot carry ---------------------------------------------


def test_nan_coordinate_is_a_problem_naming_file_feature_and_field(dataset_copy):
    _edit_features(
        dataset_copy / "devices.geojson",
        lambda fs: _device(fs, "LS-1018665")["geometry"].update(coordinates=[math.nan, 37.7]),
    )
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "devices[LS-1018665]: devices.geojson: geometry.coordinates[0]: NaN" in out, out
    res = CliRunner().invoke(main, ["gis", "info", "--data", str(dataset_copy)])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_infinite_and_overflowing_numbers_are_problems(dataset_copy):
    path = dataset_copy / "roads.geojson"
    text = path.read_text(encoding="utf-8")
    text = text.replace('"width_m":', '"width_m":1e400, "was":', 1)  # float overflow: inf in Python
    path.write_text(text, encoding="utf-8")
    _edit_features(dataset_copy / "streams.geojson", lambda fs: fs[2]["properties"].update(manning_n=-math.inf))
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "roads[E00001]: roads.geojson: properties.width_m: Infinity" in out, out
    assert "streams[JN-03]: streams.geojson: properties.manning_n: -Infinity" in out, out


def test_deep_list_in_the_manifest(dataset_copy):
    path = dataset_copy / "manifest.json"
    manifest = path.read_text(encoding="utf-8").rstrip().rstrip("}")
    path.write_text(manifest + ', "notes": ' + "[" * DEEP + "]" * DEEP + "}\n", encoding="utf-8")
    code, out = _validate(dataset_copy)
    assert code == 1
    lines = _problem_lines(out)
    assert len(lines) == 1 and "manifest: manifest.json: notes[0][0]" in lines[0], out
    assert "nested deeper than" in lines[0]
    _assert_short_lines(out)
    with pytest.raises(DatasetError):
        load_city(dataset_copy)


def test_deep_list_in_a_feature_property(dataset_copy):
    path = dataset_copy / "devices.geojson"
    text = path.read_text(encoding="utf-8")
    assert text.count('"name":"의정부시(신곡교)"') == 1
    path.write_text(text.replace('"name":"의정부시(신곡교)"', '"name":' + "[" * DEEP + "]" * DEEP), encoding="utf-8")
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "devices[LS-1018665]: devices.geojson: properties.name[0][0]" in out, out[:2000]
    _assert_short_lines(out)


def test_a_lone_surrogate_in_an_id_or_a_property_is_a_problem(dataset_copy):
    """Found by the fuzz suite: a JSON escape of a lone UTF-16 surrogate (valid JSON text, not
    Unicode) in a feature id raised UnicodeEncodeError inside pandas instead of a problem."""
    path = dataset_copy / "devices.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    dev = _device(data["features"], "LS-1018665")
    dev["properties"]["device_id"] = "LS-\ud800"
    dev["properties"]["name"] = "\udfff gauge"
    path.write_text(json.dumps(data, ensure_ascii=True), encoding="utf-8")  # the escapes, as JSON text
    code, out = _validate(dataset_copy)
    assert code == 1
    lines = [line for line in _problem_lines(out) if "surrogate" in line]
    assert len(lines) == 2 and all("devices.geojson" in line for line in lines)
    assert "properties.device_id" in out and "properties.name" in out
    _assert_short_lines(out)


def test_bytes_that_are_not_utf8_are_one_line_without_the_bytes(dataset_copy):
    path = dataset_copy / "slopes.geojson"
    path.write_bytes(path.read_bytes().replace("급경사지".encode(), "급경사지".encode("cp949"), 1))
    code, out = _validate(dataset_copy)
    assert code == 1
    lines = _problem_lines(out)
    assert len(lines) == 1 and "slopes: slopes.geojson is not UTF-8" in lines[0], out
    assert "\\x" not in out


def test_a_long_bad_value_is_described_not_repeated(dataset_copy):
    long = "가" * 5000
    _edit_features(dataset_copy / "roads.geojson", lambda fs: fs[0]["properties"].update(width_m=long, edge_id=long))
    code, out = _validate(dataset_copy)
    assert code == 1 and long[:50] not in out
    assert "roads[#0]: attribute 'width_m' must be a number, got a string of 5000 characters" in out, out
    _assert_short_lines(out)


# -- physical bounds ------------------------------------------------------------------------------


def test_huge_width_is_out_of_range(dataset_copy):
    """width_m 1e308 passed and then OverflowError in the crowd model (storage of a link)."""
    _edit_features(dataset_copy / "roads.geojson", lambda fs: fs[0]["properties"].update(width_m=1e308))
    _edit_features(dataset_copy / "streams.geojson", lambda fs: fs[0]["properties"].update(width_m=1e308))
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "roads[E00001]: attribute 'width_m' must be <= 200, got 1e+308 (walkable width, m)" in out, out
    assert "streams[JN-01]: attribute 'width_m' must be <= 2000, got 1e+308" in out, out


def test_a_run_on_a_dataset_out_of_range_is_a_clean_error(dataset_copy, tmp_path):
    _edit_features(dataset_copy / "roads.geojson", lambda fs: fs[0]["properties"].update(width_m=1e308))
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(REPO / "scenarios" / "dry_baseline.yaml"),
            "--set",
            f"dataset={dataset_copy}",
            "--set",
            "duration=10min",
            "--out",
            str(tmp_path / "run"),
            "--quiet",
        ],
    )
    assert res.exit_code == 2, res.output
    assert isinstance(res.exception, SystemExit) and "Traceback" not in res.output
    assert "width_m' must be <= 200" in res.output


def test_values_outside_the_models_range_are_warnings_not_errors(dataset_copy):
    _edit_features(dataset_copy / "streams.geojson", lambda fs: fs[0]["properties"].update(manning_n=0.5))
    result = read_dataset(dataset_copy)
    assert result.problems == []
    assert [str(w) for w in result.warnings] == [
        "streams[JN-01]: attribute 'manning_n' is 0.5, outside 0.01..0.2 where the models are valid "
        "(Manning roughness, s/m^(1/3))"
    ]
    code, out = _validate(dataset_copy)  # the command line says so too, and still calls it valid
    assert code == 0 and f"{dataset_copy}: valid" in out
    assert "warning: streams[JN-01]: attribute 'manning_n' is 0.5" in out


# -- every reference resolves ---------------------------------------------------------------------


def test_gate_pointing_at_a_missing_access_point_or_level_sensor(dataset_copy):
    def bad(fs):
        _device(fs, "G01")["properties"].update(access_id="AP-NOPE")
        _device(fs, "G02")["properties"].update(level_sensor_id="LS-NOPE")
        _device(fs, "G03")["properties"].update(rain_gauge_id="G04")  # a device, but not a rain gauge

    _edit_features(dataset_copy / "devices.geojson", bad)
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "devices[G01]: attribute 'access_id': no access_points feature has access_id 'AP-NOPE'" in out, out
    assert "devices[G02]: attribute 'level_sensor_id': no level_sensor in devices has device_id 'LS-NOPE'" in out
    assert "devices[G03]: attribute 'rain_gauge_id': 'G04' is a gate, expected a rain_gauge" in out
    # the access point G01 stood at no longer names a gate that stands there
    assert "access_points[AP-JN-R04]: attribute 'gate_id': gate G01 stands at 'AP-NOPE'" in out


def test_other_references_resolve(dataset_copy):
    _edit_features(dataset_copy / "streams.geojson", lambda fs: fs[0]["properties"].update(downstream_reach_id="XX"))
    _edit_features(dataset_copy / "access_points.geojson", lambda fs: fs[0]["properties"].update(stream="없는천"))

    def bad(fs):
        kinds = {}
        for f in fs:
            kinds.setdefault(f["properties"]["kind"], f["properties"])
        kinds["tilt_sensor"]["host_id"] = "B-NOPE"
        kinds["crosswalk"]["school_id"] = "F-NOPE"

    _edit_features(dataset_copy / "devices.geojson", bad)
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "streams[JN-01]: attribute 'downstream_reach_id': no streams feature has reach_id 'XX'" in out, out
    assert "access_points[AP-JN-L01]: attribute 'stream': no stream named '없는천' in streams" in out
    assert "attribute 'host_id': no buildings or slopes feature has id 'B-NOPE'" in out
    assert "attribute 'school_id': no facilities feature has facility_id 'F-NOPE'" in out


def test_a_loop_of_reaches_is_a_problem(dataset_copy):
    _edit_features(dataset_copy / "streams.geojson", lambda fs: fs[1]["properties"].update(downstream_reach_id="JN-01"))
    code, out = _validate(dataset_copy)
    assert code == 1 and "streams[JN-01]: downstream_reach_id leads round in a loop" in out, out


# -- ordering -------------------------------------------------------------------------------------


def test_inverted_thresholds(dataset_copy):
    _edit_features(
        dataset_copy / "devices.geojson",
        lambda fs: _device(fs, "LS-G01")["properties"].update(threshold_attention_m=9.0),
    )
    code, out = _validate(dataset_copy)
    assert code == 1
    assert (
        "devices[LS-G01]: threshold_attention_m 9 m is above threshold_caution_m 2 m: "
        "expected attention <= caution <= alert <= serious" in out
    ), out


def test_bed_rising_downstream(dataset_copy):
    def rise(fs):
        p = fs[3]["properties"]
        p["bed_elev_down_m"] = p["bed_elev_up_m"] + 5.0  # JN-04 rises within the reach
        fs[5]["properties"]["bed_elev_up_m"] = fs[4]["properties"]["bed_elev_down_m"] + 3.0  # JN-05 into JN-06

    _edit_features(dataset_copy / "streams.geojson", rise)
    code, out = _validate(dataset_copy)
    assert code == 1
    assert "streams[JN-04]: bed rises downstream within the reach" in out, out
    assert "streams[JN-05]: bed rises by 3.00 m into reach JN-06" in out, out


# -- what validates, runs -------------------------------------------------------------------------


def test_shipped_dataset_has_no_problems_and_no_warnings():
    result = read_dataset(REPO / "gis_data" / "uijeongbu")
    assert result.problems == [] and result.warnings == []
    for sub in ("bottleneck", "corridor", "room"):
        assert read_dataset(REPO / "gis_data" / "verification" / sub).problems == []


def test_a_run_on_a_dataset_with_a_link_shorter_than_the_merge_distance_is_a_clean_error(dataset_copy, tmp_path):
    """Issue 15: a 0.3 m link collapsed into a loop no route used; the run went on without it."""

    def door(fs):
        (lon, lat) = fs[0]["geometry"]["coordinates"][-1][:2]
        props = {"edge_id": "E-DOOR", "kind": "road", "width_m": 1.0, "name": None}
        line = [[lon, lat], [lon + 3e-6, lat]]  # about 0.26 m east at 37.7 N
        fs.append({"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": line}})

    _edit_features(dataset_copy / "roads.geojson", door)
    code, out = _validate(dataset_copy)
    assert code == 1 and "roads[E-DOOR]: roads.geojson: geometry: got a link 0.26 m long" in out, out
    scenario = str(REPO / "scenarios" / "dry_baseline.yaml")
    args = ["run", scenario, "--set", f"dataset={dataset_copy}", "--out", str(tmp_path / "run"), "--quiet"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert "Traceback" not in res.output and "roads[E-DOOR]" in res.output
