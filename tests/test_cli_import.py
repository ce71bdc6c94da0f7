"""The importers through the `twin` command line: a user's path from real data to a valid dataset."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_import_osm import osm_xml
from test_import_shp import write_roads, write_streams

from twin.cli import main


def test_import_osm_then_validate_and_info(tmp_path):
    src = tmp_path / "extract.osm"
    src.write_text(osm_xml(), encoding="utf-8")
    out = tmp_path / "osm-city"
    runner = CliRunner()
    res = runner.invoke(main, ["gis", "import-osm", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert runner.invoke(main, ["gis", "validate", "--data", str(out)]).exit_code == 0
    info = json.loads(runner.invoke(main, ["gis", "info", "--data", str(out), "--json"]).output)
    assert info["graph"]["components"] == 1 and info["layers"]["roads"] > 0
    # again without --overwrite: a clear error, exit 2, no traceback
    res = runner.invoke(main, ["gis", "import-osm", str(src), "--out", str(out)])
    assert res.exit_code == 2 and "error:" in res.output and "Traceback" not in res.output


def test_import_shp_with_crs_and_field_map(tmp_path):
    roads = write_roads(tmp_path, "EPSG:5174")
    streams = write_streams(tmp_path, "EPSG:5174")
    out = tmp_path / "shp-city"
    args = ["gis", "import-shp", "--roads", str(roads), "--streams", str(streams), "--out", str(out)]
    res = CliRunner().invoke(main, [*args, "--map", "roads.name=RN", "--crs", "EPSG:5174"])
    assert res.exit_code == 0, res.output
    assert CliRunner().invoke(main, ["gis", "validate", "--data", str(out)]).exit_code == 0
    res = CliRunner().invoke(main, [*args, "--overwrite", "--map", "roads-name"])
    assert res.exit_code == 2 and "expected LAYER.ATTR=FIELD" in res.output


def test_import_shp_out_named_like_a_layer_or_dot(tmp_path, monkeypatch):
    """--out streams or --out . : the output check looks at the input files, not at the layer names."""
    src = tmp_path / "src"
    src.mkdir()
    roads = write_roads(src, "EPSG:5174")
    streams = write_streams(src, "EPSG:5174")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = ["gis", "import-shp", "--roads", str(roads), "--streams", str(streams)]
    for out in ("streams", "roads"):
        res = CliRunner().invoke(main, [*args, "--out", out])
        assert res.exit_code == 0, res.output
        assert (work / out / "manifest.json").is_file()
    here = work / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    res = CliRunner().invoke(main, [*args, "--out", "."])
    assert res.exit_code == 0, res.output
    assert (here / "manifest.json").is_file()


def test_import_shp_refuses_an_output_holding_its_input_before_the_work(tmp_path, monkeypatch):
    """An --out that contains an input is refused before anything is read."""
    roads = write_roads(tmp_path, "EPSG:5174")
    streams = write_streams(tmp_path, "EPSG:5174")
    import twin.importers.shp as shp

    def no_reading(*args, **kwargs):
        raise AssertionError("the input was read before the output folder was checked")

    monkeypatch.setattr(shp, "_read", no_reading)
    monkeypatch.chdir(tmp_path)
    args = ["gis", "import-shp", "--roads", str(roads), "--streams", str(streams), "--out", "."]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "contains the input" in res.output, res.output
