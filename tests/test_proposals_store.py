"""The proposals database: create, list, show, update with optimistic locking, comments and votes
(one per participant) from concurrent sessions, the schema's migrations, the CLI; on SQLite and on a
real PostgreSQL server started by the test.

Wall time: the PostgreSQL server gets 60 s to start (a budget broken is said as such).
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from twin.errors import ProposalConflict, ProposalError
from twin.proposals.store import open_store
from twin.resources import shipped_scenarios

FLAGSHIP = str(shipped_scenarios() / "flash_flood_jungnangcheon.yaml")
def _new(store, **kw):
    args = dict(title_ko="신곡교 관심 기준 낮추기", title_en="Lower the attention level at Singok bridge",
                author="의정부 리빙랩", scenario=FLAGSHIP, overrides=["thresholds.LS-1018665.attention_m=1.5"])
    args.update(kw)
    return store.new(**args)


def test_a_proposal_is_created_listed_shown_and_survives_reopening(db_url):
    store = open_store(db_url)
    pid = _new(store)
    rows = store.proposals()
    assert [(r["id"], r["status"], r["version"], r["n_comments"]) for r in rows] == [(pid, "draft", 1, 0)]
    again = open_store(db_url).get(pid)
    assert again["title_ko"] == "신곡교 관심 기준 낮추기"
    assert again["overrides"] == ["thresholds.LS-1018665.attention_m=1.5"]
    assert again["scenario"] == FLAGSHIP and again["comments"] == [] and again["evaluations"] == []
    assert store.proposals("adopted") == []


def test_an_invalid_change_or_field_is_refused_with_every_problem(db_url):
    store = open_store(db_url)
    with pytest.raises(ProposalError) as err:
        _new(store, overrides=["rainfall.total_mm=-5"])
    assert any("rainfall.total_mm: got -5" in line for line in err.value.problems)
    with pytest.raises(ProposalError) as err:
        _new(store, title_en="x" * 201, author="  ")
    assert err.value.problems == [
        "title.en: got 201 characters: expected at most 200",
        "author: got nothing: expected text",
    ]
    for bad in ("가\x00나", "가\n  99  adopted  +999 -0", "a\x7f", "a\u009b", "t\u202etxet"):
        with pytest.raises(ProposalError, match="title.ko: got a line break or control character"):
            _new(store, title_ko=bad)  # a title cannot pose as another row of a list or reorder what is shown
    with pytest.raises(ProposalError, match="author: got a line break"):
        _new(store, author="a\nb")
    for pid in (0, -1, 2**64):
        with pytest.raises(ProposalError, match="no such proposal"):
            store.get(pid)
    assert store.proposals() == []  # nothing half-stored


def test_two_sessions_editing_one_proposal_never_overwrite_each_other(db_url):
    a, b = open_store(db_url), open_store(db_url)
    pid = _new(a)
    seen_a, seen_b = a.get(pid)["version"], b.get(pid)["version"]
    assert a.update(pid, version=seen_a, title_en="A's title") == seen_a + 1
    with pytest.raises(ProposalConflict, match="changed by someone else since version 1"):
        b.update(pid, version=seen_b, title_en="B's title")
    assert b.get(pid)["title_en"] == "A's title"
    with pytest.raises(ProposalError, match="status: got 'done'"):
        a.update(pid, version=2, status="done")


def test_concurrent_comments_and_votes_lose_nothing_and_keep_one_vote_per_participant(db_url):
    store = open_store(db_url)
    pid = _new(store)
    errors: list[BaseException] = []

    sessions = [open_store(db_url) for _ in range(4)]  # each its own engine, as each app session's store

    def participant(i: int) -> None:
        s = sessions[i]
        try:
            for k in range(5):
                s.comment(pid, participant=f"p{i}", text=f"comment {k} of p{i}")
                s.vote(pid, participant=f"p{i}", value=1 if (i + k) % 2 else -1)
                s.vote(pid, participant="everyone", value=1)  # the same participant from every session
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=participant, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    got = store.get(pid)
    assert len(got["comments"]) == 20 and got["n_comments"] == 20
    assert {c["text"] for c in got["comments"]} == {f"comment {k} of p{i}" for i in range(4) for k in range(5)}
    # each participant's last vote: p0 k=4 -> -1, p1 +1, p2 -1, p3 +1; "everyone" once, +1
    assert (got["votes_for"], got["votes_against"]) == (3, 2)


def test_text_is_kept_exactly_as_typed(db_url):
    store = open_store(db_url)
    pid = _new(store, title_en="<script>alert(1)</script> & **bold**")
    store.comment(pid, participant="시민 1", text="<img src=x onerror=alert(1)> 좋아요")
    got = store.get(pid)
    assert got["title_en"] == "<script>alert(1)</script> & **bold**"
    assert got["comments"][0]["text"] == "<img src=x onerror=alert(1)> 좋아요"


def test_the_schema_is_migrated_forward_and_a_newer_one_is_refused(db_url):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    url = db_url
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parents[1] / "twin" / "proposals" / "migrations"))
    with engine.begin() as conn:  # a database made with the first schema version
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text(
            "INSERT INTO proposal (title_ko, title_en, description_ko, description_en, author, status, scenario, "
            "overrides, dataset_patch, created_at, updated_at, version) VALUES ('가', 'A', '', '', 'x', 'draft', "
            "'s.yaml', '[]', '{}', '2026-01-01', '2026-01-01', 1)"
        ))
    store = open_store(url)  # migrated to this version's schema: the author's consent is a new field
    assert [(r["title_en"], r["author_public"]) for r in store.proposals()] == [("A", False)]
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(ProposalError, match="schema 9999, newer than this twin's 0002"):
        open_store(url)
    engine.dispose()


def test_the_cli_adds_lists_and_shows_and_refuses_bad_input(tmp_path):
    from twin.cli import main

    db = f"sqlite:///{tmp_path / 'p.sqlite'}"
    run = CliRunner()
    made = run.invoke(main, ["proposal", "new", "--db", db, "--title-ko", "차단 기준", "--title-en", "Gate levels",
                             "--author", "리빙랩", "--scenario", FLAGSHIP, "--set", "rainfall.total_mm=120"])
    assert made.exit_code == 0 and made.output.startswith("proposal 1: Gate levels (draft)")
    listed = run.invoke(main, ["proposal", "list", "--db", db])
    assert listed.exit_code == 0 and "draft" in listed.output and "차단 기준 / Gate levels  (리빙랩)" in listed.output
    shown = run.invoke(main, ["proposal", "show", "--db", db, "1"])
    assert shown.exit_code == 0 and '"overrides": [\n    "rainfall.total_mm=120"\n  ]' in shown.output
    missing = run.invoke(main, ["proposal", "show", "--db", db, "7"])
    assert missing.exit_code == 2 and "proposal 7: no such proposal" in missing.output
    bad = run.invoke(main, ["proposal", "list", "--db", "postgresql+psycopg://u:secret@127.0.0.1:9/x"])
    assert bad.exit_code == 2 and "secret" not in bad.output and "cannot be opened" in bad.output


def test_the_cli_exports_imports_reports_and_decides(tmp_path):
    from twin.cli import main

    db, other = f"sqlite:///{tmp_path / 'p.sqlite'}", f"sqlite:///{tmp_path / 'q.sqlite'}"
    run = CliRunner()
    store = open_store(db)
    pid = _new(store, title_en="<script>alert(1)</script>")
    store.comment(pid, participant="김민수", text="좋아요", public_name=False)
    decided = run.invoke(main, ["proposal", "status", "--db", db, str(pid), "adopted"])
    assert decided.exit_code == 0 and store.get(pid)["status"] == "adopted"
    wrong = run.invoke(main, ["proposal", "status", "--db", db, str(pid), "maybe"])
    assert wrong.exit_code == 2 and "status: got 'maybe': expected one of draft" in wrong.output
    out = tmp_path / "package"
    exported = run.invoke(main, ["proposal", "export", "--db", db, str(out)])
    assert exported.exit_code == 0, exported.output
    assert "1 proposal(s), 1 comment(s)" in exported.output
    assert "김민수" not in (out / "comments.csv").read_text(encoding="utf-8-sig")  # no consent: no name
    imported = run.invoke(main, ["proposal", "import", "--db", other, str(out)])
    assert imported.exit_code == 0 and imported.output.startswith("1 proposal(s) imported"), imported.output
    assert [p["title_en"] for p in open_store(other).proposals()] == ["<script>alert(1)</script>"]
    page = tmp_path / "p.html"
    reported = run.invoke(main, ["proposal", "report", "--db", db, str(pid), "--lang", "en", "--out", str(page)])
    assert reported.exit_code == 0 and page.is_file()
    text_ = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text_ and "<script>alert" not in text_
    not_a_package = run.invoke(main, ["proposal", "import", "--db", other, str(tmp_path)])
    assert not_a_package.exit_code == 2


def test_only_a_database_on_another_machine_is_said_to_be_on_the_network():
    from twin.proposals.store import network_host

    assert network_host("sqlite:////tmp/x.sqlite") is None
    assert network_host("postgresql+psycopg://twin@127.0.0.1:5432/twin") is None
    assert network_host("postgresql+psycopg://twin@localhost/twin") is None
    assert network_host("postgresql+psycopg://twin:pw@db.city.local/twin") == "db.city.local"
    assert network_host("not a url") is None


def test_a_database_of_another_program_or_a_folder_that_is_a_file_is_refused_in_one_line(tmp_path):
    import sqlite3

    foreign = tmp_path / "shop.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(ProposalError, match="has tables but no proposals schema"):
        open_store(f"sqlite:///{foreign}")
    with sqlite3.connect(foreign) as conn:  # left as it was
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ProposalError, match="cannot make the data folder"):
        open_store(f"sqlite:///{tmp_path / 'file' / 'p.sqlite'}")
    with pytest.raises(ProposalError) as err:
        open_store("postgresql+nodriver://u@127.0.0.1/db?password=S3CRETQ")
    assert "S3CRETQ" not in str(err.value) and "password=***" in str(err.value)


def test_a_database_failure_in_a_command_is_one_line_without_sql(tmp_path, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from twin.cli import main
    from twin.proposals.store import ProposalStore

    def down(self, status=None):
        raise OperationalError("SELECT secret FROM proposal", {"title": "비밀"}, Exception("server closed"))

    monkeypatch.setattr(ProposalStore, "proposals", down)
    r = CliRunner().invoke(main, ["proposal", "list", "--db", f"sqlite:///{tmp_path / 'p.sqlite'}"])
    assert r.exit_code == 1 and r.output.strip() == (
        "the proposals database failed (OperationalError): nothing of this command was stored; check the "
        "database and try again")
