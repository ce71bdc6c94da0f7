"""Shared fixtures. Tests never touch the network; the reference data is optional."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from twin.city import DEFAULT_DATASET, load_city

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Tests use a cache of their own, never the user's ~/.cache (subprocesses inherit it)."""
    old = os.environ.get("TWIN_CACHE_DIR")
    os.environ["TWIN_CACHE_DIR"] = str(tmp_path_factory.mktemp("twin-cache"))
    yield
    if old is None:
        os.environ.pop("TWIN_CACHE_DIR", None)
    else:
        os.environ["TWIN_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def city():
    """The shipped Uijeongbu dataset, loaded once."""
    return load_city()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference-data beside the repository; skipped with a reason when absent."""
    if not (REFERENCE / "README.md").is_file():
        pytest.skip(f"reference data not found at {REFERENCE}: checks against the real data need ../shared")
    return REFERENCE


@pytest.fixture
def dataset_copy(tmp_path) -> Path:
    """A writable copy of the shipped dataset, for tests that break it."""
    dst = tmp_path / "uijeongbu"
    shutil.copytree(DEFAULT_DATASET, dst)
    return dst


@pytest.fixture(scope="session")
def walkers_run(city, tmp_path_factory):
    """The evening-walkers flash flood (flood + crowd), run once into a run folder and read back."""
    from twin.results import read_run_folder
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    out = tmp_path_factory.mktemp("runs") / "walkers"
    run_scenario(load_scenario(REPO / "scenarios" / "flash_flood_evening_walkers.yaml"), out=out, city=city)
    return read_run_folder(out)
