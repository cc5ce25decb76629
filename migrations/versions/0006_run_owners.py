"""Run owners and undelivered results: a workers table with heartbeats, runs.owner and
runs.delivery_pending.

Revision ID: 0006_run_owners
Revises: 0005_followups_and_changes
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_run_owners"
down_revision: str | None = "0005_followups_and_changes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("heartbeat_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    # Plain ADD/DROP COLUMN (SQLite has both): a batch copy of `runs` would have to rebuild
    # its partial indexes.
    op.add_column("runs", sa.Column("owner", sa.String(length=32), nullable=True))
    op.add_column(
        "runs",
        sa.Column(
            "delivery_pending", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.create_index(
        "ix_runs_undelivered",
        "runs",
        ["owner"],
        postgresql_where=sa.text("delivery_pending"),
        sqlite_where=sa.text("delivery_pending"),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_undelivered", table_name="runs")
    op.drop_column("runs", "delivery_pending")
    op.drop_column("runs", "owner")
    op.drop_table("workers")
