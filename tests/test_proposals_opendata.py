"""The open-data package of the proposals: what it holds (names only with consent, pseudonyms,
evaluations, device changes), CSV injection, determinism and byte-identical round trips (on SQLite
and a real PostgreSQL server), refusals of bad packages (naming file, row and field, never the
content), atomic export and an import that is one transaction. ``db_url`` (tests/pg_server.py) runs
a test on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from twin.errors import ProposalError
from twin.proposals import opendata, package_export, package_import
from twin.proposals.opendata import export_package, import_package
from twin.proposals.records import Evaluation, Proposal
from twin.proposals.store import open_store
from twin.resources import shipped_scenarios

FLAGSHIP = str(shipped_scenarios() / "flash_flood_jungnangcheon.yaml")
P1, P2, P3, P4 = (f"참여자 {n} / participant {n}" for n in range(1, 5))
KPIS = {
    "baseline": {"kpi/flooded_paths": 3, "kpi/first_flooding_min": None, "gauge/LS-1018665/peak_stage_m": 2.25},
    "proposal": {"kpi/flooded_paths": 1.0, "kpi/first_flooding_min": 42.5, "gauge/LS-1018665/peak_stage_m": 2.25},
    "scenario": FLAGSHIP, "overrides": ["thresholds.LS-1018665.attention_m=1.5"], "dataset_patch": {},
}
PATCH = {"devices": {"move": [{"device_id": "SB-G01", "lon": 127.0482, "lat": 37.7509}]}}
SWEEP_KPIS = {  # an evaluation over a sweep: means, 95th percentiles and runs that finished
    "scenario": "flash_flood_jungnangcheon.yaml", "sweep": "rain_uncertainty.yaml", "overrides": [],
    "dataset_patch": PATCH, "baseline": {"kpi/flooded_paths": 2.5}, "proposal": {"kpi/flooded_paths": 1.5},
    "baseline_p95": {"kpi/flooded_paths": 4.0}, "proposal_p95": {"kpi/flooded_paths": 3.0},
    "baseline_runs": 20, "proposal_runs": 19,
}


def _fill(store) -> tuple[int, int]:
    """Two proposals, by a group that consented to be named and by an author who did not (@호원동 모임);
    comments by a consenting (김민수, on p1 only) and a non-consenting commenter (이영희), votes by
    them and by a voter who never comments (박철수), one evaluation, one patch."""
    p1 = store.new(title_ko="신곡교 관심 기준 낮추기", title_en='=HYPERLINK("http://x","click")',
                   author="의정부 리빙랩", author_public=True, scenario=FLAGSHIP,
                   overrides=["thresholds.LS-1018665.attention_m=1.5"],
                   description_ko="여러 줄\n설명, \"따옴표\"")
    p2 = store.new(title_ko="안내판 옮기기", title_en="Move a signboard", author="@호원동 모임", scenario=FLAGSHIP)
    store.comment(p1, participant="김민수", text="좋아요", public_name=True)
    store.comment(p1, participant="이영희", text="-1 반대합니다")
    store.comment(p2, participant="김민수", text="+ 더 좋은 곳이 있어요")
    store.comment(p2, participant="이영희", text="'인용'으로 시작")
    store.vote(p1, participant="이영희", value=1)
    store.vote(p1, participant="박철수", value=-1)
    store.vote(p2, participant="김민수", value=1)
    with store.transaction() as s:
        s.add(Evaluation(proposal_id=p1, kind="run", baseline_key="a" * 64, proposal_key="b" * 64, kpis=KPIS))
        s.add(Evaluation(proposal_id=p2, kind="sweep", baseline_key="c" * 64, proposal_key="d" * 64,
                         kpis=SWEEP_KPIS))
        s.get(Proposal, p2).dataset_patch = PATCH
    return p1, p2


def _table(folder: Path, name: str) -> list[dict[str, str]]:
    data = (folder / name).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def source(tmp_path):
    """A filled SQLite store and its package."""
    store = open_store(f"sqlite:///{tmp_path / 'source.sqlite'}")
    _fill(store)
    export_package(store, tmp_path / "pkg")
    return store, tmp_path / "pkg"


def test_the_package_holds_names_only_with_consent_and_stable_pseudonyms(db_url, tmp_path):
    store = open_store(db_url)
    _fill(store)
    counts = export_package(store, tmp_path / "pkg")
    assert counts == {"proposals": 2, "comments": 4, "votes": 3, "evaluations": 2, "kpi_rows": 4, "changes": 1,
                      "unplaced_changes": 0}
    pkg = tmp_path / "pkg"
    assert sorted(p.name for p in pkg.iterdir()) == sorted(
        ["datapackage.json", "README.md", "LICENSE", "proposals.csv", "comments.csv", "votes.csv",
         "evaluation_runs.csv", "evaluations.csv", "changes.geojson"])
    comments = [(r["proposal_id"], r["comment_id"], r["participant"], r["public_name"], r["text"])
                for r in _table(pkg, "comments.csv")]
    assert comments == [("1", "1", "김민수", "true", "좋아요"), ("1", "2", P1, "false", "'-1 반대합니다"),
                        ("2", "3", P4, "false", "'+ 더 좋은 곳이 있어요"), ("2", "4", P1, "false", "''인용'으로 시작")]
    votes = [(r["proposal_id"], r["participant"], r["value"]) for r in _table(pkg, "votes.csv")]
    assert votes == [("1", P1, "1"), ("1", P2, "-1"), ("2", P4, "1")]
    everything = b"".join(_files(pkg).values()).decode("utf-8")
    assert "이영희" not in everything and "박철수" not in everything  # never consented
    assert "호원동 모임" not in everything  # an author who did not consent: their pseudonym (P3)
    assert everything.count("김민수") == 1  # only on the comment they consented to publish
    assert str(shipped_scenarios()) not in everything and "/" + Path(FLAGSHIP).parent.name not in everything
    props = _table(pkg, "proposals.csv")
    assert [(r["proposal_id"], r["title_en"], r["author"], r["author_public"], r["status"], r["scenario"],
             r["votes_for"], r["votes_against"], r["n_comments"]) for r in props] == [
        ("1", "'=HYPERLINK(\"http://x\",\"click\")", "의정부 리빙랩", "true", "draft",
         "flash_flood_jungnangcheon.yaml", "1", "1", "2"),
        ("2", "Move a signboard", P3, "false", "draft", "flash_flood_jungnangcheon.yaml", "1", "0", "2")]
    assert json.loads(props[0]["overrides"]) == ["thresholds.LS-1018665.attention_m=1.5"]
    assert props[0]["description_ko"] == "여러 줄\n설명, \"따옴표\"" and props[0]["created_at"].endswith("Z")


def test_evaluations_are_long_rows_with_names_and_changes_are_wgs84_points(source):
    _, pkg = source
    rows = [(r["proposal_id"], r["evaluation_id"], r["column"], r["name_en"], r["unit"], r["better"], r["baseline"],
             r["proposal"], r["baseline_p95"], r["proposal_p95"]) for r in _table(pkg, "evaluations.csv")]
    assert rows == [
        ("1", "1", "gauge/LS-1018665/peak_stage_m", "Peak stage", "m", "lower", "2.25", "2.25", "", ""),
        ("1", "1", "kpi/first_flooding_min", "First path flooded after", "min", "higher", "", "42.5", "", ""),
        ("1", "1", "kpi/flooded_paths", "Riverside paths flooded", "paths", "lower", "3.0", "1.0", "", ""),
        ("2", "2", "kpi/flooded_paths", "Riverside paths flooded", "paths", "lower", "2.5", "1.5", "4.0", "3.0")]
    runs = _table(pkg, "evaluation_runs.csv")
    assert [(r["kind"], r["baseline_key"], r["scenario"], r["sweep"], r["baseline_runs"], r["proposal_runs"])
            for r in runs] == [("run", "a" * 64, "flash_flood_jungnangcheon.yaml", "", "", ""),
                               ("sweep", "c" * 64, "flash_flood_jungnangcheon.yaml", "rain_uncertainty.yaml", "20",
                                "19")]
    changes = json.loads((pkg / "changes.geojson").read_text(encoding="utf-8"))
    assert changes["type"] == "FeatureCollection" and len(changes["features"]) == 1
    f = changes["features"][0]
    assert f["geometry"] == {"type": "Point", "coordinates": [127.0482, 37.7509]}
    assert (f["properties"]["proposal_id"], f["properties"]["device_id"], f["properties"]["change"],
            f["properties"]["from_lon"]) == (2, "SB-G01", "move", 127.0479795)
    meta = json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))
    assert meta["twin:package"] == {"format": opendata.PACKAGE_FORMAT, "version": 1} and "created" not in meta
    fields = {r["name"]: r["schema"]["fields"] for r in meta["resources"] if "schema" in r}
    assert [x["name"] for x in fields["votes"]] == ["proposal_id", "participant", "value", "created_at"]
    assert all(x["description"] and x["description_ko"] for fs in fields.values() for x in fs)
    assert meta["licenses"][0]["name"] == "CC-BY-4.0"
    readme = (pkg / "README.md").read_text(encoding="utf-8")
    assert "## 한국어" in readme and "## English" in readme and "| participant | string |" in readme


def test_round_trip_gives_the_same_bytes_and_import_adds_under_new_ids(source, db_url, tmp_path):
    store, pkg = source
    again = tmp_path / "again"
    export_package(store, again)
    assert _files(again) == _files(pkg)  # deterministic
    target = open_store(db_url)
    got = import_package(target, pkg)
    assert {k: got[k] for k in ("proposals", "comments", "votes", "evaluations", "kpi_rows")} == {
        "proposals": 2, "comments": 4, "votes": 3, "evaluations": 2, "kpi_rows": 4}
    assert got["ids"] == {1: 1, 2: 2} and got["scenarios_not_here"] == []
    export_package(target, tmp_path / "round")
    assert _files(tmp_path / "round") == _files(pkg)
    shown = target.get(1)
    assert shown["title_en"] == '=HYPERLINK("http://x","click")'  # the escape is undone
    assert [(c["participant"], c["public_name"], c["text"]) for c in shown["comments"]] == [
        ("김민수", True, "좋아요"), (P1, False, "-1 반대합니다")]
    assert shown["scenario"] == FLAGSHIP and target.get(2)["dataset_patch"] == PATCH
    assert target.get(2)["evaluations"][0]["kpis"] == SWEEP_KPIS
    second = import_package(target, pkg)  # into a database that has proposals: new ids
    assert second["ids"] == {1: 3, 2: 4} and len(target.proposals()) == 4


def test_an_import_that_fails_half_way_leaves_the_database_as_before(source, db_url, monkeypatch):
    _, pkg = source
    target = open_store(db_url)

    def boom(*_a, **_k):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(package_import, "_add_votes", boom)  # after the first proposal and its comments are added
    with pytest.raises(RuntimeError, match="disk gone"):
        import_package(target, pkg)
    assert target.proposals() == []


def test_an_export_that_fails_half_way_leaves_no_folder(source, tmp_path, monkeypatch):
    store, _ = source
    written: list[str] = []
    real = package_export._write_file

    def fail_third(path, data):
        if len(written) == 2:
            raise OSError("disk full")
        written.append(path.name)
        real(path, data)

    monkeypatch.setattr(package_export, "_write_file", fail_third)
    out = tmp_path / "out" / "pkg"
    with pytest.raises(OSError, match="disk full"):
        export_package(store, out)
    assert written and list((tmp_path / "out").iterdir()) == []  # no package, no partial sibling


def test_export_replaces_an_earlier_package_and_refuses_any_other_folder(source, tmp_path):
    store, pkg = source
    before = (pkg / "votes.csv").read_bytes()
    store.vote(1, participant="새 참여자", value=1)
    export_package(store, pkg)  # an earlier package of ours: replaced whole
    assert (pkg / "votes.csv").read_bytes() != before and (pkg / "datapackage.json").is_file()
    (pkg / "extra.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ProposalError, match="holds 1 file\\(s\\) that are not the package's"):
        export_package(store, pkg)  # replacing it would delete what someone put beside it
    assert (pkg / "extra.txt").read_text(encoding="utf-8") == "mine"
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(ProposalError, match="theirs: is not empty and is not an open-data package"):
        export_package(store, theirs)
    assert (theirs / "notes.txt").read_text(encoding="utf-8") == "keep"
    with pytest.raises(ProposalError, match="notes.txt: exists and is not a folder"):
        export_package(store, theirs / "notes.txt")


def _edit(pkg: Path, name: str, row: int, column: str, value: str) -> None:
    """Set one cell of a package CSV (row in spreadsheet numbering: the header is row 1)."""
    path = pkg / name
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    rows[row - 1][rows[0].index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


def _append(pkg: Path, name: str, row: list[str]) -> None:
    with open(pkg / name, "a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerow(row)


TOWER = '{"devices":{"add":[{"device_id":"X","kind":"tower","lon":1,"lat":2}]}}'
BAD = [
    (lambda p: (p / "datapackage.json").unlink(), "datapackage.json: got no file: expected the descriptor", ""),
    (lambda p: (p / "datapackage.json").write_text('{"name": "x"}', encoding="utf-8"),
     "datapackage.json: twin:package.format: got another package", ""),
    (lambda p: (p / "votes.csv").unlink(), "votes.csv: got no file: expected the votes table", ""),
    (lambda p: _edit(p, "votes.csv", 1, "participant", "voter"),
     "votes.csv row 1: header: got other columns: expected proposal_id,participant,value,created_at", "voter"),
    (lambda p: _edit(p, "proposals.csv", 2, "status", "done"),
     "proposals.csv row 2: status: got an unknown status: expected one of draft, ", "done"),
    (lambda p: _edit(p, "proposals.csv", 3, "title_ko", "가" * 201),
     "proposals.csv row 3: title_ko: got 201 characters: expected at most 200", "가가"),
    (lambda p: _edit(p, "proposals.csv", 3, "author", "홍길동"),
     "proposals.csv row 3: author: got a name without consent (author_public false): expected a pseudonym", "홍길동"),
    (lambda p: _edit(p, "comments.csv", 3, "participant", "홍길동"),
     "comments.csv row 3: participant: got a name without consent (public_name false): expected a pseudonym", "홍길동"),
    (lambda p: _edit(p, "votes.csv", 4, "participant", "홍길동"),
     "votes.csv row 4: participant: got a name: expected a pseudonym", "홍길동"),
    (lambda p: _append(p, "votes.csv", ["1", P1, "-1", "2026-01-01T00:00:00Z"]),
     "votes.csv row 5: participant: got a second vote on this proposal: expected one per participant", ""),
    (lambda p: _edit(p, "comments.csv", 2, "created_at", "yesterday"),
     "comments.csv row 2: created_at: got something else: expected a UTC time YYYY-MM-DDTHH:MM:SSZ", "yesterday"),
    (lambda p: _edit(p, "evaluations.csv", 4, "baseline", "inf"),
     "evaluations.csv row 4: baseline: got something else: expected a finite number or nothing", "inf"),
    (lambda p: _edit(p, "proposals.csv", 2, "votes_for", "7"),
     "proposals.csv row 2: votes_for: got 7: expected 1 (the rows of votes.csv)", ""),
    (lambda p: _edit(p, "comments.csv", 5, "proposal_id", "9"),
     "comments.csv row 5: proposal_id: got a number not in proposals.csv", ""),
    (lambda p: _edit(p, "proposals.csv", 2, "scenario", "../../etc/passwd.yaml"),
     "proposals.csv row 2: scenario: got something else: expected a scenario file name (.yaml)", "passwd"),
    (lambda p: _edit(p, "proposals.csv", 2, "overrides", '["rainfall.total_mm=-5"]'),
     "proposals.csv row 2: overrides: rainfall.total_mm: got another value: expected", "-5"),
    (lambda p: _edit(p, "proposals.csv", 2, "dataset_patch", '{"devices":{"add":[{"lon":NaN,"lat":1e999}]}}'),
     "proposals.csv row 2: dataset_patch: got something else: expected JSON object", "NaN"),
    (lambda p: (_edit(p, "proposals.csv", 2, "scenario", "not_here.yaml"),
                _edit(p, "proposals.csv", 2, "dataset_patch", TOWER)),
     "proposals.csv row 2: dataset_patch.devices.add[0].kind: got another value: expected one of gate", "tower"),
    (lambda p: (p / "comments.csv").write_bytes(b"\xff\xfe\x00bad"),
     "comments.csv: got bytes that are not UTF-8: expected UTF-8 CSV", ""),
]


@pytest.mark.parametrize("spoil, expected, secret", BAD, ids=[b[1].split(":")[0] + str(i) for i, b in enumerate(BAD)])
def test_a_bad_package_is_refused_naming_file_row_and_field_and_nothing_is_written(source, tmp_path, spoil, expected,
                                                                                    secret):
    _, pkg = source
    bad = tmp_path / "bad"
    shutil.copytree(pkg, bad)
    spoil(bad)
    target = open_store(f"sqlite:///{tmp_path / 'target.sqlite'}")
    with pytest.raises(ProposalError) as err:
        import_package(target, bad)
    assert err.value.problems[0].startswith(expected), err.value.problems
    if secret:
        assert all(secret not in line for line in err.value.problems)  # never the file's content
    assert target.proposals() == []


def test_a_scenario_this_machine_lacks_is_kept_by_name(source, tmp_path):
    _, pkg = source
    _edit(pkg, "proposals.csv", 3, "scenario", "elsewhere/other_city.yaml")
    target = open_store(f"sqlite:///{tmp_path / 'target.sqlite'}")
    got = import_package(target, pkg)
    assert got["scenarios_not_here"] == ["elsewhere/other_city.yaml"]
    assert target.get(got["ids"][2])["scenario"] == "elsewhere/other_city.yaml"
    export_package(target, tmp_path / "again")
    assert _table(tmp_path / "again", "proposals.csv")[1]["scenario"] == "elsewhere/other_city.yaml"


def test_a_scenario_outside_the_shipped_folder_never_comes_back_as_a_shipped_one(tmp_path):
    custom = tmp_path / "flash_flood_jungnangcheon.yaml"  # the name of a shipped scenario, another storm
    custom.write_text(Path(FLAGSHIP).read_text(encoding="utf-8").replace("total_mm: 90", "total_mm: 20"),
                      encoding="utf-8")
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.new(title_ko="가", title_en="a", author="b", scenario=str(custom))
    export_package(store, tmp_path / "pkg")
    assert _table(tmp_path / "pkg", "proposals.csv")[0]["scenario"] == "other:flash_flood_jungnangcheon.yaml"
    target = open_store(f"sqlite:///{tmp_path / 't.sqlite'}")
    got = import_package(target, tmp_path / "pkg")
    assert got["scenarios_not_here"] == ["other:flash_flood_jungnangcheon.yaml"]
    assert target.get(got["ids"][1])["scenario"] == "other:flash_flood_jungnangcheon.yaml"  # not the shipped file


def test_cells_that_look_like_formulas_are_escaped_and_restored():
    for text in ("=1+1", "+82 10", "-3", "@SUM(A1)", "\tx", "'quoted", "''", "평범한 글", "a=b"):
        cell = opendata.escape_cell(text)
        assert not cell.startswith(("=", "+", "-", "@", "\t"))
        assert opendata.unescape_cell(cell) == text
    assert opendata.escape_cell("=1+1") == "'=1+1" and opendata.escape_cell("a=b") == "a=b"
