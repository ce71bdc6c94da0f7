"""Write the open-data package: every proposal, its evaluations and its feedback, from the database
to a folder (atomically: built beside it, then renamed in). See :mod:`twin.proposals.opendata`."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..atomic import atomic_dir
from ..errors import OutputError, ProposalError
from .package_format import (
    DESCRIPTOR,
    LICENSE_TEXT,
    PACKAGE_FILES,
    PACKAGE_FORMAT,
    TABLES,
    Table,
    count_text,
    dataset_of,
    descriptor,
    escape_cell,
    json_text,
    number_text,
    pseudonym,
    readme_text,
    scenario_label,
    utc_text,
)
from .records import Evaluation, Proposal, Vote
from .store import ProposalStore


@dataclass
class _Rows:
    """The package's tables as rows of cells (text), and the changes' features."""

    tables: dict[str, list[list[str]]] = field(default_factory=lambda: {t.name: [] for t in TABLES})
    features: list[dict[str, Any]] = field(default_factory=list)
    unplaced: int = 0


def export_package(store: ProposalStore, folder: Path) -> dict[str, int]:
    """Write every proposal of ``store`` as an open-data package in ``folder`` (see the module
    docstring); returns counts: proposals, comments, votes, evaluations, kpi_rows, changes (features
    in changes.geojson) and unplaced_changes (patches whose dataset could not be read).

    ``folder`` may be missing, empty or an earlier package of ours (replaced); anything else is
    refused (:class:`~twin.errors.ProposalError` naming it). Written atomically: a failure leaves
    ``folder`` as it was."""
    folder = Path(folder)
    _check_target(folder)
    with store.transaction() as s:
        rows = _collect(s)
    files = _package_files(rows)
    try:
        with atomic_dir(folder, overwrite=True, marker=DESCRIPTOR) as tmp:
            for name, data in files.items():
                _write_file(tmp / name, data)
    except (OutputError, FileExistsError) as exc:
        raise ProposalError(f"{folder}: {exc}") from None
    t = rows.tables
    return {"proposals": len(t["proposals"]), "comments": len(t["comments"]), "votes": len(t["votes"]),
            "evaluations": len(t["evaluation_runs"]), "kpi_rows": len(t["evaluations"]),
            "changes": len(rows.features), "unplaced_changes": rows.unplaced}


def _write_file(path: Path, data: bytes) -> None:
    """One file of the package (inside the temporary folder)."""
    path.write_bytes(data)


def _check_target(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise ProposalError(f"{folder}: exists and is not a folder: expected a folder for the open-data package")
    if folder.is_dir() and any(folder.iterdir()) and not _is_ours(folder):
        raise ProposalError(f"{folder}: is not empty and is not an open-data package of the twin: "
                            "expected a new or empty folder (refusing to replace it)")
    if folder.is_dir() and _is_ours(folder):
        added = sorted(set(os.listdir(folder)) - PACKAGE_FILES)
        if added:  # replacing the package would delete them
            raise ProposalError(f"{folder}: holds {len(added)} file(s) that are not the package's: expected only "
                                "an earlier package (move them away, or export to another folder)")


def _is_ours(folder: Path) -> bool:
    try:
        meta = json.loads((folder / DESCRIPTOR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("twin:package"), dict) \
        and meta["twin:package"].get("format") == PACKAGE_FORMAT


def _collect(s: Session) -> _Rows:
    """Every proposal's rows, in package order (proposals by id; comments by id; votes by time)."""
    rows = _Rows()
    numbers: dict[str, int] = {}  # participant -> pseudonym number, by first pseudonymous appearance
    datasets: dict[str, Path | None] = {}
    n_comment = n_eval = 0
    for pid, p in enumerate(s.scalars(select(Proposal).order_by(Proposal.id)), start=1):
        author = p.author if p.author_public else pseudonym(numbers.setdefault(p.author, len(numbers) + 1))
        votes = list(s.scalars(select(Vote).where(Vote.proposal_id == p.id).order_by(Vote.created_at, Vote.id)))
        for c in p.comments:
            n_comment += 1
            shown = c.participant if c.public_name else pseudonym(numbers.setdefault(c.participant, len(numbers) + 1))
            rows.tables["comments"].append([str(pid), str(n_comment), escape_cell(shown),
                                            "true" if c.public_name else "false", escape_cell(c.text),
                                            utc_text(c.created_at)])
        for v in votes:
            shown = pseudonym(numbers.setdefault(v.participant, len(numbers) + 1))
            rows.tables["votes"].append([str(pid), escape_cell(shown), str(int(v.value)), utc_text(v.created_at)])
        rows.tables["proposals"].append([
            str(pid), escape_cell(p.title_ko), escape_cell(p.title_en), escape_cell(p.description_ko),
            escape_cell(p.description_en), escape_cell(author), "true" if p.author_public else "false", p.status,
            escape_cell(scenario_label(p.scenario)),
            escape_cell(json_text(list(p.overrides))), escape_cell(json_text(dict(p.dataset_patch or {}))),
            utc_text(p.created_at), utc_text(p.updated_at), str(sum(v.value == 1 for v in votes)),
            str(sum(v.value == -1 for v in votes)), str(len(p.comments))])
        for e in p.evaluations:
            n_eval += 1
            _evaluation_rows(rows, pid, n_eval, e)
        _change_features(rows, pid, p, datasets)
    return rows


def _evaluation_rows(rows: _Rows, pid: int, eid: int, e: Evaluation) -> None:
    """One evaluation: its row in evaluation_runs.csv and one row per KPI column in evaluations.csv."""
    from ..ensemble.kpis import measure_of

    kpis = e.kpis or {}
    base, prop = kpis.get("baseline") or {}, kpis.get("proposal") or {}
    rows.tables["evaluation_runs"].append([
        str(pid), str(eid), escape_cell(e.kind), escape_cell(e.baseline_key), escape_cell(e.proposal_key),
        escape_cell(scenario_label(str(kpis.get("scenario") or ""))) if kpis.get("scenario") else "",
        escape_cell(json_text(list(kpis.get("overrides") or []))),
        escape_cell(json_text(dict(kpis.get("dataset_patch") or {}))),
        escape_cell(scenario_label(str(kpis["sweep"]))) if kpis.get("sweep") else "",
        count_text(kpis.get("baseline_runs")), count_text(kpis.get("proposal_runs")), utc_text(e.created_at)])
    base_p95, prop_p95 = kpis.get("baseline_p95") or {}, kpis.get("proposal_p95") or {}
    for column in sorted(set(base) | set(prop)):
        m = measure_of(column)
        rows.tables["evaluations"].append([
            str(pid), str(eid), escape_cell(column), escape_cell(m.ko if m else ""), escape_cell(m.en if m else ""),
            escape_cell(m.unit if m else ""), (m.better or "") if m else "", number_text(base.get(column)),
            number_text(prop.get(column)), number_text(base_p95.get(column)), number_text(prop_p95.get(column))])


def _change_features(rows: _Rows, pid: int, p: Proposal, datasets: dict[str, Path | None]) -> None:
    """The proposal's device changes as GeoJSON features (WGS84), tagged with its package id."""
    from .patch import is_empty, patch_features

    if is_empty(p.dataset_patch):
        return
    if p.scenario not in datasets:
        datasets[p.scenario] = dataset_of(p.scenario)
    dataset = datasets[p.scenario]
    try:
        found = patch_features(p.dataset_patch, dataset) if dataset is not None else None
    except (OSError, KeyError, ValueError, TypeError):
        found = None
    if found is None:
        rows.unplaced += 1
        return
    for f in found:
        f["properties"] = {**f["properties"], "proposal_id": pid}
        rows.features.append(f)




def _csv_bytes(table: Table, body: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(table.header)
    w.writerows(body)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _package_files(rows: _Rows) -> dict[str, bytes]:
    """Every file of the package, name -> bytes (descriptor last, so a package is complete when it has one)."""
    files = {t.path: _csv_bytes(t, rows.tables[t.name]) for t in TABLES}
    changes = {"type": "FeatureCollection", "features": rows.features}
    files["changes.geojson"] = (json.dumps(changes, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
    files["README.md"] = readme_text().encode("utf-8")
    files["LICENSE"] = LICENSE_TEXT.encode("utf-8")
    files[DESCRIPTOR] = (json.dumps(descriptor(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return files

