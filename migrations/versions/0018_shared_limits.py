"""One bot's Telegram limits across replicas: chat_pace holds, per chat, when its next message
may go (storage/chat_pace.py), so several replicas together keep each chat's and each group's
pace. A new table only; nothing carries over (an empty table means every chat is free).

Revision ID: 0018_shared_limits
Revises: 0016_target_checks
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_shared_limits"
down_revision: str | None = "0016_target_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_pace",
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("spacing", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("chat", name="pk_chat_pace"),
    )
    op.create_index("ix_chat_pace_next_at", "chat_pace", ["next_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_pace_next_at", table_name="chat_pace")
    op.drop_table("chat_pace")
