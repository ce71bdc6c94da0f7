"""Identical run folders of every shipped scenario, recorded before a refactoring (issue 14): the
bytes of every file, and the schema and rows of every Parquet table.

    python tests/golden_runs.py record   # writes tests/data/golden_runs.json (do this on the code before)
    python tests/golden_runs.py check    # runs every scenario again and lists what differs

``tests/test_golden_runs.py`` runs the check in the suite. A refactoring that changes no behaviour
keeps every hash; a change that is meant to alter results re-records them in the same commit and
says why.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "tests" / "data" / "golden_runs.json"


def shipped_scenarios() -> list[Path]:
    """Every scenario YAML under scenarios/ (policies, sweep files and data files are not scenarios)."""
    out = []
    for p in sorted((REPO / "scenarios").rglob("*.yaml")):
        if {"policies", "sweeps"} & set(p.relative_to(REPO / "scenarios").parts):
            continue
        out.append(p)
    return out


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes; of a Parquet table's schema and rows, since the file's own
    metadata names the pyarrow version that wrote it (which CI may update); of the resolved
    scenario with the checkout's folder written as ``$REPO`` (it records the dataset's absolute
    path, which differs between clones)."""
    if path.name == "scenario.resolved.yaml":
        return hashlib.sha256(path.read_bytes().replace(str(REPO).encode(), b"$REPO")).hexdigest()
    if path.suffix != ".parquet":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    text = json.dumps([str(table.schema.remove_metadata()), table.to_pylist()], default=repr, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def run_hashes(scenario: Path, out: Path) -> dict[str, str]:
    """The hash of every file of the scenario's run folder (written to ``out``)."""
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    run_scenario(load_scenario(scenario), out=out)
    return {p.name: file_hash(p) for p in sorted(out.iterdir()) if p.is_file()}


def record_all() -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        return {
            str(s.relative_to(REPO)): run_hashes(s, Path(tmp) / s.stem) for s in shipped_scenarios()
        }


def main(argv: list[str]) -> int:
    what = argv[1] if len(argv) > 1 else "check"
    if what == "record":
        data = record_all()
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        tmp = RECORD.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(RECORD)
        print(f"recorded {len(data)} scenarios in {RECORD.relative_to(REPO)}")
        return 0
    want = json.loads(RECORD.read_text(encoding="utf-8"))
    got = record_all()
    bad = [f"{s}: {f}" for s in sorted(want) for f in sorted(set(want[s]) | set(got.get(s, {})))
           if want[s].get(f) != got.get(s, {}).get(f)]  # fmt: skip
    for line in bad:
        print("differs:", line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
