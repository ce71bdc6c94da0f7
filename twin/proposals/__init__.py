"""Living-lab proposals that persist: a proposal (a change to the city or a scenario, in Korean and
English, with its author and status), its evaluations, and citizens' comments and votes, kept in a
database (SQLite by default, PostgreSQL by URL) whose schema Alembic migrates forward.

:mod:`~twin.proposals.records` declares the tables, :mod:`~twin.proposals.store` opens a database
(creating or migrating it) and reads and writes proposals in transactions.
"""
