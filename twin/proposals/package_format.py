"""The open-data package's format: its tables and their columns (the data dictionary, in Korean and
English), the Frictionless descriptor, the README and licence, and how a cell is written (formula
escape, times, numbers, pseudonyms, scenario names). :mod:`~twin.proposals.package_export` writes
packages in this format and :mod:`~twin.proposals.package_import` reads them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from .records import STATUSES

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
UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEY_PATTERN = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


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
PACKAGE_FILES = frozenset({DESCRIPTOR, "README.md", "LICENSE", "changes.geojson", *(t.path for t in TABLES)})
"""Every file a package holds."""


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


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def utc_text(t: datetime) -> str:
    return t.replace(microsecond=0).isoformat() + "Z"


def number_text(x: Any) -> str:
    if x is None or isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return ""
    return repr(float(x))


def count_text(x: Any) -> str:
    return str(x) if isinstance(x, int) and not isinstance(x, bool) and x >= 0 else ""


OTHER_PREFIX = "other:"
"""Label of a scenario outside the shipped scenarios folder (``other:my_storm.yaml``): kept as text on import."""


def scenario_label(scenario: str) -> str:
    """A scenario as the package names it: its path inside the shipped scenarios folder
    (``gates/x.yaml``), else ``other:`` and its file name; never a folder of this machine."""
    from ..resources import shipped_scenarios

    path = Path(scenario)
    if path.is_absolute() or path.exists():
        try:
            return path.resolve().relative_to(shipped_scenarios().resolve()).as_posix()
        except (ValueError, OSError):
            return f"{OTHER_PREFIX}{path.name}"  # not a shipped one: never read back as the shipped file of its name
    return scenario if not label_problem(scenario) else path.name


def label_problem(label: str) -> str | None:
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
    return path if not label_problem(label) and path.is_file() else None



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
            "- 이름: 의견 작성자의 이름은 그 의견에 공개를 동의한 경우에만, 제안자의 이름은 제안자가 동의한 경우에만 "
            "싣습니다. 그 밖의 의견, 제안자와 모든 투표는 가명 `참여자 N / participant N` 으로 싣고, 같은 사람은 "
            "자료 전체에서 같은 번호입니다.",
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
            "- Names: a commenter's name appears only on the comments where they consented to publish it, and a "
            "proposer's only where they consented (author_public). Other comments and authors, and every vote, "
            "carry a pseudonym `참여자 N / participant N`, the same N for one person throughout the package.",
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


def dataset_of(scenario: str) -> Path | None:
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
