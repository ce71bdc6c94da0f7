"""The tables of the proposals database (SQLAlchemy 2 declarative models).

A proposal's ``version`` is SQLAlchemy's version counter: an update that started from an older
version fails (optimistic locking), so two workshop users editing one proposal never overwrite each
other silently. A vote is one per participant and proposal (a unique constraint: a second vote
replaces the first). Times are UTC. Text is stored as typed; every place that shows it escapes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("draft", "under_evaluation", "evaluated", "adopted", "rejected")
"""A proposal's states, in the order a workshop moves it through them."""
SCHEMA_REVISION = "0002"
"""The Alembic revision of this code's schema (twin/proposals/migrations/versions)."""


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive, always UTC


class Base(DeclarativeBase):
    pass


class Proposal(Base):
    """A proposal: titles and descriptions (ko, en), author (``author_public``: whether their name may
    be published), status, and its change: the scenario it
    starts from and the overrides (``--set`` lines) that make it, and a dataset patch (kept as data)."""

    __tablename__ = "proposal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_ko: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    description_ko: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100))
    author_public: Mapped[bool] = mapped_column(default=False)  # may the author's name be published (open data)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    scenario: Mapped[str] = mapped_column(String(500))
    overrides: Mapped[list[str]] = mapped_column(JSON, default=list)
    dataset_patch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    comments: Mapped[list[Comment]] = relationship(back_populates="proposal", order_by="Comment.id",
                                                   cascade="all, delete-orphan")
    votes: Mapped[list[Vote]] = relationship(back_populates="proposal", cascade="all, delete-orphan")
    evaluations: Mapped[list[Evaluation]] = relationship(back_populates="proposal", order_by="Evaluation.id",
                                                         cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class Comment(Base):
    """A citizen's comment; ``public_name``: whether their name may be published (open data)."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    participant: Mapped[str] = mapped_column(String(100))
    public_name: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    proposal: Mapped[Proposal] = relationship(back_populates="comments")


class Vote(Base):
    """A participant's vote on a proposal: +1 for, -1 against (one per participant and proposal)."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("proposal_id", "participant", name="one_vote_per_participant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    participant: Mapped[str] = mapped_column(String(100))
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    proposal: Mapped[Proposal] = relationship(back_populates="votes")


class Evaluation(Base):
    """A run (or sweep) of the proposal against its baseline: their run folders by content key and
    the KPIs of each (``kpis``: {"baseline": {...}, "proposal": {...}})."""

    __tablename__ = "evaluation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="run")
    baseline_key: Mapped[str] = mapped_column(String(64))
    proposal_key: Mapped[str] = mapped_column(String(64))
    kpis: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    proposal: Mapped[Proposal] = relationship(back_populates="evaluations")
