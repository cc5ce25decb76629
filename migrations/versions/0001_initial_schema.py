"""Initial schema: chats, tasks, runs, drafts.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Datetimes are aware and stored as UTC (storage.types.UTCDateTime in the models).
UTC_DATETIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
    )
    op.create_table(
        "tasks",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("kind", _enum("task_kind", "cron", "once", "interval"), nullable=False),
        sa.Column("cron", sa.String(length=255), nullable=True),
        sa.Column("run_at", UTC_DATETIME, nullable=True),
        sa.Column("every_seconds", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("state", _enum("task_state", "active", "paused", "finished"), nullable=False),
        sa.Column("next_run_at", UTC_DATETIME, nullable=True),
        sa.Column("last_run_at", UTC_DATETIME, nullable=True),
        sa.Column(
            "consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "(kind = 'cron' AND cron IS NOT NULL)"
            " OR (kind = 'once' AND run_at IS NOT NULL)"
            " OR (kind = 'interval' AND every_seconds IS NOT NULL AND run_at IS NOT NULL)",
            name=op.f("ck_tasks_schedule_fields"),
        ),
        sa.CheckConstraint(
            "state = 'active' OR next_run_at IS NULL",
            name=op.f("ck_tasks_next_run_only_when_active"),
        ),
        sa.CheckConstraint(
            "every_seconds IS NULL OR every_seconds > 0", name=op.f("ck_tasks_positive_interval")
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_tasks_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_chat_id"), "tasks", ["chat_id"])
    op.create_index(op.f("ix_tasks_next_run_at"), "tasks", ["next_run_at"])

    op.create_table(
        "drafts",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_drafts_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_drafts_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafts")),
    )
    op.create_index(op.f("ix_drafts_chat_id"), "drafts", ["chat_id"])
    op.create_index(op.f("ix_drafts_expires_at"), "drafts", ["expires_at"])

    op.create_table(
        "runs",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("scheduled_for", UTC_DATETIME, nullable=False),
        sa.Column(
            "trigger",
            _enum("run_trigger", "schedule", "manual", "catch_up", "retry"),
            nullable=False,
        ),
        sa.Column(
            "status",
            _enum(
                "run_status",
                "running",
                "succeeded",
                "failed",
                "silent",
                "skipped",
                "missed",
                "interrupted",
            ),
            nullable=False,
        ),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("delivered_message_id", sa.BigInteger(), nullable=True),
        sa.Column("delivery_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_runs_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_task_id"), "runs", ["task_id"])
    op.create_index(op.f("ix_runs_delivered_message_id"), "runs", ["delivered_message_id"])
    op.create_index(
        "ix_runs_running",
        "runs",
        ["task_id"],
        postgresql_where=sa.text("status = 'running'"),
        sqlite_where=sa.text("status = 'running'"),
    )
    op.create_index(
        "uq_runs_scheduled_occurrence",
        "runs",
        ["task_id", "scheduled_for"],
        unique=True,
        postgresql_where=sa.text("trigger IN ('schedule', 'catch_up')"),
        sqlite_where=sa.text("trigger IN ('schedule', 'catch_up')"),
    )


def downgrade() -> None:
    op.drop_table("runs")
    op.drop_table("drafts")
    op.drop_table("tasks")
    op.drop_table("chats")
