"""Replicas and the operator: runs.model (the model a run asked), runs.restarts (how often a
run was started again after its process died), workers.demand (how much each replica has to
send, for its share of the bot's Telegram rate), and the incidents the operator is told about.

Existing rows carry over: model NULL (not recorded then), restarts 0, demand 0.

Revision ID: 0015_replicas
Revises: 0013_attachments
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015_replicas"
down_revision: str | None = "0013_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Plain ADD/DROP COLUMN (SQLite has both): a batch copy of `runs` would have to rebuild
    # its partial indexes.
    op.add_column("runs", sa.Column("model", sa.String(length=100), nullable=True))
    op.add_column(
        "runs", sa.Column("restarts", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "workers", sa.Column("demand", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.create_table(
        "incidents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("facts", JSON_DOCUMENT, nullable=False),
        sa.Column("opened_at", UTC_DATETIME, nullable=False),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.Column("alerted_at", UTC_DATETIME, nullable=True),
        sa.Column("resolution_told_at", UTC_DATETIME, nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_key", "incidents", ["key"])
    op.create_index(
        "uq_incidents_open_key",
        "incidents",
        ["key"],
        unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
        sqlite_where=sa.text("resolved_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_incidents_open_key", table_name="incidents")
    op.drop_index("ix_incidents_key", table_name="incidents")
    op.drop_table("incidents")
    op.drop_column("workers", "demand")
    op.drop_column("runs", "restarts")
    op.drop_column("runs", "model")
