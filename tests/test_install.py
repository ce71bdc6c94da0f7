"""The package installs anywhere: a wheel installed (not editable, without dependencies) into a
folder of its own runs the flagship scenario from the scenarios and dataset it ships, gives the
run folder the golden runs record, and offers the dataset builder's commands."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a wheel built and installed, and a run: about 30 s

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "data" / "golden_runs.json"
FLAGSHIP = "flash_flood_jungnangcheon.yaml"
SOURCES = ("twin", "sim_devices", "gis_data", "scenarios", "pyproject.toml", "README.md")


def _source_copy(dst: Path) -> Path:
    """The files the wheel is built from, copied (the build writes build/ and *.egg-info beside
    them, which must not land in the shared checkout), with stray files planted where a careless
    package-data pattern would pick them up."""
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("*.egg-info"))
        else:
            shutil.copy2(src, dst / name)
    strays = [
        dst / "scenarios" / "runs" / "old" / "summary.json",
        dst / "scenarios" / "__pycache__" / "x.cpython-311.pyc",
        dst / "gis_data" / "uijeongbu" / "__pycache__" / "x.cpython-311.pyc",
        dst / "gis_data" / "uijeongbu" / "notes.txt",
        dst / "scenarios" / "gates" / "scratch.yaml~",
    ]
    for f in strays:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("{}", encoding="utf-8")
    return dst


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A wheel of the checkout, installed with ``pip install --no-deps --target``: the folder."""
    tmp = tmp_path_factory.mktemp("install")
    src = _source_copy(tmp / "src")
    wheels = tmp / "wheels"
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)], cwd=tmp)
    (wheel,) = wheels.glob("uijeongbu_twin-*.whl")
    target = tmp / "target"
    _run([*pip, "install", "-q", "--no-deps", "--no-compile", "--target", str(target), str(wheel)], cwd=tmp)
    return target


def _python(target: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``python ARGS`` with only the installed folder on PYTHONPATH, in an unrelated folder."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(target)
    env["TWIN_CACHE_DIR"] = ""  # no cache shared with the checkout's runs: everything from the installed files
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_the_wheel_ships_the_datasets_and_scenarios_and_no_stray_file(installed):
    files = sorted(p.relative_to(installed).as_posix() for p in installed.rglob("*") if p.is_file())
    shipped = [f for f in files if f.startswith(("gis_data/", "scenarios/"))]
    for name in (REPO / "gis_data" / "uijeongbu").iterdir():
        assert f"gis_data/uijeongbu/{name.name}" in shipped, name
    for scenario in (REPO / "scenarios").rglob("*.yaml"):
        assert f"scenarios/{scenario.relative_to(REPO / 'scenarios').as_posix()}" in shipped, scenario
    assert "scenarios/data/rain_2020_08_03_approx.csv" in shipped
    assert "gis_data/verification/room/manifest.json" in shipped
    assert "gis_data/build/cli.py" in shipped  # the builder ships as a module
    strays = [f for f in shipped if "__pycache__" in f or "/runs/" in f or f.endswith((".pyc", ".txt", "~"))]
    assert strays == [], strays
    assert not any(f.startswith(("tests/", "build/", "benchmarks/")) for f in files)


def test_installed_wheel_runs_the_flagship_from_its_own_files(installed, tmp_path):
    """``python -m twin.cli run`` of the installed package's own flagship scenario, from an
    unrelated folder, gives the run folder the golden runs record: every file's hash, the resolved
    scenario's with the installed folder written as ``$REPO`` (the layout below it is the
    checkout's)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = (
        "import json, twin, twin.resources as r; "
        "print(json.dumps([twin.__file__, str(r.default_dataset()), str(r.shipped_scenarios())]))"
    )
    proc = _python(installed, elsewhere, "-c", probe)
    assert proc.returncode == 0, proc.stderr
    files = [Path(p) for p in json.loads(proc.stdout)]
    for f in files:  # the installed copy runs, not the editable checkout
        assert f.resolve().is_relative_to(installed.resolve()), (f, installed)
    scenario = files[2] / FLAGSHIP
    out = tmp_path / "run"
    proc = _python(installed, elsewhere, "-m", "twin.cli", "run", str(scenario), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr[-3000:]

    sys.path.insert(0, str(REPO / "tests"))
    try:
        from golden_runs import file_hash
    finally:
        sys.path.remove(str(REPO / "tests"))
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))[f"scenarios/{FLAGSHIP}"]
    got = {p.name: file_hash(p) for p in sorted(out.iterdir()) if p.is_file()}
    resolved = (out / "scenario.resolved.yaml").read_bytes()
    assert str(REPO).encode() not in resolved, "the run read the checkout's files"
    got["scenario.resolved.yaml"] = hashlib.sha256(resolved.replace(str(installed).encode(), b"$REPO")).hexdigest()
    assert sorted(got) == sorted(want)
    assert "summary.json" in got
    differs = [name for name in want if got[name] != want[name]]
    assert differs == [], differs


def test_installed_wheel_offers_the_builder_commands(installed, tmp_path):
    proc = _python(installed, tmp_path, "-m", "twin.cli", "gis", "build-default", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--reference" in proc.stdout and "--out" in proc.stdout
    # outside the development checkout there is no reference data: one line naming the folder
    proc = _python(installed, tmp_path, "-m", "twin.cli", "gis", "build-default", "--out", str(tmp_path / "ds"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "reference data not found: ../shared/reference-data" in proc.stderr
    assert not (tmp_path / "ds").exists()
    proc = _python(installed, tmp_path, "-m", "twin.cli", "gis", "build-verification", "--out", str(tmp_path / "v"))
    assert proc.returncode == 0, proc.stderr
    for name in ("corridor", "bottleneck", "room"):
        for f in (REPO / "gis_data" / "verification" / name).iterdir():
            assert (tmp_path / "v" / name / f.name).read_bytes() == f.read_bytes(), f


def test_the_wheel_registers_the_builder_under_twin_gis(installed):
    (info,) = installed.glob("uijeongbu_twin-*.dist-info")
    text = (info / "entry_points.txt").read_text(encoding="utf-8")
    section = text.split("[twin.gis_commands]")[1].split("[")[0]
    assert "build-default = gis_data.build.cli:build_default" in section, text
    assert "build-verification = gis_data.build.cli:build_verification" in section, text
