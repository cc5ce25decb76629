"""Tasks choose their model, their tools and a monthly cap; runs record the tries of a run that
failed for a reason that heals (the model a run asked is 0015_replicas' runs.model).

Every existing task carries over as it was: no model of its own (LLM_MODEL), every configured
tool (`tools` NULL), no cap. Every existing run is its occurrence's first try, with no retry
due.

Revision ID: 0011_task_models
Revises: 0012_targets
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_task_models"
down_revision: str | None = "0012_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
OPTIONAL_DOCUMENT = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
RETRY_DUE = "retry_at IS NOT NULL"


def upgrade() -> None:
    # Columns added in place: rebuilding `tasks` the SQLite way (a batch) would drop the old
    # table, and with it, through ON DELETE CASCADE, every run and follow-up.
    op.add_column("tasks", sa.Column("model", sa.String(length=64), nullable=True))
    op.add_column("tasks", sa.Column("tools", OPTIONAL_DOCUMENT, nullable=True))
    op.add_column("tasks", sa.Column("monthly_cap_usd", sa.Float(), nullable=True))
    op.add_column(
        "runs", sa.Column("attempt", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.add_column("runs", sa.Column("retry_of", sa.BigInteger(), nullable=True))
    op.add_column("runs", sa.Column("retry_at", UTC_DATETIME, nullable=True))
    op.create_index(
        "ix_runs_retry_due",
        "runs",
        ["retry_at"],
        postgresql_where=sa.text(RETRY_DUE),
        sqlite_where=sa.text(RETRY_DUE),
    )


def downgrade() -> None:
    op.drop_index("ix_runs_retry_due", table_name="runs")
    # In place too (SQLite 3.35+ drops a column itself), for the same reason.
    for column in ("retry_at", "retry_of", "attempt"):
        op.drop_column("runs", column)
    for column in ("monthly_cap_usd", "tools", "model"):
        op.drop_column("tasks", column)
