"""Engines and session factories for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from core.errors import DatabaseError

CONNECT_TIMEOUT_SECONDS = 10


def create_engine(
    database_url: str, *, pool_size: int = 20, foreign_keys: bool = True
) -> AsyncEngine:
    """An engine for `database_url` (already normalised by the settings); on PostgreSQL it keeps
    `pool_size` connections and opens as many more at busy moments (at most twice `pool_size`).

    `foreign_keys=False` is for migrations on SQLite only: a migration that rebuilds a table
    (Alembic's batch mode copies it and drops the old one) would otherwise cascade the drop to
    every row that points at it; `storage.migrate` checks the keys itself before committing."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})
        configure = _configure_sqlite if foreign_keys else _configure_sqlite_for_migrations
        event.listen(engine.sync_engine, "connect", configure)
        event.listen(engine.sync_engine, "begin", _begin_immediately)
        return engine
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )
    event.listen(engine.sync_engine, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Hand out no pooled connection the server has closed (a restart, a terminated backend).

    SQLAlchemy's `pool_pre_ping` would ask the server instead, which on asyncpg costs three round
    trips (BEGIN, a statement, ROLLBACK) on every checkout, about seven times a run. asyncpg
    reads the server's goodbye on the event loop as soon as it comes, so a closed connection
    already says so; raising DisconnectionError has the pool open a fresh one (SQLAlchemy's
    documented pessimistic handling). A connection that dies unannounced fails its first
    statement instead, which invalidates the pool and which `storage.retry` waits out."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _configure_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    _set_up_sqlite(dbapi_connection, foreign_keys=True)


def _configure_sqlite_for_migrations(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    _set_up_sqlite(dbapi_connection, foreign_keys=False)


def _set_up_sqlite(dbapi_connection: Any, *, foreign_keys: bool) -> None:
    # The driver's own implicit transactions are turned off so that _begin_immediately decides.
    dbapi_connection.isolation_level = None
    # Cascading deletes need foreign keys on; WAL lets the bot read while a run is written.
    # (SQLite ignores this pragma inside a transaction, so it is set here, on connecting.)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _begin_immediately(connection: Connection) -> None:
    # Take SQLite's write lock at BEGIN: a transaction that read first and wrote later could
    # otherwise fail outright when another connection wrote in between (SQLITE_BUSY_SNAPSHOT),
    # while waiting for the lock is covered by busy_timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def autocommitting(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions on the same pool in which each statement commits on its own, for work that is
    one write, or reads only: on PostgreSQL a transaction around it costs two more round trips
    (asyncpg sends BEGIN and COMMIT, or ROLLBACK when a read-only session closes), about half of
    the database's CPU for such work. Reads lose nothing by it: under READ COMMITTED every
    statement of a transaction takes a snapshot of its own anyway. Callers still write
    `session.begin()`: on SQLite (no round trips there) these are the same sessions, and a
    write there commits only with its transaction."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "postgresql":
        return sessions
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


class MissingDatabaseError(DatabaseError):
    """The server answered, but the database named in the URL does not exist on it."""

    def __init__(self, display_url: str) -> None:
        url = make_url(display_url)
        self.name = url.database or ""
        self.host = url.host or "localhost"
        self.port = url.port
        self.user = url.username
        super().__init__(f"the database {self.name!r} does not exist at {display_url}")


def missing_sqlite_folder(database_url: str, display_url: str) -> DatabaseError | None:
    """The error for a SQLite file whose folder does not exist, found before connecting: the
    driver would fail the same way, but its worker thread can outlive the event loop and print a
    traceback on the way out (aiosqlite 0.22)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if Path(url.database).parent.is_dir():
        return None
    return DatabaseError(
        f"cannot reach the database at {display_url}: unable to open database file"
        " (does the folder exist and is it writable?)"
    )


def describe_connection_error(error: BaseException, display_url: str) -> DatabaseError:
    """Turn a driver's failure to connect into one line that says what to fix."""
    wrapped = getattr(error, "orig", None) if isinstance(error, SQLAlchemyError) else None
    original = wrapped if isinstance(wrapped, BaseException) else error
    # asyncpg's InvalidCatalogNameError (SQLSTATE 3D000), matched without importing asyncpg.
    if getattr(original, "sqlstate", None) == "3D000" or (
        type(original).__name__ == "InvalidCatalogNameError"
    ):
        return MissingDatabaseError(display_url)
    reason = _root_reason(error)
    return DatabaseError(f"cannot reach the database at {display_url}: {reason}")


def _root_reason(error: BaseException) -> str:
    original: BaseException = error
    wrapped = getattr(error, "orig", None) if isinstance(error, SQLAlchemyError) else None
    if isinstance(wrapped, BaseException):
        original = wrapped
    if isinstance(original, sqlite3.OperationalError) or "sqlite" in type(original).__module__:
        return f"{original} (does the folder exist and is it writable?)"
    if isinstance(original, ConnectionRefusedError):
        return "connection refused (is PostgreSQL running on that host and port?)"
    if isinstance(original, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_SECONDS} s"
    text = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return text or type(original).__name__
