"""Tasks started by events: a trigger URL's secret digest, one task after another, quiet when
nothing changed; runs keep the event that started them and the run they followed.

tasks: trigger_hash (unique), after_task_id (SET NULL when that task goes), after_always,
quiet_changed. runs: payload, parent_run_id, the triggers `event` and `after`, and a unique
index that lets a run of one task start each follower once.

SQLite changes no table by copying it here: with foreign keys on (storage.database), dropping
the old `tasks` or `runs` after a batch copy would cascade into every run, follow-up and message
part that points at them. It adds the columns in place (ADD COLUMN), and adds their foreign keys
and widens the trigger check by rewriting the table's recorded definition, the procedure
SQLite's documentation gives for changing constraints that do not change how rows are stored
(`PRAGMA writable_schema`): no row changes, every row passes the wider check, and the new
columns are NULL in every row, which their foreign keys accept.

The downgrade records the new triggers as `manual` (the older versions know no other way a run
was asked for), narrows the check again and drops the columns.

Revision ID: 0014_triggers
Revises: 0009_run_reasons
Create Date: 2026-12-07
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_triggers"
down_revision: str | None = "0009_run_reasons"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TRIGGERS = ("schedule", "manual", "catch_up", "retry")
NEW_TRIGGERS = (*OLD_TRIGGERS, "event", "after")
TRIGGER_CHECK = "ck_runs_run_trigger"
AFTER_RUN = "trigger = 'after'"
# The trigger check as SQLite recorded it, whatever its quoting and spacing.
SQLITE_TRIGGER_CHECK = re.compile(r'CHECK\s*\(\s*"?trigger"?\s+IN\s*\([^)]*\)\s*\)', re.IGNORECASE)
# The end of a recorded CREATE TABLE, where a table constraint is added.
TABLE_END = re.compile(r"\s*\)\s*$")
# (table, column, constraint, referred table) of the two new foreign keys.
REFERENCES = (
    ("tasks", "after_task_id", "fk_tasks_after_task_id_tasks", "tasks"),
    ("runs", "parent_run_id", "fk_runs_parent_run_id_runs", "runs"),
)


def _trigger_check(values: Sequence[str]) -> str:
    return '"trigger" IN (' + ", ".join(f"'{value}'" for value in values) + ")"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _literal(text: str) -> Callable[[re.Match[str]], str]:
    return lambda _match: text


def _rewrite_sqlite_table(table: str, rewrite: dict[re.Pattern[str], str]) -> None:
    """Change the recorded CREATE TABLE of `table` (constraints only: the rows' format stays),
    as SQLite's documentation describes for CHECK and FOREIGN KEY constraints."""
    bind = op.get_bind()
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    changed = sql
    for pattern, replacement in rewrite.items():
        # A function, so that backslashes in the replacement are taken as written.
        changed, count = pattern.subn(_literal(replacement), changed)
        if count != 1:
            raise RuntimeError(f"the definition of {table} is not the one expected: {sql}")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :name"),
        {"sql": changed, "name": table},
    )
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))


def upgrade() -> None:
    sqlite = _sqlite()
    op.add_column("tasks", sa.Column("trigger_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "tasks",
        sa.Column("after_always", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "tasks",
        sa.Column("quiet_changed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("runs", sa.Column("payload", sa.Text(), nullable=True))
    for table, column, constraint, referred in REFERENCES:
        op.add_column(table, sa.Column(column, sa.BigInteger(), nullable=True))
        if sqlite:
            reference = (
                f", \n\tCONSTRAINT {constraint} FOREIGN KEY({column}) REFERENCES {referred} (id) "
                "ON DELETE SET NULL\n)"
            )
            rewrite = {TABLE_END: reference}
            if table == "runs":
                rewrite[SQLITE_TRIGGER_CHECK] = f"CHECK ({_trigger_check(NEW_TRIGGERS)})"
            _rewrite_sqlite_table(table, rewrite)
        else:
            op.create_foreign_key(
                op.f(constraint), table, referred, [column], ["id"], ondelete="SET NULL"
            )
    if not sqlite:
        op.drop_constraint(op.f(TRIGGER_CHECK), "runs", type_="check")
        op.create_check_constraint(
            op.f(TRIGGER_CHECK), "runs", sa.text(_trigger_check(NEW_TRIGGERS))
        )
    op.create_index("uq_tasks_trigger_hash", "tasks", ["trigger_hash"], unique=True)
    op.create_index(
        "ix_tasks_after_task_id",
        "tasks",
        ["after_task_id"],
        postgresql_where=sa.text("after_task_id IS NOT NULL"),
        sqlite_where=sa.text("after_task_id IS NOT NULL"),
    )
    op.create_index(
        "uq_runs_after_parent",
        "runs",
        ["task_id", "parent_run_id"],
        unique=True,
        postgresql_where=sa.text(AFTER_RUN),
        sqlite_where=sa.text(AFTER_RUN),
    )


def downgrade() -> None:
    sqlite = _sqlite()
    op.drop_index("uq_runs_after_parent", table_name="runs")
    op.drop_index("uq_tasks_trigger_hash", table_name="tasks")
    op.drop_index("ix_tasks_after_task_id", table_name="tasks")
    op.execute(
        sa.text("UPDATE runs SET \"trigger\" = 'manual' WHERE \"trigger\" IN ('event', 'after')")
    )
    for table, column, constraint, referred in REFERENCES:
        if sqlite:
            reference = re.compile(
                rf",\s*CONSTRAINT\s+{constraint}\s+FOREIGN\s+KEY\s*\(\s*{column}\s*\)\s*"
                rf'REFERENCES\s+"?{referred}"?\s*\(\s*id\s*\)\s*ON\s+DELETE\s+SET\s+NULL',
                re.IGNORECASE,
            )
            rewrite = {reference: ""}
            if table == "runs":
                narrower = f"CHECK ({_trigger_check(OLD_TRIGGERS)})"
                rewrite[SQLITE_TRIGGER_CHECK] = narrower
            _rewrite_sqlite_table(table, rewrite)
        else:
            op.drop_constraint(op.f(constraint), table, type_="foreignkey")
        op.drop_column(table, column)
    if not sqlite:
        op.drop_constraint(op.f(TRIGGER_CHECK), "runs", type_="check")
        op.create_check_constraint(
            op.f(TRIGGER_CHECK), "runs", sa.text(_trigger_check(OLD_TRIGGERS))
        )
    op.drop_column("runs", "payload")
    op.drop_column("tasks", "quiet_changed")
    op.drop_column("tasks", "after_always")
    op.drop_column("tasks", "trigger_hash")
