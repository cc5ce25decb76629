"""Tasks have a mode: "ai" (the model does the work at each run, as every task did before) or
"reminder" (the words are posted as they are, without any model). Every existing task becomes an
"ai" task, unchanged otherwise; the downgrade drops the column (reminders then run as AI tasks).

On SQLite the column is added and dropped in place (ALTER TABLE … ADD / DROP COLUMN, its check
a constraint of the column itself): Alembic's batch mode would copy `tasks` into a new table and
drop the old one, and with foreign keys on, dropping it deletes every run and follow-up.

Revision ID: 0010_task_kinds
Revises: 0015_replicas
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_task_kinds"
down_revision: str | None = "0015_replicas"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "ck_tasks_task_mode"
VALUES = "mode IN ('ai', 'reminder')"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if _sqlite():
        op.execute(
            "ALTER TABLE tasks ADD COLUMN mode VARCHAR(16) DEFAULT 'ai' NOT NULL "
            f"CONSTRAINT {CHECK} CHECK ({VALUES})"
        )
        return
    op.add_column(
        "tasks", sa.Column("mode", sa.String(length=16), nullable=False, server_default="ai")
    )
    op.create_check_constraint(op.f(CHECK), "tasks", VALUES)


def downgrade() -> None:
    if _sqlite():
        op.execute("ALTER TABLE tasks DROP COLUMN mode")
        return
    op.drop_constraint(op.f(CHECK), "tasks", type_="check")
    op.drop_column("tasks", "mode")
