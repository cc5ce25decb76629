"""Forum topics and targets: a task remembers the topic it was made in (`tasks.thread_id`) and
where its results go (`tasks.targets`, NULL meaning its own chat and topic, which is what every
existing task keeps), and `deliveries` records each target's copy of a run's result beside the
run's own chat.

Revision ID: 0012_targets
Revises: 0010_task_kinds
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_targets"
down_revision: str | None = "0010_task_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENT = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
OWED = "state IN ('pending', 'retrying')"


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch copy: on SQLite a copy drops the table, and its runs
    # would go with it (ON DELETE CASCADE).
    op.add_column("tasks", sa.Column("thread_id", sa.BigInteger(), nullable=True))
    op.add_column("tasks", sa.Column("targets", DOCUMENT, nullable=True))
    op.create_table(
        "deliveries",
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("kind", _enum("target_kind", "chat", "telegram", "destination"), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            _enum("delivery_state", "pending", "retrying", "sent", "failed"),
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_deliveries_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "target", name=op.f("pk_deliveries")),
    )
    op.create_index(
        "ix_deliveries_owed",
        "deliveries",
        ["run_id"],
        postgresql_where=sa.text(OWED),
        sqlite_where=sa.text(OWED),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_deliveries_owed",
        table_name="deliveries",
        postgresql_where=sa.text(OWED),
        sqlite_where=sa.text(OWED),
    )
    op.drop_table("deliveries")
    op.drop_column("tasks", "targets")
    op.drop_column("tasks", "thread_id")
