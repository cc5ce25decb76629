"""Follow-up owners (a follow-up left running by a worker that is gone becomes interrupted) and
message_parts (every message of a result or an answer split into several, so a reply to any of
them is understood).

Revision ID: 0008_followup_parts
Revises: 0007_tools_and_spending
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_followup_parts"
down_revision: str | None = "0007_tools_and_spending"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("followups", sa.Column("owner", sa.String(length=32), nullable=True))
    op.create_table(
        "message_parts",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column("followup_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_message_parts_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["followup_id"],
            ["followups.id"],
            name=op.f("fk_message_parts_followup_id_followups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", "message_id", name=op.f("pk_message_parts")),
    )
    op.create_index(op.f("ix_message_parts_run_id"), "message_parts", ["run_id"])
    op.create_index(op.f("ix_message_parts_followup_id"), "message_parts", ["followup_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_message_parts_followup_id"), table_name="message_parts")
    op.drop_index(op.f("ix_message_parts_run_id"), table_name="message_parts")
    op.drop_table("message_parts")
    op.drop_column("followups", "owner")
