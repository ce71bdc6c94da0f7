"""Shared fixtures. Tests never touch the network; the reference data is optional."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from twin.city import DEFAULT_DATASET, load_city

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference-data"


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
