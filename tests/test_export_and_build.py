"""GeoPackage export (atomic) and the deterministic build of the default dataset."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest
from click.testing import CliRunner

from twin.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_export_gpkg_has_every_layer_in_epsg_5186(tmp_path, city):
    out = tmp_path / "city.gpkg"
    res = CliRunner().invoke(main, ["gis", "export", "--format", "gpkg", "--out", str(out)])
    assert res.exit_code == 0, res.output
    layers = dict(pyogrio.list_layers(out))
    for name, gdf in city.layers.items():
        assert name in layers
        info = pyogrio.read_info(out, layer=name)
        assert info["features"] == len(gdf)
        assert info["crs"] == "EPSG:5186"
    assert pyogrio.read_info(out, layer="walk_nodes")["features"] == city.graph.number_of_nodes()


def test_export_failure_leaves_no_partial_file(tmp_path, city, monkeypatch):
    from twin import gis_export

    calls = {"n": 0}
    real = pyogrio.write_dataframe

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(gis_export.pyogrio, "write_dataframe", flaky)
    out = tmp_path / "city.gpkg"
    with pytest.raises(OSError, match="disk full"):
        gis_export.export_gpkg(city, out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(importlib.util.find_spec("korean_romanizer") is None, reason="korean-romanizer not installed")
def test_build_script_is_deterministic(tmp_path, reference_dir):
    """Two builds (``twin gis build-default``) from the same reference data are byte-identical and
    match the shipped counts."""
    outs = []
    for k in range(2):
        out = tmp_path / f"b{k}"
        proc = subprocess.run(
            [sys.executable, "-m", "twin.cli", "gis", "build-default", "--reference", str(reference_dir)]
            + ["--out", str(out)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    files = sorted(p.name for p in outs[0].iterdir())
    assert files == sorted(p.name for p in outs[1].iterdir())
    for name in files:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    shipped = json.loads((REPO / "gis_data" / "uijeongbu" / "manifest.json").read_text(encoding="utf-8"))
    built = json.loads((outs[0] / "manifest.json").read_text(encoding="utf-8"))
    assert {k: v["features"] for k, v in built["layers"].items()} == {
        k: v["features"] for k, v in shipped["layers"].items()
    }
    # layers made without planar noding, and the manifest (with its hydrology), match the shipped
    # files byte for byte; the others depend on the GEOS version's noding order, so only their
    # counts are compared above
    for name in ("boundary.geojson", "dongs.geojson", "streams.geojson", "facilities.geojson", "manifest.json"):
        assert (outs[0] / name).read_bytes() == (REPO / "gis_data" / "uijeongbu" / name).read_bytes(), name


def test_export_renames_a_fid_column(tmp_path, dataset_copy):
    """QGIS exports often carry an "fid" attribute, which GeoPackage reserves."""
    from twin import load_city
    from twin.gis_export import export_gpkg

    data = json.loads((dataset_copy / "slopes.geojson").read_text(encoding="utf-8"))
    for i, f in enumerate(data["features"]):
        f["properties"]["fid"] = f"x{i}"
    (dataset_copy / "slopes.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "x.gpkg"
    export_gpkg(load_city(dataset_copy), out)
    assert "fid_src" in pyogrio.read_dataframe(out, layer="slopes").columns


def test_outputs_refuse_special_files_and_bad_bbox(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["gis", "export", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "not a regular file" in res.output
    res = runner.invoke(main, ["gis", "map", "--out", str(tmp_path / "m.png"), "--bbox", "0", "0", "nan", "1"])
    assert res.exit_code == 2 and "bbox must be finite" in res.output


def test_map_png_is_written(tmp_path):
    out = tmp_path / "map.png"
    res = CliRunner().invoke(main, ["gis", "map", "--out", str(out), "--bbox", "203800", "570000", "205800", "572000"])
    assert res.exit_code == 0, res.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 600 and height > 600
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]  # no temp file left behind
