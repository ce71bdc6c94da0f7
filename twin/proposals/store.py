"""The proposals database: opened (created or migrated forward by Alembic) and used in transactions.

``open_store(url)`` gives a :class:`ProposalStore`. The URL is ``--db``, else ``TWIN_DB_URL``, else
a SQLite file in the data folder beside the runs (``$TWIN_DATA_DIR``, default ``data/``,
``proposals.sqlite``), created on first use. A SQLite file is reachable only through this machine's
file system; a PostgreSQL server is whatever its URL names (keep it on 127.0.0.1).

Every write is one transaction: a crash leaves the database as before or after it, never between.
A proposal carries a version: :meth:`ProposalStore.update` says which version it started from and
fails with :class:`~twin.errors.ProposalConflict` when someone changed it meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from ..errors import ProposalConflict, ProposalError, ScenarioError
from .records import SCHEMA_REVISION, STATUSES, Comment, Evaluation, Proposal, Vote

MAX_TEXT = {"title": 200, "description": 5000, "author": 100, "participant": 100, "comment": 2000}
"""Longest texts accepted, characters."""
ONE_LINE = ("title", "author", "participant")
"""Texts kept on one line (a line break in a title could pose as another row of a list)."""
MAX_ID = 2**63 - 1  # the largest id either database can hold


def data_dir() -> Path:
    """The data folder beside the runs (absolute): ``$TWIN_DATA_DIR``, default ``data/``. It holds
    the SQLite database, the evaluations' run folders (``runs/<key>/``) and patched datasets
    (``datasets/<key>/``)."""
    return Path(os.environ.get("TWIN_DATA_DIR", "data")).resolve()


def default_url() -> str:
    """``TWIN_DB_URL``, else ``sqlite:///<data folder>/proposals.sqlite``."""
    url = os.environ.get("TWIN_DB_URL", "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / 'proposals.sqlite'}"


def open_store(url: str | None = None) -> ProposalStore:
    """The store at ``url`` (default :func:`default_url`), its schema migrated to this version's."""
    url = url or default_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        parent = Path(url.removeprefix("sqlite:///")).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProposalError(f"{parent}: cannot make the data folder ({exc.strerror or type(exc).__name__}): "
                                "expected a folder (TWIN_DATA_DIR or --db)") from None
    try:
        engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise ProposalError(
            f"--db: cannot use {_safe_url(url)} ({type(exc).__name__}): expected a database URL such as "
            "sqlite:///data/proposals.sqlite or postgresql+psycopg://user@127.0.0.1/twin"
        ) from None
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    migrate(engine)
    return ProposalStore(engine)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")  # readers and one writer at once, and a crash loses no commit
    cur.close()


def migrate(engine: Engine) -> None:
    """Bring the database's schema to this version's (Alembic ``upgrade head``); a database made by a
    newer version is refused rather than changed."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.begin() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current > SCHEMA_REVISION:
                raise ProposalError(
                    f"the proposals database is at schema {current}, newer than this twin's {SCHEMA_REVISION}: "
                    "open it with a newer twin"
                )
            if current == SCHEMA_REVISION:
                return  # already this version's: nothing to load or run
            if current is None and sa_inspect(conn).get_table_names():
                raise ProposalError("the database has tables but no proposals schema: expected a proposals "
                                    "database or an empty one (is --db another program's database?)")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise ProposalError(f"the proposals database cannot be opened ({type(exc).__name__}: "
                            f"{str(exc).splitlines()[0][:200]})") from None


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def network_host(url: str) -> str | None:
    """The host of a database URL that is reached over the network (not this machine's loopback or
    a socket file), else None: the place a workshop's database would be reachable from outside."""
    from sqlalchemy.engine import make_url

    try:
        host = make_url(url).host
    except Exception:  # noqa: BLE001 - not a URL: open_store says so
        return None
    return host if host and host not in LOOPBACK_HOSTS else None


def _safe_url(url: str) -> str:
    """A URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        shown = parsed.set(query={}).render_as_string(hide_password=True)
        # a password may also come as ?password=...: say which options were given, not their values
        return shown + ("?" + "&".join(f"{k}=***" for k in parsed.query) if parsed.query else "")
    except Exception:  # noqa: BLE001 - not a URL at all
        return "the given URL"


def check_change(scenario: str, overrides: Sequence[str], dataset_patch: Any = None) -> list[str]:
    """Problems of a proposal's change: its scenario with its overrides must validate as a run would,
    and its dataset patch as a dataset would (:func:`twin.proposals.patch.patch_problems`)."""
    from ..scenario import load_scenario
    from .patch import patch_problems

    try:
        s = load_scenario(scenario, overrides=list(overrides))
    except ScenarioError as exc:
        return list(exc.problems)
    return patch_problems(dataset_patch, s.dataset_path()) if dataset_patch is not None else []


def _evaluation(e: Evaluation) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "baseline_key": e.baseline_key, "proposal_key": e.proposal_key,
            "kpis": e.kpis, "created_at": e.created_at.isoformat(timespec="seconds") + "Z"}


def text_problems(field: str, value: Any, limit_key: str, *, empty_ok: bool = False) -> list[str]:
    limit = MAX_TEXT[limit_key]
    if not isinstance(value, str):
        return [f"{field}: got {type(value).__name__}: expected text"]
    if not value.strip() and not empty_ok:
        return [f"{field}: got nothing: expected text"]
    if len(value) > limit:
        return [f"{field}: got {len(value)} characters: expected at most {limit}"]
    one_line = limit_key in ONE_LINE
    if any(_control(c) and not (c in "\n\t" and not one_line) for c in value):
        what = "a line break or control character" if one_line else "a control character"
        return [f"{field}: got {what}: expected text" + (" on one line" if one_line else "")]
    return []


def _control(c: str) -> bool:
    """Characters no one types as text: C0 and C1 controls, DEL, and the bidirectional overrides and
    isolates that reorder what is shown (a title could pose as another); PostgreSQL refuses NUL."""
    o = ord(c)
    return o < 32 or 0x7F <= o <= 0x9F or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069


class ProposalStore:
    """Proposals, comments and votes in one database (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is one transaction: committed at the end, rolled back on an error."""
        with self._sessions.begin() as session:
            yield session

    # --- proposals -------------------------------------------------------------------------
    def new(
        self,
        *,
        title_ko: str,
        title_en: str,
        author: str,
        scenario: str,
        overrides: Sequence[str] = (),
        description_ko: str = "",
        description_en: str = "",
        dataset_patch: dict[str, Any] | None = None,
        author_public: bool = False,
    ) -> int:
        """Add a draft proposal; its change is validated first (:class:`~twin.errors.ProposalError`
        with one line per problem). Returns its id."""
        problems = (
            text_problems("title.ko", title_ko, "title") + text_problems("title.en", title_en, "title")
            + text_problems("author", author, "author")
            + text_problems("description.ko", description_ko, "description", empty_ok=True)
            + text_problems("description.en", description_en, "description", empty_ok=True)
        )
        if not problems:
            problems = check_change(scenario, overrides, dataset_patch)
        if problems:
            raise ProposalError(problems)
        p = Proposal(title_ko=title_ko, title_en=title_en, author=author, author_public=bool(author_public),
                     scenario=str(Path(scenario).resolve()),
                     overrides=list(overrides), dataset_patch=dict(dataset_patch or {}), description_ko=description_ko,
                     description_en=description_en, status="draft")
        with self.transaction() as s:
            s.add(p)
            s.flush()
            return int(p.id)

    def proposals(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every proposal (newest first), or those of one ``status``: id, titles, author, status,
        version, votes for and against, number of comments (n_comments)."""
        if status is not None and status not in STATUSES:
            raise ProposalError(f"status: got {status!r}: expected one of {', '.join(STATUSES)}")
        with self.transaction() as s:
            q = select(Proposal).order_by(Proposal.id.desc())
            if status is not None:
                q = q.where(Proposal.status == status)
            return [self._summary(s, p) for p in s.scalars(q)]

    def get(self, proposal_id: int) -> dict[str, Any]:
        """One proposal, whole: its fields, comments (oldest first), vote tally and evaluations."""
        with self.transaction() as s:
            p = self._proposal(s, proposal_id)
            out = self._summary(s, p)
            out.update(
                description_ko=p.description_ko, description_en=p.description_en, scenario=p.scenario,
                overrides=list(p.overrides), dataset_patch=dict(p.dataset_patch),
                created_at=p.created_at.isoformat(timespec="seconds") + "Z",
                updated_at=p.updated_at.isoformat(timespec="seconds") + "Z",
                comments=[{"id": c.id, "participant": c.participant, "public_name": c.public_name, "text": c.text,
                           "created_at": c.created_at.isoformat(timespec="seconds") + "Z"} for c in p.comments],
                evaluations=[_evaluation(e) for e in p.evaluations],
            )
            return out

    def update(self, proposal_id: int, *, version: int, **fields: Any) -> int:
        """Change fields of a proposal that is still at ``version`` (the one the caller read); returns
        the new version. :class:`~twin.errors.ProposalConflict` when it changed meanwhile."""
        allowed = {"title_ko", "title_en", "description_ko", "description_en", "status", "overrides", "dataset_patch"}
        unknown = sorted(set(fields) - allowed)
        if unknown:
            raise ProposalError(f"update: got {', '.join(unknown)}: expected some of {', '.join(sorted(allowed))}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise ProposalError(f"status: got {fields['status']!r}: expected one of {', '.join(STATUSES)}")
        try:
            with self.transaction() as s:
                p = self._proposal(s, proposal_id)
                if p.version != version:
                    raise ProposalConflict(self._conflict(proposal_id, version, p.version))
                problems = [line for k in ("title_ko", "title_en") if k in fields
                            for line in text_problems(k.replace("_", "."), fields[k], "title")]
                problems += [line for k in ("description_ko", "description_en") if k in fields
                             for line in text_problems(k.replace("_", "."), fields[k], "description", empty_ok=True)]
                if not problems and {"overrides", "dataset_patch"} & set(fields):
                    problems = check_change(p.scenario, fields.get("overrides", p.overrides),
                                            fields.get("dataset_patch", p.dataset_patch))
                if problems:
                    raise ProposalError(problems)
                for k, v in fields.items():
                    setattr(p, k, list(v) if k == "overrides" else dict(v) if k == "dataset_patch" else v)
                s.flush()
                return int(p.version)
        except StaleDataError:  # changed between our read and our write
            raise ProposalConflict(self._conflict(proposal_id, version, None)) from None

    @staticmethod
    def _conflict(proposal_id: int, version: int, now: int | None) -> str:
        now_text = f" (it is at version {now})" if now is not None else ""
        return (f"proposal {proposal_id}: changed by someone else since version {version}{now_text}: "
                "open it again and redo the change")

    def add_evaluation(self, proposal_id: int, *, change: dict[str, Any], kind: str, baseline_key: str,
                       proposal_key: str, kpis: dict[str, Any]) -> dict[str, Any]:
        """Store an evaluation of the proposal's ``change`` (its overrides and dataset patch when the
        runs were made) and mark it evaluated, in one transaction (an evaluation equal to one stored
        is not stored twice). :class:`~twin.errors.ProposalConflict`
        when the proposal's change is no longer ``change`` (edited meanwhile: evaluate it again)."""
        with self.transaction() as s:
            p = self._proposal(s, proposal_id)
            if list(p.overrides) != change["overrides"] or dict(p.dataset_patch) != change["dataset_patch"]:
                raise ProposalConflict(f"proposal {proposal_id}: its change was edited during the evaluation: "
                                       "evaluate it again")
            e = next((x for x in p.evaluations if (x.kind, x.baseline_key, x.proposal_key, x.kpis)
                      == (kind, baseline_key, proposal_key, kpis)), None)  # the same runs again: kept once
            if e is None:
                e = Evaluation(proposal_id=proposal_id, kind=kind, baseline_key=baseline_key,
                               proposal_key=proposal_key, kpis=kpis)
                s.add(e)
            if p.status == "under_evaluation":
                p.status = "evaluated"
            s.flush()
            return _evaluation(e)

    # --- feedback --------------------------------------------------------------------------
    def comment(self, proposal_id: int, *, participant: str, text: str, public_name: bool = False) -> int:
        """Add a comment (kept as typed; shown escaped); returns its id."""
        problems = text_problems("participant", participant, "participant") + text_problems("comment", text, "comment")
        if problems:
            raise ProposalError(problems)
        with self.transaction() as s:
            self._proposal(s, proposal_id)
            c = Comment(proposal_id=proposal_id, participant=participant, text=text, public_name=bool(public_name))
            s.add(c)
            s.flush()
            return int(c.id)

    def vote(self, proposal_id: int, *, participant: str, value: int) -> None:
        """A participant's vote (+1 for, -1 against); a second vote by the same participant replaces
        the first: one vote per participant and proposal, also under concurrent sessions."""
        problems = text_problems("participant", participant, "participant")
        if value not in (1, -1):
            problems.append(f"vote: got {value!r}: expected 1 (for) or -1 (against)")
        if problems:
            raise ProposalError(problems)
        for _ in range(3):
            try:
                with self.transaction() as s:
                    self._proposal(s, proposal_id)
                    mine = s.scalars(select(Vote).where(Vote.proposal_id == proposal_id,
                                                        Vote.participant == participant)).first()
                    if mine is None:
                        s.add(Vote(proposal_id=proposal_id, participant=participant, value=value))
                    else:
                        mine.value = value
                return
            except IntegrityError:  # the same participant's other session inserted first: update it
                continue
        raise ProposalConflict(f"proposal {proposal_id}: the vote of {participant!r} could not be stored; try again")

    # --- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _proposal(s: Session, proposal_id: int) -> Proposal:
        ok = isinstance(proposal_id, int) and 1 <= proposal_id <= MAX_ID
        p = s.get(Proposal, proposal_id) if ok else None
        if p is None:
            raise ProposalError(f"proposal {proposal_id!r}: no such proposal")
        return p

    @staticmethod
    def _summary(s: Session, p: Proposal) -> dict[str, Any]:
        rows = s.execute(select(Vote.value, func.count()).where(Vote.proposal_id == p.id).group_by(Vote.value))
        votes = {int(value): int(n) for value, n in rows}
        n_comments = s.scalar(select(func.count()).select_from(Comment).where(Comment.proposal_id == p.id))
        return {"id": p.id, "title_ko": p.title_ko, "title_en": p.title_en, "author": p.author,
                "author_public": bool(p.author_public),
                "status": p.status, "version": p.version, "votes_for": int(votes.get(1, 0)),
                "votes_against": int(votes.get(-1, 0)), "n_comments": int(n_comments or 0)}
