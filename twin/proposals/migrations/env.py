"""Alembic's environment: migrate the connection :func:`twin.proposals.store.open_store` passes in
``config.attributes["connection"]`` (no alembic.ini, no URL read from a file). Importing this module
outside Alembic does nothing."""

from __future__ import annotations

from alembic import context

from twin.proposals.records import Base


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "config", None) is not None:  # run by Alembic
    run_migrations()
