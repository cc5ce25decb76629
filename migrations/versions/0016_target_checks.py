"""Why a target refused a copy, and what the task's own chat was told about it: `deliveries`
records each copy's reason as a code and its facts (core/reasons.py, as runs do), and
`target_notices` holds, per task and target, the refusal its chat was told about, so that it is
told once (across restarts and replicas) and again only after the target has worked meanwhile.

Existing copies keep their `error` text and no code (read back as that text).

Revision ID: 0016_target_checks
Revises: 0011_task_models
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_target_checks"
down_revision: str | None = "0011_task_models"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONAL_DOCUMENT = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)


def upgrade() -> None:
    # In place (no batch copy): a copy of `deliveries` on SQLite is needless churn.
    op.add_column("deliveries", sa.Column("reason_code", sa.String(length=32), nullable=True))
    op.add_column("deliveries", sa.Column("reason_facts", OPTIONAL_DOCUMENT, nullable=True))
    op.create_table(
        "target_notices",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_target_notices_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", "target", name=op.f("pk_target_notices")),
    )


def downgrade() -> None:
    op.drop_table("target_notices")
    for column in ("reason_facts", "reason_code"):
        op.drop_column("deliveries", column)
