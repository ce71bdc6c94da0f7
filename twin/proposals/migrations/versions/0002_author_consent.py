"""A proposal's author gets a consent flag: whether their name may be published (open data).

Proposals made before it are not published with their author's name (the flag is false).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposal") as batch:  # SQLite alters a table by copying it
        batch.add_column(sa.Column("author_public", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("author_public")
