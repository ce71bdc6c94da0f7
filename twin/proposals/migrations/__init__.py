"""Alembic migrations of the proposals database (run by :func:`twin.proposals.store.open_store`)."""
