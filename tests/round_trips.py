"""Counting what reaches the database server: every statement, and every BEGIN, COMMIT and
ROLLBACK that is sent (none for a connection in AUTOCOMMIT, storage/database.py
`autocommitting`: asyncpg's adapter sends none then), from the code run in `counted()` and the
tasks it starts (they inherit its context); the heartbeat and other background jobs are not
counted. Used by the test that pins a run's round trips and by benchmarks/run_records.py."""

from __future__ import annotations

import contextvars
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_counting: contextvars.ContextVar[bool] = contextvars.ContextVar("counting", default=False)


class RoundTrips:
    """What reaches the server from code running in `counted()`, while `listening()`."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.statements.values())

    def _count(self, what: str) -> None:
        if _counting.get():
            self.statements[what] += 1

    def _executed(self, _conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        self._count(" ".join(statement.split())[:100])

    def _transaction(self, name: str) -> Callable[[Connection], None]:
        def sent(conn: Connection) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                self._count(name)

        return sent

    @contextmanager
    def listening(self) -> Iterator[None]:
        hooks: list[tuple[str, Callable[..., None]]] = [
            ("before_cursor_execute", self._executed),
            ("begin", self._transaction("BEGIN")),
            ("commit", self._transaction("COMMIT")),
            ("rollback", self._transaction("ROLLBACK")),
        ]
        for name, hook in hooks:
            event.listen(Engine, name, hook)
        try:
            yield
        finally:
            for name, hook in hooks:
                event.remove(Engine, name, hook)

    @staticmethod
    @contextmanager
    def counted() -> Iterator[None]:
        """Count what the code in the block (and the tasks it starts) sends."""
        token = _counting.set(True)
        try:
            yield
        finally:
            _counting.reset(token)
