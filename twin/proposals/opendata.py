"""Open data: every proposal, its evaluations and its feedback as a documented package, and back.

:func:`export_package` writes a folder (atomically: built beside it, then renamed in)::

    datapackage.json       Frictionless Data Package descriptor: every table's schema (the data dictionary)
    README.md              the data dictionary in Korean and English, the licence, how names are handled
    LICENSE                Creative Commons Attribution 4.0 (CC BY 4.0)
    proposals.csv          one row per proposal
    comments.csv           one row per comment
    votes.csv              one row per vote (always pseudonymous)
    evaluation_runs.csv    one row per evaluation (the runs of the proposal and its baseline)
    evaluations.csv        one row per evaluation and KPI column (long format): baseline vs proposal
    changes.geojson        the devices each proposal adds, moves or removes (WGS84 lon/lat points)

Names: a commenter's name is written only on the comments where they consented to publish it
(``public_name``); everywhere else (their other comments, every vote) they are a pseudonym
``참여자 N / participant N``, numbered by first appearance and the same for one person throughout
the package. Ids are the package's own numbers (1, 2, ...), not the database's.

CSV: UTF-8 with a byte-order mark (so Excel in Korea opens it as UTF-8), comma-separated, CRLF
line ends (RFC 4180). A text cell that starts with ``= + - @``, a tab, a carriage return or ``'``
gets a leading ``'`` so no spreadsheet runs it as a formula (CSV injection); the import removes it.

The same database content gives the same bytes: rows are sorted, JSON keys are sorted and no file
holds the time of the export. :func:`import_package` validates the whole package first (every
problem names the file, the row and the field, never the content) and then writes it in one
transaction, under new ids.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..atomic import atomic_dir
from ..errors import OutputError, ProposalError
from .records import STATUSES, Comment, Evaluation, Proposal, Vote
from .store import ProposalStore, check_change, text_problems

PACKAGE_FORMAT = "uijeongbu-twin/proposals-open-data"
"""The value of ``twin:package.format`` in datapackage.json: what marks a package as ours."""
PACKAGE_VERSION = 1
"""The layout version this code writes (and the newest it reads)."""
DESCRIPTOR = "datapackage.json"
LICENSE_NAME = "CC-BY-4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
"""First characters that make a spreadsheet read a cell as a formula (and ``'``, the escape itself)."""
PSEUDONYM = re.compile(r"^참여자 ([1-9][0-9]{0,8}) / participant \1$")
MAX_FILE_BYTES = 64 * 2**20
"""Largest package file the import reads, bytes."""
MAX_PROBLEMS = 50
"""Most problems an import refusal lists (then: how many more)."""
MAX_SHORT = {"kind": 20, "key": 64, "column": 200, "words": 500, "override": 500}
"""Longest other texts accepted on import, characters."""
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_KEY = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


@dataclass(frozen=True)
class Column:
    """One field of a table: its name, Frictionless type (string, integer, number, boolean,
    datetime) and meaning in English and Korean."""

    name: str
    type: str
    en: str
    ko: str


@dataclass(frozen=True)
class Table:
    """One CSV file of the package and its columns."""

    name: str
    title_en: str
    title_ko: str
    columns: tuple[Column, ...]

    @property
    def path(self) -> str:
        return f"{self.name}.csv"

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


_PID = Column("proposal_id", "integer", "The proposal (its number in this package)", "제안 (이 자료 안의 번호)")
TABLES: tuple[Table, ...] = (
    Table("proposals", "Proposals", "제안", (
        Column("proposal_id", "integer", "Number of the proposal in this package (1, 2, ...)",
               "이 자료 안의 제안 번호 (1, 2, ...)"),
        Column("title_ko", "string", "Title in Korean", "제목 (한국어)"),
        Column("title_en", "string", "Title in English", "제목 (영어)"),
        Column("description_ko", "string", "Description in Korean", "설명 (한국어)"),
        Column("description_en", "string", "Description in English", "설명 (영어)"),
        Column("author", "string", "Who proposed it: the name they gave when they consented to publish it, else a "
               "pseudonym '참여자 N / participant N' (as in comments.csv)",
               "제안자: 공개에 동의한 경우 이름, 아니면 가명 '참여자 N / participant N' (comments.csv 와 같은 번호)"),
        Column("author_public", "boolean", "Whether author is the name the proposer consented to publish",
               "author 가 제안자가 공개에 동의한 이름인지"),
        Column("status", "string", f"Status: one of {', '.join(STATUSES)}",
               "상태: draft 초안, under_evaluation 평가 중, evaluated 평가됨, adopted 채택, rejected 기각"),
        Column("scenario", "string", "The scenario file the proposal changes (its name in the twin's scenarios, "
               "no folder of the server)", "제안이 바꾸는 시나리오 파일 (트윈 시나리오 폴더 안의 이름)"),
        Column("overrides", "string", "The change as scenario overrides: a JSON list of \"key=value\" lines",
               "시나리오 변경값: \"키=값\" 줄의 JSON 목록"),
        Column("dataset_patch", "string", "The change to the city's devices (add, move, remove): JSON",
               "시설 변경 (추가, 이동, 제거): JSON"),
        Column("created_at", "datetime", "When it was proposed (UTC)", "제안 시각 (UTC)"),
        Column("updated_at", "datetime", "When it last changed (UTC)", "마지막 수정 시각 (UTC)"),
        Column("votes_for", "integer", "Votes for (rows of votes.csv with value 1)", "찬성 수 (votes.csv 의 1)"),
        Column("votes_against", "integer", "Votes against (rows of votes.csv with value -1)",
               "반대 수 (votes.csv 의 -1)"),
        Column("n_comments", "integer", "Number of comments (rows of comments.csv)", "의견 수 (comments.csv 의 줄)"),
    )),
    Table("comments", "Comments", "의견", (
        _PID,
        Column("comment_id", "integer", "Number of the comment in this package", "이 자료 안의 의견 번호"),
        Column("participant", "string", "The commenter's name when they consented to publish it, else a "
               "pseudonym '참여자 N / participant N' (the same person has the same N throughout the package)",
               "공개에 동의한 경우 의견 작성자의 이름, 아니면 가명 '참여자 N / participant N' "
               "(같은 사람은 자료 전체에서 같은 N)"),
        Column("public_name", "boolean", "Whether participant is the name the commenter consented to publish",
               "participant 가 공개에 동의한 이름인지"),
        Column("text", "string", "The comment, as typed", "의견 (입력한 그대로)"),
        Column("created_at", "datetime", "When it was written (UTC)", "작성 시각 (UTC)"),
    )),
    Table("votes", "Votes", "투표", (
        _PID,
        Column("participant", "string", "Pseudonym of the voter ('참여자 N / participant N', as in comments.csv); "
               "votes never carry names",
               "투표자 가명 ('참여자 N / participant N', comments.csv 와 같은 번호); 투표에는 이름이 없음"),
        Column("value", "integer", "1 for, -1 against (one vote per participant and proposal)",
               "1 찬성, -1 반대 (제안마다 참여자 한 표)"),
        Column("created_at", "datetime", "When the participant first voted (UTC)", "처음 투표한 시각 (UTC)"),
    )),
    Table("evaluation_runs", "Evaluations", "평가", (
        _PID,
        Column("evaluation_id", "integer", "Number of the evaluation in this package", "이 자료 안의 평가 번호"),
        Column("kind", "string", "What evaluated it: run (one run of the proposal and one of its baseline) or "
               "sweep (many runs of each, values are means over the runs)",
               "평가 방식: run (제안과 기준 시나리오를 한 번씩 실행) 또는 sweep (여러 번 실행, 값은 평균)"),
        Column("baseline_key", "string", "Content key of the baseline run's folder", "기준 실행 폴더의 내용 키"),
        Column("proposal_key", "string", "Content key of the proposal run's folder", "제안 실행 폴더의 내용 키"),
        Column("scenario", "string", "The scenario file evaluated (name only)", "평가한 시나리오 파일 (이름만)"),
        Column("overrides", "string", "The overrides evaluated: JSON list", "평가한 변경값: JSON 목록"),
        Column("dataset_patch", "string", "The device changes evaluated: JSON", "평가한 시설 변경: JSON"),
        Column("sweep", "string", "The sweep file (kind sweep; name only), else empty",
               "스윕 파일 (sweep 일 때, 이름만)"),
        Column("baseline_runs", "integer", "Baseline runs that finished (kind sweep), else empty",
               "끝난 기준 실행 수 (sweep 일 때)"),
        Column("proposal_runs", "integer", "Proposal runs that finished (kind sweep), else empty",
               "끝난 제안 실행 수 (sweep 일 때)"),
        Column("created_at", "datetime", "When it was evaluated (UTC)", "평가 시각 (UTC)"),
    )),
    Table("evaluations", "Evaluation KPIs", "평가 지표", (
        _PID,
        Column("evaluation_id", "integer", "The evaluation (evaluation_runs.csv)", "평가 (evaluation_runs.csv)"),
        Column("column", "string", "KPI column: kpi/<name> for the whole run, <kind>/<id>/<name> for one place",
               "지표 열: 실행 전체는 kpi/<이름>, 한 장소는 <종류>/<id>/<이름>"),
        Column("name_ko", "string", "What it measures, in Korean", "지표 이름 (한국어)"),
        Column("name_en", "string", "What it measures, in English", "지표 이름 (영어)"),
        Column("unit", "string", "Unit (min, m, people, yes/no as 1/0, ...)",
               "단위 (분 min, m, 명 people, 예/아니오 1/0 ...)"),
        Column("better", "string", "Which way is better: lower, higher or empty",
               "좋은 방향: lower 낮을수록, higher 높을수록, 빈칸"),
        Column("baseline", "number", "Value in the baseline run (empty: does not exist in that run)",
               "기준 실행의 값 (빈칸: 그 실행에 없음)"),
        Column("proposal", "number", "Value in the proposal run (empty: does not exist in that run)",
               "제안 실행의 값 (빈칸: 그 실행에 없음)"),
        Column("baseline_p95", "number", "95th percentile over the baseline runs (kind sweep), else empty",
               "기준 실행들의 95 백분위수 (sweep 일 때)"),
        Column("proposal_p95", "number", "95th percentile over the proposal runs (kind sweep), else empty",
               "제안 실행들의 95 백분위수 (sweep 일 때)"),
    )),
)
TABLE = {t.name: t for t in TABLES}


def pseudonym(n: int) -> str:
    """The package's pseudonym of the ``n``-th participant (1-based), Korean and English."""
    return f"참여자 {n} / participant {n}"


def escape_cell(text: str) -> str:
    """A text cell safe from spreadsheet formulas: ``'`` before a first character of
    :data:`FORMULA_START`."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unescape_cell(text: str) -> str:
    """The text :func:`escape_cell` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _time(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat() + "Z"


def _number(x: Any) -> str:
    if x is None or isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return ""
    return repr(float(x))


def _count(x: Any) -> str:
    return str(x) if isinstance(x, int) and not isinstance(x, bool) and x >= 0 else ""


def scenario_label(scenario: str) -> str:
    """A scenario as the package names it: its path inside the shipped scenarios folder
    (``gates/x.yaml``), else its file name; never a folder of this machine."""
    from ..resources import shipped_scenarios

    path = Path(scenario)
    if path.is_absolute() or path.exists():
        try:
            return path.resolve().relative_to(shipped_scenarios().resolve()).as_posix()
        except (ValueError, OSError):
            return path.name
    return scenario if not _label_problem(scenario) else path.name


def _label_problem(label: str) -> str | None:
    parts = PurePosixPath(label).parts
    if (not label or "\\" in label or label.startswith("/") or any(p in ("..", ".") for p in parts)
            or not label.endswith((".yaml", ".yml")) or len(label) > 200
            or any(ord(c) < 32 for c in label)):
        return "a scenario file name (.yaml) inside the scenarios folder"
    return None


def local_scenario(label: str) -> Path | None:
    """The shipped scenario a package's label names, when this machine has it."""
    from ..resources import shipped_scenarios

    path = shipped_scenarios() / label
    return path if not _label_problem(label) and path.is_file() else None


# --- export -----------------------------------------------------------------------------------
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
                                            _time(c.created_at)])
        for v in votes:
            shown = pseudonym(numbers.setdefault(v.participant, len(numbers) + 1))
            rows.tables["votes"].append([str(pid), escape_cell(shown), str(int(v.value)), _time(v.created_at)])
        rows.tables["proposals"].append([
            str(pid), escape_cell(p.title_ko), escape_cell(p.title_en), escape_cell(p.description_ko),
            escape_cell(p.description_en), escape_cell(author), "true" if p.author_public else "false", p.status,
            escape_cell(scenario_label(p.scenario)),
            escape_cell(_json(list(p.overrides))), escape_cell(_json(dict(p.dataset_patch or {}))),
            _time(p.created_at), _time(p.updated_at), str(sum(v.value == 1 for v in votes)),
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
        escape_cell(_json(list(kpis.get("overrides") or []))),
        escape_cell(_json(dict(kpis.get("dataset_patch") or {}))),
        escape_cell(scenario_label(str(kpis["sweep"]))) if kpis.get("sweep") else "",
        _count(kpis.get("baseline_runs")), _count(kpis.get("proposal_runs")), _time(e.created_at)])
    base_p95, prop_p95 = kpis.get("baseline_p95") or {}, kpis.get("proposal_p95") or {}
    for column in sorted(set(base) | set(prop)):
        m = measure_of(column)
        rows.tables["evaluations"].append([
            str(pid), str(eid), escape_cell(column), escape_cell(m.ko if m else ""), escape_cell(m.en if m else ""),
            escape_cell(m.unit if m else ""), (m.better or "") if m else "", _number(base.get(column)),
            _number(prop.get(column)), _number(base_p95.get(column)), _number(prop_p95.get(column))])


def _change_features(rows: _Rows, pid: int, p: Proposal, datasets: dict[str, Path | None]) -> None:
    """The proposal's device changes as GeoJSON features (WGS84), tagged with its package id."""
    from .patch import is_empty, patch_features

    if is_empty(p.dataset_patch):
        return
    if p.scenario not in datasets:
        datasets[p.scenario] = _dataset_of(p.scenario)
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


def _dataset_of(scenario: str) -> Path | None:
    """The dataset folder of a stored scenario (the shipped one when the scenario cannot be read)."""
    from ..errors import TwinError
    from ..resources import default_dataset
    from ..scenario import load_scenario

    path = Path(scenario) if Path(scenario).is_file() else local_scenario(scenario)
    try:
        return load_scenario(path).dataset_path() if path is not None else default_dataset()
    except (TwinError, OSError):
        try:
            return default_dataset()
        except (TwinError, OSError):
            return None


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


def descriptor() -> dict[str, Any]:
    """The Frictionless Data Package descriptor (no time of export: same data, same bytes)."""
    resources: list[dict[str, Any]] = [{
        "name": t.name, "path": t.path, "profile": "tabular-data-resource", "title": t.title_en,
        "title_ko": t.title_ko, "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
        "dialect": {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": "\"", "doubleQuote": True,
                    "header": True},
        "schema": {"fields": [{"name": c.name, "type": c.type, "description": c.en, "description_ko": c.ko,
                               **({"format": "%Y-%m-%dT%H:%M:%SZ"} if c.type == "datetime" else {})}
                              for c in t.columns]},
    } for t in TABLES]
    resources.append({"name": "changes", "path": "changes.geojson", "format": "geojson",
                      "mediatype": "application/geo+json", "encoding": "utf-8", "title": "Proposed device changes",
                      "title_ko": "제안한 시설 변경",
                      "description": "Points (WGS84 lon/lat) of the devices each proposal adds, moves or removes; "
                                     "properties: proposal_id, device_id, kind, name, change, from_lon/from_lat",
                      "description_ko": "각 제안이 추가·이동·제거하는 시설의 위치 (WGS84 경위도)"})
    return {
        "profile": "tabular-data-package",
        "name": "uijeongbu-twin-proposals",
        "title": "Uijeongbu digital twin: living-lab proposals, evaluations and feedback",
        "title_ko": "의정부 디지털 트윈: 리빙랩 제안, 평가, 의견",
        "licenses": [{"name": LICENSE_NAME, "path": LICENSE_URL, "title": "Creative Commons Attribution 4.0"}],
        "twin:package": {"format": PACKAGE_FORMAT, "version": PACKAGE_VERSION},
        "resources": resources,
    }


def readme_text() -> str:
    """The package's README: the data dictionary in Korean and English, licence and names."""
    out = ["# 의정부 디지털 트윈 리빙랩 제안 공개 자료 / Uijeongbu digital twin living-lab proposals: open data", ""]
    out += ["## 한국어", "",
            "시민이 제안한 사업, 디지털 트윈의 평가 (기준 시나리오와 비교한 지표), 시민의 의견과 투표입니다.", "",
            "- 이름: 의견 작성자의 이름은 그 의견에 공개를 동의한 경우에만 싣습니다. 그 밖의 의견과 모든 투표는 "
            "가명 `참여자 N / participant N` 으로 싣고, 같은 사람은 자료 전체에서 같은 번호입니다.",
            "- 번호: 제안·의견·평가 번호는 이 자료 안의 번호이며 데이터베이스의 번호가 아닙니다.",
            "- CSV: UTF-8 (BOM 포함, 엑셀에서 바로 열림), 쉼표 구분, CRLF 줄바꿈. "
            "`= + - @`, 탭, `'` 로 시작하는 글에는 "
            "수식으로 실행되지 않도록 앞에 `'` 를 붙였습니다 (읽을 때 하나를 떼면 원문).",
            "- 시각: UTC, `YYYY-MM-DDTHH:MM:SSZ`. 좌표: WGS84 경위도.",
            f"- 이용허락: 크리에이티브 커먼즈 저작자표시 4.0 국제 (CC BY 4.0), {LICENSE_URL}deed.ko "
            "— 출처: 의정부 디지털 트윈 리빙랩 참여자.", ""]
    out += _dictionary("ko")
    out += ["## English", "",
            "Projects citizens proposed, the digital twin's evaluations of them (KPIs against a baseline "
            "scenario), and citizens' comments and votes.", "",
            "- Names: a commenter's name appears only on the comments where they consented to publish it. Their "
            "other comments and every vote carry a pseudonym `참여자 N / participant N`, the same N for one person "
            "throughout the package.",
            "- Ids: proposal, comment and evaluation numbers are this package's own, not the database's.",
            "- CSV: UTF-8 with a byte-order mark (opens in Excel as UTF-8), comma-separated, CRLF line ends. A text "
            "that starts with `= + - @`, a tab or `'` has a `'` in front so that no spreadsheet runs it as a "
            "formula (remove one to get the text as typed).",
            "- Times: UTC, `YYYY-MM-DDTHH:MM:SSZ`. Coordinates: WGS84 lon/lat.",
            f"- Licence: Creative Commons Attribution 4.0 International (CC BY 4.0), {LICENSE_URL} — attribution: "
            "Uijeongbu digital twin living-lab participants.", ""]
    out += _dictionary("en")
    return "\n".join(out)


def _dictionary(lang: str) -> list[str]:
    out = []
    for t in TABLES:
        out += [f"### {t.path} — {t.title_ko if lang == 'ko' else t.title_en}", "",
                "| field | type | " + ("설명" if lang == "ko" else "meaning") + " |", "|---|---|---|"]
        out += [f"| {c.name} | {c.type} | {(c.ko if lang == 'ko' else c.en).replace('|', '/')} |" for c in t.columns]
        out.append("")
    out += ["### changes.geojson", "",
            ("GeoJSON FeatureCollection (WGS84). 속성: proposal_id 제안, device_id 시설, "
             "kind 종류 (gate 차단시설, cctv, "
             "signboard 안내판, crosswalk 횡단보도), name 이름, change 변경 (add 추가, move 이동, remove 제거), "
             "from_lon/from_lat 이동 전 위치."
             if lang == "ko" else
             "GeoJSON FeatureCollection (WGS84). Properties: proposal_id, device_id, kind (gate, cctv, signboard, "
             "crosswalk), name, change (add, move, remove), from_lon/from_lat (where a moved device stood)."), ""]
    return out


LICENSE_TEXT = """\
Creative Commons Attribution 4.0 International (CC BY 4.0)
크리에이티브 커먼즈 저작자표시 4.0 국제

The data in this package (proposals, evaluations, comments and votes of the Uijeongbu digital twin
living lab) is licensed under the Creative Commons Attribution 4.0 International licence.
이 자료는 크리에이티브 커먼즈 저작자표시 4.0 국제 라이선스로 이용할 수 있습니다.

You may share and adapt it for any purpose, also commercially, if you give appropriate credit:
"Uijeongbu digital twin living-lab participants (CC BY 4.0)", link to the licence and say whether
you made changes.

Legal code / 이용허락 규약: https://creativecommons.org/licenses/by/4.0/legalcode
Korean deed / 한국어 요약: https://creativecommons.org/licenses/by/4.0/deed.ko
"""


# --- import -----------------------------------------------------------------------------------
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
    with store.transaction() as s:
        for p in pkg.proposals:
            ids[p["proposal_id"]] = _add_proposal(s, pkg, p)
    return {"proposals": len(pkg.proposals), "comments": len(pkg.comments), "votes": len(pkg.votes),
            "evaluations": len(pkg.runs), "kpi_rows": len(pkg.kpis), "ids": ids,
            "scenarios_not_here": sorted(set(pkg.unresolved))}


def _capped(problems: list[str]) -> list[str]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [f"... and {len(problems) - MAX_PROBLEMS} more problems"]


def _add_proposal(s: Session, pkg: _Package, p: dict[str, Any]) -> int:
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
    _add_comments(s, new_id, [c for c in pkg.comments if c["proposal_id"] == pid])
    _add_votes(s, new_id, [v for v in pkg.votes if v["proposal_id"] == pid])
    for r in (r for r in pkg.runs if r["proposal_id"] == pid):
        rows = [k for k in pkg.kpis if k["evaluation_id"] == r["evaluation_id"]]
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
            if not _TIME.match(raw):
                raise ValueError
            return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            self.bad(column, "something else", "a UTC time YYYY-MM-DDTHH:MM:SSZ")
            return datetime(1970, 1, 1)

    def json_value(self, column: str, kind: type) -> Any:
        raw = unescape_cell(self.cells[column])
        try:
            value = json.loads(raw) if len(raw) <= 100_000 else None
        except ValueError:
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
        problem = _label_problem(raw)
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
        if not _KEY.match(out[key]):
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
    for p in pkg.proposals:
        counts = {"votes_for": sum(v["proposal_id"] == p["proposal_id"] and v["value"] == 1 for v in pkg.votes),
                  "votes_against": sum(v["proposal_id"] == p["proposal_id"] and v["value"] == -1 for v in pkg.votes),
                  "n_comments": sum(c["proposal_id"] == p["proposal_id"] for c in pkg.comments)}
        for column, n in counts.items():
            if p[column] != n:
                src = "comments.csv" if column == "n_comments" else "votes.csv"
                out.append(f"proposals.csv row {p['row']}: {column}: got {p[column]}: expected {n} (the rows of {src})")
    return out


def _change_problems(pkg: _Package) -> list[str]:
    """Each proposal's change, checked as a run would check it when this machine has its scenario;
    a scenario this machine lacks is kept as its name (``unresolved``)."""
    from .patch import is_empty, patch_problems

    out = []
    for p in pkg.proposals:
        where = f"proposals.csv row {p['row']}"
        path = local_scenario(p["scenario"])
        if path is None:
            pkg.unresolved.append(p["scenario"])
            continue
        p["scenario"] = str(path)
        out += [f"{where}: overrides: {line.removeprefix(f'{path}: ')}"  # no folder of this machine
                for line in check_change(str(path), p["overrides"])]
        if not is_empty(p["dataset_patch"]):
            dataset = _dataset_of(str(path))
            if dataset is not None:
                out += [f"{where}: {line}" for line in patch_problems(p["dataset_patch"], dataset)]
    return out
