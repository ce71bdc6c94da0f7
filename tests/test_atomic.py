"""Atomic outputs: nothing half-written, nobody's folder replaced, no input deleted."""

from __future__ import annotations

import pytest

from twin.atomic import atomic_dir, atomic_file, write_text_atomic
from twin.errors import OutputError


def test_atomic_file_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "summary.json"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("crash")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_atomic_dir_replaces_only_a_dataset(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError), atomic_dir(folder):
        pass
    with pytest.raises(OutputError, match="not an output of this tool"), atomic_dir(folder, overwrite=True):
        pass
    assert (folder / "precious.txt").read_text(encoding="utf-8") == "keep me"

    ds = tmp_path / "ds"
    with atomic_dir(ds) as tmp:
        (tmp / "manifest.json").write_text("{}", encoding="utf-8")
    with atomic_dir(ds, overwrite=True) as tmp:
        (tmp / "manifest.json").write_text('{"v": 2}', encoding="utf-8")
    assert (ds / "manifest.json").read_text(encoding="utf-8") == '{"v": 2}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "photos"]


def test_atomic_dir_refuses_to_swallow_its_input(tmp_path):
    ds = tmp_path / "ds"
    ds.mkdir()
    (ds / "manifest.json").write_text("{}", encoding="utf-8")
    src = ds / "roads.shp"
    src.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="contains the input"), atomic_dir(ds, overwrite=True, inputs=[src]):
        pass
    assert src.exists()


def test_atomic_dir_accepts_the_current_directory(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with atomic_dir(".") as tmp:
        (tmp / "manifest.json").write_text("{}", encoding="utf-8")
    assert (work / "manifest.json").is_file()
