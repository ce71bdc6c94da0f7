"""Read an open-data package back into a database: the whole package validated first (each problem
names the file, the row and the field), then written in one transaction under new ids. See
:mod:`twin.proposals.opendata`."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..errors import ProposalError
from .package_format import (
    DESCRIPTOR,
    KEY_PATTERN,
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    MAX_SHORT,
    PACKAGE_FORMAT,
    PACKAGE_VERSION,
    PSEUDONYM,
    TABLE,
    TABLES,
    UTC_TIME,
    Table,
    dataset_of,
    label_problem,
    local_scenario,
    unescape_cell,
)
from .records import STATUSES, Comment, Evaluation, Proposal, Vote
from .store import ProposalStore, check_change, text_problems


@dataclass
class _Package:
    """A validated package: typed rows of each table (package ids), and the problems found."""

    problems: list[str] = field(default_factory=list)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def import_package(store: ProposalStore, folder: Path) -> dict[str, Any]:
    """Add the proposals of the package in ``folder`` to ``store``, under new ids.

    The whole package is validated first; any problem refuses it (:class:`~twin.errors.ProposalError`,
    one line per problem naming the file, the row (spreadsheet numbering: the header is row 1) and the
    field, never the content). Then everything is written in one transaction: a failure leaves the
    database as it was. Returns counts (proposals, comments, votes, evaluations, kpi_rows), ``ids``
    (package proposal id -> new database id) and ``scenarios_not_here`` (scenario names kept as text
    because this machine has no such shipped scenario; their change could not be checked)."""
    pkg = read_package(Path(folder))
    if pkg.problems:
        raise ProposalError(_capped(pkg.problems))
    ids: dict[int, int] = {}
    groups = _groups(pkg)
    with store.transaction() as s:
        for p in pkg.proposals:
            ids[p["proposal_id"]] = _add_proposal(s, pkg, p, groups)
    return {"proposals": len(pkg.proposals), "comments": len(pkg.comments), "votes": len(pkg.votes),
            "evaluations": len(pkg.runs), "kpi_rows": len(pkg.kpis), "ids": ids,
            "scenarios_not_here": sorted(set(pkg.unresolved))}


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more problems"]


def _groups(pkg: _Package) -> dict[str, dict[int, list[dict[str, Any]]]]:
    """The package's comments, votes and runs by proposal id, and its KPI rows by evaluation id (in
    package order), made once: an import costs in proportion to its rows."""
    out: dict[str, dict[int, list[dict[str, Any]]]] = {k: defaultdict(list)
                                                       for k in ("comments", "votes", "runs", "kpis")}
    for name, rows, key in (("comments", pkg.comments, "proposal_id"), ("votes", pkg.votes, "proposal_id"),
                            ("runs", pkg.runs, "proposal_id"), ("kpis", pkg.kpis, "evaluation_id")):
        for r in rows:
            out[name][r[key]].append(r)
    return out


def _add_proposal(s: Session, pkg: _Package, p: dict[str, Any], groups: dict[str, dict[int, list]]) -> int:
    """One proposal with its comments, votes and evaluations (in package order); its new id."""
    rec = Proposal(title_ko=p["title_ko"], title_en=p["title_en"], description_ko=p["description_ko"],
                   description_en=p["description_en"], author=p["author"], author_public=p["author_public"],
                   status=p["status"],
                   scenario=p["scenario"], overrides=p["overrides"], dataset_patch=p["dataset_patch"],
                   created_at=p["created_at"], updated_at=p["updated_at"])
    s.add(rec)
    s.flush()
    new_id = int(rec.id)
    pid = p["proposal_id"]
    _add_comments(s, new_id, groups["comments"].get(pid, []))
    _add_votes(s, new_id, groups["votes"].get(pid, []))
    for r in groups["runs"].get(pid, []):
        rows = groups["kpis"].get(r["evaluation_id"], [])
        kpis: dict[str, Any] = {"baseline": {k["column"]: k["baseline"] for k in rows},
                                "proposal": {k["column"]: k["proposal"] for k in rows},
                                "overrides": r["overrides"], "dataset_patch": r["dataset_patch"]}
        if r["scenario"]:
            kpis["scenario"] = r["scenario"]
        if r["sweep"]:
            kpis["sweep"] = r["sweep"]
        for which in ("baseline", "proposal"):
            if r[f"{which}_runs"] is not None:
                kpis[f"{which}_runs"] = r[f"{which}_runs"]
            if any(k[f"{which}_p95"] is not None for k in rows):
                kpis[f"{which}_p95"] = {k["column"]: k[f"{which}_p95"] for k in rows}
        s.add(Evaluation(proposal_id=new_id, kind=r["kind"], baseline_key=r["baseline_key"],
                         proposal_key=r["proposal_key"], kpis=kpis, created_at=r["created_at"]))
        s.flush()
    return new_id


def _add_comments(s: Session, proposal_id: int, comments: list[dict[str, Any]]) -> None:
    for c in comments:
        s.add(Comment(proposal_id=proposal_id, participant=c["participant"], public_name=c["public_name"],
                      text=c["text"], created_at=c["created_at"]))
        s.flush()  # ids in package order


def _add_votes(s: Session, proposal_id: int, votes: list[dict[str, Any]]) -> None:
    for v in votes:
        s.add(Vote(proposal_id=proposal_id, participant=v["participant"], value=v["value"],
                   created_at=v["created_at"]))
        s.flush()


def read_package(folder: Path) -> _Package:
    """Read and validate a package folder: typed rows and every problem (nothing written)."""
    pkg = _Package()
    if not folder.is_dir():
        pkg.problems.append(f"{folder}: got no folder: expected an open-data package folder")
        return pkg
    pkg.problems += _descriptor_problems(folder)
    if pkg.problems:
        return pkg
    tables = {t.name: _read_table(folder, t, pkg.problems) for t in TABLES}
    if pkg.problems:
        return pkg
    pkg.proposals = _rows(tables["proposals"], "proposals", _proposal_row, pkg)
    pkg.comments = _rows(tables["comments"], "comments", _comment_row, pkg)
    pkg.votes = _rows(tables["votes"], "votes", _vote_row, pkg)
    pkg.runs = _rows(tables["evaluation_runs"], "evaluation_runs", _run_row, pkg)
    pkg.kpis = _rows(tables["evaluations"], "evaluations", _kpi_row, pkg)
    if not pkg.problems:
        pkg.problems += _cross_problems(pkg)
    if not pkg.problems:
        pkg.problems += _change_problems(pkg)
    return pkg


def _descriptor_problems(folder: Path) -> list[str]:
    path = folder / DESCRIPTOR
    expected = f"the descriptor of a twin open-data package ({PACKAGE_FORMAT})"
    if not path.is_file():
        return [f"{DESCRIPTOR}: got no file: expected {expected}"]
    if path.stat().st_size > MAX_FILE_BYTES:
        return [f"{DESCRIPTOR}: got {path.stat().st_size} bytes: expected at most {MAX_FILE_BYTES}"]
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"{DESCRIPTOR}: got text that is not JSON: expected {expected}"]
    mark = meta.get("twin:package") if isinstance(meta, dict) else None
    if not isinstance(mark, dict) or mark.get("format") != PACKAGE_FORMAT:
        return [f"{DESCRIPTOR}: twin:package.format: got another package: expected {expected}"]
    version = mark.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= PACKAGE_VERSION:
        return [f"{DESCRIPTOR}: twin:package.version: got an unknown version: expected 1 to {PACKAGE_VERSION} "
                "(a newer package needs a newer twin)"]
    return []


def _read_table(folder: Path, t: Table, problems: list[str]) -> list[list[str]]:
    """The data rows of one CSV (header checked); problems appended."""
    path = folder / t.path
    if not path.is_file():
        problems.append(f"{t.path}: got no file: expected the {t.title_en.lower()} table")
        return []
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problems.append(f"{t.path}: got {size} bytes: expected at most {MAX_FILE_BYTES}")
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except UnicodeDecodeError:
        problems.append(f"{t.path}: got bytes that are not UTF-8: expected UTF-8 CSV")
        return []
    except csv.Error:
        problems.append(f"{t.path}: got text that is not CSV: expected comma-separated values (RFC 4180)")
        return []
    if not rows or rows[0] != t.header:
        problems.append(f"{t.path} row 1: header: got other columns: expected {','.join(t.header)}")
        return []
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(t.header):
            problems.append(f"{t.path} row {i}: got {len(row)} cells: expected {len(t.header)}")
    return rows[1:] if not problems else []


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(value: Any) -> bool:
    """Whether every number inside a JSON value is finite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


class _Cells:
    """One CSV row being read: typed values by column, and the problems of its cells."""

    def __init__(self, table: str, row: int, cells: list[str]) -> None:
        self.where = f"{table}.csv row {row}"
        self.cells = dict(zip(TABLE[table].header, cells, strict=True))
        self.problems: list[str] = []

    def bad(self, column: str, got: str, expected: str) -> None:
        self.problems.append(f"{self.where}: {column}: got {got}: expected {expected}")

    def text(self, column: str, limit_key: str | None = None, *, empty_ok: bool = False, limit: int = 0) -> str:
        value = unescape_cell(self.cells[column])
        if limit_key is not None:
            self.problems += [f"{self.where}: {line}" for line in text_problems(column, value, limit_key,
                                                                                empty_ok=empty_ok)]
        elif len(value) > limit:
            self.bad(column, f"{len(value)} characters", f"at most {limit}")
        elif any(ord(c) < 32 and c not in "\n\t" for c in value):
            self.bad(column, "a control character", "text")
        elif not value and not empty_ok:
            self.bad(column, "nothing", "text")
        return value

    def integer(self, column: str, low: int = 1, high: int = 2**31 - 1) -> int:
        raw = self.cells[column]
        if not re.fullmatch(r"-?[0-9]{1,10}", raw) or not low <= int(raw) <= high:
            self.bad(column, "something else", f"a whole number from {low} to {high}")
            return low
        return int(raw)

    def optional_integer(self, column: str) -> int | None:
        return None if self.cells[column] == "" else self.integer(column, 0)

    def number(self, column: str) -> float | None:
        raw = self.cells[column]
        if raw == "":
            return None
        try:
            x = float(raw)
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or len(raw) > 40:
            self.bad(column, "something else", "a finite number or nothing")
            return None
        return x

    def boolean(self, column: str) -> bool:
        raw = self.cells[column]
        if raw not in ("true", "false"):
            self.bad(column, "something else", "true or false")
        return raw == "true"

    def time(self, column: str) -> datetime:
        raw = self.cells[column]
        try:
            if not UTC_TIME.match(raw):
                raise ValueError
            return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            self.bad(column, "something else", "a UTC time YYYY-MM-DDTHH:MM:SSZ")
            return datetime(1970, 1, 1)

    def json_value(self, column: str, kind: type) -> Any:
        raw = unescape_cell(self.cells[column])
        try:
            value = json.loads(raw, parse_constant=_no_constant) if len(raw) <= 100_000 else None
        except (ValueError, RecursionError):
            value = None
        if not _finite(value):  # 1e999 reads as infinity; no database stores it as JSON
            value = None
        if not isinstance(value, kind):
            self.bad(column, "something else", f"JSON {'list' if kind is list else 'object'}")
            return kind()
        return value

    def overrides(self, column: str) -> list[str]:
        value = self.json_value(column, list)
        if not all(isinstance(x, str) and 0 < len(x) <= MAX_SHORT["override"] for x in value):
            self.bad(column, "something else", "a JSON list of \"key=value\" texts")
            return []
        return value

    def scenario(self, column: str, *, empty_ok: bool = False) -> str:
        raw = unescape_cell(self.cells[column])
        if empty_ok and raw == "":
            return raw
        problem = label_problem(raw)
        if problem:
            self.bad(column, "something else", problem)
        return raw


def _rows(rows: list[list[str]], table: str, parse: Any, pkg: _Package) -> list[dict[str, Any]]:
    out = []
    for i, cells in enumerate(rows, start=2):
        c = _Cells(table, i, cells)
        value = parse(c)
        pkg.problems += c.problems
        value["row"] = i
        out.append(value)
    return out


def _proposal_row(c: _Cells) -> dict[str, Any]:
    out: dict[str, Any] = {"proposal_id": c.integer("proposal_id"),
           "title_ko": c.text("title_ko", "title"), "title_en": c.text("title_en", "title"),
           "description_ko": c.text("description_ko", "description", empty_ok=True),
           "description_en": c.text("description_en", "description", empty_ok=True),
           "author": c.text("author", "author"), "author_public": c.boolean("author_public"),
           "status": c.cells["status"], "scenario": c.scenario("scenario"),
           "overrides": c.overrides("overrides"), "dataset_patch": c.json_value("dataset_patch", dict),
           "created_at": c.time("created_at"), "updated_at": c.time("updated_at"),
           "votes_for": c.integer("votes_for", 0), "votes_against": c.integer("votes_against", 0),
           "n_comments": c.integer("n_comments", 0)}
    if out["status"] not in STATUSES:
        c.bad("status", "an unknown status", f"one of {', '.join(STATUSES)}")
    if not out["author_public"] and not PSEUDONYM.match(out["author"]):
        c.bad("author", "a name without consent (author_public false)",
              "a pseudonym such as '참여자 1 / participant 1'")
    return out


def _comment_row(c: _Cells) -> dict[str, Any]:
    out: dict[str, Any] = {"proposal_id": c.integer("proposal_id"), "comment_id": c.integer("comment_id"),
           "public_name": c.boolean("public_name"), "participant": c.text("participant", "participant"),
           "text": c.text("text", "comment"), "created_at": c.time("created_at")}
    if not out["public_name"] and not PSEUDONYM.match(out["participant"]):
        c.bad("participant", "a name without consent (public_name false)",
              "a pseudonym such as '참여자 1 / participant 1'")
    return out


def _vote_row(c: _Cells) -> dict[str, Any]:
    out: dict[str, Any] = {"proposal_id": c.integer("proposal_id"), "participant": c.text("participant", "participant"),
           "value": c.integer("value", -1, 1), "created_at": c.time("created_at")}
    if not PSEUDONYM.match(out["participant"]):
        c.bad("participant", "a name", "a pseudonym such as '참여자 1 / participant 1' (votes carry no names)")
    if out["value"] == 0:
        c.bad("value", "0", "1 (for) or -1 (against)")
    return out


def _run_row(c: _Cells) -> dict[str, Any]:
    out: dict[str, Any] = {"proposal_id": c.integer("proposal_id"), "evaluation_id": c.integer("evaluation_id"),
           "kind": c.text("kind", limit=MAX_SHORT["kind"]), "baseline_key": c.text("baseline_key", limit=64),
           "proposal_key": c.text("proposal_key", limit=64), "scenario": c.scenario("scenario", empty_ok=True),
           "overrides": c.overrides("overrides"), "dataset_patch": c.json_value("dataset_patch", dict),
           "sweep": c.scenario("sweep", empty_ok=True), "baseline_runs": c.optional_integer("baseline_runs"),
           "proposal_runs": c.optional_integer("proposal_runs"), "created_at": c.time("created_at")}
    for key in ("baseline_key", "proposal_key"):
        if not KEY_PATTERN.match(out[key]):
            c.bad(key, "something else", "a run folder's content key (letters, digits, . _ -)")
    return out


def _kpi_row(c: _Cells) -> dict[str, Any]:
    for column in ("name_ko", "name_en", "unit"):
        c.text(column, limit=MAX_SHORT["words"], empty_ok=True)
    if c.cells["better"] not in ("", "lower", "higher"):
        c.bad("better", "something else", "lower, higher or nothing")
    return {"proposal_id": c.integer("proposal_id"), "evaluation_id": c.integer("evaluation_id"),
            "column": c.text("column", limit=MAX_SHORT["column"]), "baseline": c.number("baseline"),
            "proposal": c.number("proposal"), "baseline_p95": c.number("baseline_p95"),
            "proposal_p95": c.number("proposal_p95")}


def _duplicates(rows: Iterable[dict[str, Any]], key: Any) -> Iterator[dict[str, Any]]:
    seen: set[Any] = set()
    for r in rows:
        k = key(r)
        if k in seen:
            yield r
        seen.add(k)


def _cross_problems(pkg: _Package) -> list[str]:
    """Problems between rows and files: unique ids, references, one vote per participant, counts."""
    out = [f"proposals.csv row {r['row']}: proposal_id: got a number used above: expected a new number"
           for r in _duplicates(pkg.proposals, lambda r: r["proposal_id"])]
    out += [f"comments.csv row {r['row']}: comment_id: got a number used above: expected a new number"
            for r in _duplicates(pkg.comments, lambda r: r["comment_id"])]
    out += [f"evaluation_runs.csv row {r['row']}: evaluation_id: got a number used above: expected a new number"
            for r in _duplicates(pkg.runs, lambda r: r["evaluation_id"])]
    out += [f"votes.csv row {r['row']}: participant: got a second vote on this proposal: expected one per "
            "participant and proposal" for r in _duplicates(pkg.votes, lambda r: (r["proposal_id"], r["participant"]))]
    out += [f"evaluations.csv row {r['row']}: column: got a column listed above for this evaluation: expected "
            "one row per column" for r in _duplicates(pkg.kpis, lambda r: (r["evaluation_id"], r["column"]))]
    known = {p["proposal_id"] for p in pkg.proposals}
    for name, rows in (("comments", pkg.comments), ("votes", pkg.votes), ("evaluation_runs", pkg.runs)):
        out += [f"{name}.csv row {r['row']}: proposal_id: got a number not in proposals.csv: expected a proposal "
                "of the package" for r in rows if r["proposal_id"] not in known]
    runs = {r["evaluation_id"]: r["proposal_id"] for r in pkg.runs}
    out += [f"evaluations.csv row {r['row']}: evaluation_id: got a number not in evaluation_runs.csv of this "
            "proposal: expected an evaluation of the package" for r in pkg.kpis
            if runs.get(r["evaluation_id"]) != r["proposal_id"]]
    tally: Counter[tuple[int, str]] = Counter()
    for v in pkg.votes:
        tally[(v["proposal_id"], "votes_for" if v["value"] == 1 else "votes_against")] += 1
    for c in pkg.comments:
        tally[(c["proposal_id"], "n_comments")] += 1
    for p in pkg.proposals:
        counts = {k: tally[(p["proposal_id"], k)] for k in ("votes_for", "votes_against", "n_comments")}
        for column, n in counts.items():
            if p[column] != n:
                src = "comments.csv" if column == "n_comments" else "votes.csv"
                out.append(f"proposals.csv row {p['row']}: {column}: got {p[column]}: expected {n} (the rows of {src})")
    return out


def _change_problems(pkg: _Package) -> list[str]:
    """Each proposal's change, checked as a run would check it when this machine has its scenario;
    a scenario this machine lacks is kept as its name (``unresolved``)."""
    from .patch import form_problems, is_empty, patch_problems

    out = []
    for p in pkg.proposals:
        where = f"proposals.csv row {p['row']}"
        out += [f"{where}: {_unquoted(line)}" for line in form_problems(p["dataset_patch"])]  # even if unresolved
        path = local_scenario(p["scenario"])
        if path is None:
            pkg.unresolved.append(p["scenario"])
            continue
        p["scenario"] = str(path)
        out += [f"{where}: overrides: {_unquoted(line.removeprefix(f'{path}: '))}"  # no folder of this machine
                for line in check_change(str(path), p["overrides"])]
        if not is_empty(p["dataset_patch"]) and not out:
            dataset = dataset_of(str(path))
            if dataset is not None:
                out += [f"{where}: {_unquoted(line)}" for line in patch_problems(p["dataset_patch"], dataset)]
    return out


def _unquoted(line: str) -> str:
    """A problem line without the value it quotes from the package ("got X: expected" -> "got another
    value: expected"): an import names the file, row and field, never the content."""
    return re.sub(r": got .*?: expected", ": got another value: expected", line, count=1)
