"""Every shipped scenario gives the same run folder as recorded before the refactoring of issue 14
(tests/golden_runs.py; a change meant to alter results re-records the hashes and says why), and
no evacuation in it beats its lower bound or takes more than 1.5 × it (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden_runs import RECORD, REPO, run_hashes, shipped_scenarios

RECORDED = json.loads(RECORD.read_text(encoding="utf-8"))
MAX_RATIO = 1.5
"""Simulated evacuation time over its lower bound, per zone, on the shipped scenarios (issue 15)."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each shipped scenario's run folder and hashes, run once for the tests of this module."""
    done: dict[str, tuple[Path, dict[str, str]]] = {}

    def get(scenario: str) -> tuple[Path, dict[str, str]]:
        if scenario not in done:
            out = tmp_path_factory.mktemp("golden") / "run"
            done[scenario] = (out, run_hashes(REPO / scenario, out))
        return done[scenario]

    return get


def test_every_shipped_scenario_is_recorded():
    assert sorted(RECORDED) == [str(p.relative_to(REPO)) for p in shipped_scenarios()]


@pytest.mark.parametrize("scenario", sorted(RECORDED))
def test_the_run_folder_is_as_recorded(scenario, runs):
    _, got = runs(scenario)
    want = RECORDED[scenario]
    differs = sorted(f for f in set(want) | set(got) if want.get(f) != got.get(f))
    assert not differs, f"{scenario}: {', '.join(differs)} differ from the recording"


@pytest.mark.parametrize("scenario", sorted(RECORDED))
def test_no_shipped_evacuation_beats_its_bound_or_lags_it_by_half(scenario, runs):
    out, _ = runs(scenario)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for zone, b in summary.get("crowd", {}).get("evacuation_lower_bound_s", {}).items():
        assert b["simulated_s"] is not None, f"{scenario}: {zone}: not everyone got out"
        assert b["bound_s"] <= b["simulated_s"], f"{scenario}: {zone}: the simulation beat its bound"
        assert b["ratio"] <= MAX_RATIO, f"{scenario}: {zone}: simulated {b['ratio']} x the bound"
