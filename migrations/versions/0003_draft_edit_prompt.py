"""Drafts remember their Edit prompt's message, so a reply to it finds the draft without
reading the draft id back out of the prompt's wording.

Revision ID: 0003_draft_edit_prompt
Revises: 0002_chat_language
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_draft_edit_prompt"
down_revision: str | None = "0002_chat_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.add_column(sa.Column("edit_prompt_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drafts") as batch:
        batch.drop_column("edit_prompt_id")
