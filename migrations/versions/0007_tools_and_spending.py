"""Runs remember the tools they used; a ledger of every LLM expense per chat (monthly budget).

Revision ID: 0007_tools_and_spending
Revises: 0006_run_owners
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_tools_and_spending"
down_revision: str | None = "0006_run_owners"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("tool_calls", JSON_DOCUMENT, nullable=True))
    op.create_table(
        "spending",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name="fk_spending_chat_id_chats", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_spending_task_id_tasks", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_spending"),
    )
    op.create_index("ix_spending_chat_at", "spending", ["chat_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_spending_chat_at", table_name="spending")
    op.drop_table("spending")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("tool_calls")
