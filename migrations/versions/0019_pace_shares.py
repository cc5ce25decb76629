"""One bot's rate across replicas: workers.share, the share of the bot's Telegram rate each
replica sends at until its next heartbeat, so that a replica raising its own share sees what
the others send at now (scheduler.engine.sending_share), not what they had to send.

Existing rows carry over with share 0 (a replica writes its own at its next beat).

Revision ID: 0019_pace_shares
Revises: 0018_shared_limits
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_pace_shares"
down_revision: str | None = "0018_shared_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workers", sa.Column("share", sa.Float(), server_default=sa.text("0"), nullable=False)
    )


def downgrade() -> None:
    op.drop_column("workers", "share")
