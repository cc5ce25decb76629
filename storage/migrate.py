"""Running Alembic from code: upgrade to head, report the revision, refuse unknown ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import String, column, inspect, select, table
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

from core.errors import DatabaseError
from storage.database import create_engine, describe_connection_error, missing_sqlite_folder
from storage.models import TABLE_NAMES, Base

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Our own name, so cronpilot can share a database with another Alembic-managed application.
VERSION_TABLE = "cronpilot_alembic_version"
# A revision file's own two lines, as `alembic revision` writes them (script.py.mako).
_REVISION = re.compile(r'^revision: str = "([^"]+)"$', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = (?:"([^"]+)"|None)$', re.MULTILINE)

T = TypeVar("T")


def alembic_config(database_url: str | None = None) -> Config:
    # Alembic is imported where it is used: a start at the newest revision never needs it.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def _include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    # Only our tables: autogenerate must never propose dropping tables that belong to others.
    if type_ == "table":
        return name in TABLE_NAMES
    return True


def configure_context(context: Any, connection: Connection) -> None:
    """Configure an Alembic environment context the same way for every caller."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_name=_include_name,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


@dataclass(frozen=True, slots=True)
class RevisionState:
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def _script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def shipped_head() -> str | None:
    """The newest revision this cronpilot ships, read from the revision files' own lines
    without Alembic; None when they are not one plain chain (a merge, a branch), which only
    Alembic reads right."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for entry in files("migrations").joinpath("versions").iterdir():
        if not entry.name.endswith(".py") or entry.name.startswith("_"):
            continue
        source = entry.read_text(encoding="utf-8")
        revision = _REVISION.findall(source)
        down = _DOWN_REVISION.findall(source)
        if len(revision) != 1 or len(down) != 1:
            return None
        revisions.add(revision[0])
        parents.add(down[0])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored_revisions(connection: Connection) -> list[str] | None:
    """The revisions the version table holds; None when there is none yet."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    stored = select(column("version_num", String)).select_from(table(VERSION_TABLE))
    return list(connection.execute(stored).scalars())


def _read_revision(connection: Connection) -> RevisionState:
    from alembic.runtime.migration import MigrationContext
    from alembic.util.exc import CommandError

    script = _script_directory()
    head = script.get_current_head()
    if head is None:
        raise DatabaseError("cronpilot ships no migrations; the installation is broken")
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    heads = context.get_current_heads()
    if len(heads) > 1:
        raise DatabaseError(f"the database has several revisions at once: {', '.join(heads)}")
    current = heads[0] if heads else None
    if current is not None:
        try:
            script.get_revision(current)
        except CommandError:
            raise DatabaseError(
                f"the database is at revision {current}, which this cronpilot does not know "
                f"(its newest is {head}); it was migrated by a newer cronpilot, so upgrade "
                "cronpilot instead"
            ) from None
    return RevisionState(current=current, head=head)


def _upgrade(connection: Connection, target: str) -> RevisionState:
    from alembic import command

    _read_revision(connection)
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)
    check_foreign_keys(connection)
    return _read_revision(connection)


def _downgrade(connection: Connection, target: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, target)
    check_foreign_keys(connection)


def check_foreign_keys(connection: Connection) -> None:
    """On SQLite, where migrations run with foreign keys off (see `create_engine`), refuse to
    commit a migration that left a row pointing at nothing; the transaction is rolled back."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = ", ".join(sorted({str(row[0]) for row in broken}))
        raise DatabaseError(
            f"the migration left {len(broken)} rows pointing at nothing (in {tables}); "
            "nothing was changed"
        )


async def _with_connection(database_url: str, work: Callable[[Connection], T]) -> T:
    display = make_url(database_url).render_as_string(hide_password=True)
    missing = missing_sqlite_folder(database_url, display)
    if missing is not None:
        raise missing
    engine = create_engine(database_url, pool_size=1, foreign_keys=False)
    try:
        try:
            connection = await engine.connect()
        except (SQLAlchemyError, OSError) as error:
            raise describe_connection_error(error, display) from None
        try:
            # One transaction: on PostgreSQL a failed migration leaves nothing behind.
            async with connection.begin():
                return await connection.run_sync(work)
        finally:
            await connection.close()
    finally:
        await engine.dispose()


async def upgrade_to_head(database_url: str) -> RevisionState:
    """Bring the database to the newest revision; refuse one migrated by a newer cronpilot.

    A database already at the newest revision, as at every restart, is told by its version
    table and the revision files alone: Alembic, a fifth of a second to import and read its
    scripts, is not loaded for it."""
    head = shipped_head()
    if head is not None:
        stored = await _with_connection(database_url, _stored_revisions)
        if stored == [head]:
            return RevisionState(current=head, head=head)
    return await _with_connection(database_url, lambda connection: _upgrade(connection, "head"))


async def downgrade_to(database_url: str, target: str) -> None:
    await _with_connection(database_url, lambda connection: _downgrade(connection, target))


async def revision_state(database_url: str) -> RevisionState:
    """Where the database stands, without changing it."""
    return await _with_connection(database_url, _read_revision)


def model_drift(connection: Connection) -> list[Any]:
    """Differences autogenerate would write between the models and the migrated database."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": VERSION_TABLE,
            "include_name": _include_name,
            "compare_type": True,
            "target_metadata": Base.metadata,
        },
    )
    diff: list[Any] = compare_metadata(context, Base.metadata)
    return diff
