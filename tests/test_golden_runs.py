"""Every shipped scenario gives the same run folder as recorded before the refactoring of issue 14
(tests/golden_runs.py; a change meant to alter results re-records the hashes and says why)."""

from __future__ import annotations

import json

import pytest
from golden_runs import RECORD, REPO, run_hashes, shipped_scenarios

RECORDED = json.loads(RECORD.read_text(encoding="utf-8"))


def test_every_shipped_scenario_is_recorded():
    assert sorted(RECORDED) == [str(p.relative_to(REPO)) for p in shipped_scenarios()]


@pytest.mark.parametrize("scenario", sorted(RECORDED))
def test_the_run_folder_is_as_recorded(scenario, tmp_path):
    got = run_hashes(REPO / scenario, tmp_path / "run")
    want = RECORDED[scenario]
    differs = sorted(f for f in set(want) | set(got) if want.get(f) != got.get(f))
    assert not differs, f"{scenario}: {', '.join(differs)} differ from the recording"
