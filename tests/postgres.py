"""Find a PostgreSQL server for the tests, or start a throwaway one.

Order: TEST_DATABASE_URL if set (a URL whose user may create databases); else the server on
127.0.0.1:5432 if it answers; else a private server started from the installed PostgreSQL
binaries in a temporary folder, stopped when the tests end. The tests create their own databases
on whichever server this finds and drop them afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

LOCAL_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Server:
    """A reachable server; `url` names its maintenance database."""

    url: URL

    def database_url(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create_database(self, prefix: str = "cronpilot_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(**_connect_arguments(self.url))
        try:
            await connection.execute(statement)
        finally:
            await connection.close()


def _connect_arguments(url: URL) -> dict[str, object]:
    arguments: dict[str, object] = {
        "user": url.username or "postgres",
        "database": url.database or "postgres",
        "timeout": 5,
    }
    if url.password:
        arguments["password"] = url.password
    host = url.query.get("host") or url.host or "127.0.0.1"
    arguments["host"] = host
    arguments["port"] = url.port or 5432
    return arguments


def _answers(url: URL) -> bool:
    async def probe() -> bool:
        try:
            connection = await asyncpg.connect(**_connect_arguments(url))
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await connection.close()
        return True

    return asyncio.run(probe())


def _binaries() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run(
            [found, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if bindir and (Path(bindir) / "initdb").exists():
            return Path(bindir)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    candidates += [p for p in ("/usr/local/bin/initdb", "/usr/bin/initdb") if Path(p).exists()]
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class PrivateServer(Server):
    """A server of our own, which a test may stop and start again (a database outage)."""

    data: Path
    command_prefix: tuple[str, ...]
    bindir: Path
    options: str
    log: Path

    def start(self) -> None:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", self.options]
        # The server inherits pg_ctl's output; a pipe here would never reach end-of-file.
        subprocess.run(
            [*self.command_prefix, *command, "-l", str(self.log), "-w", "start"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop it; "fast" drops every connection as a crash or a restart would."""
        subprocess.run(
            [
                *self.command_prefix,
                str(self.bindir / "pg_ctl"),
                *("-D", str(self.data), "-m", mode, "-w", "stop"),
            ],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


@contextlib.contextmanager
def throwaway_server() -> Iterator[PrivateServer]:
    """A private PostgreSQL in a temporary folder (initdb refuses root, so run as `postgres`)."""
    bindir = _binaries()
    if bindir is None:
        raise RuntimeError(
            "no PostgreSQL server answers on 127.0.0.1:5432 and no PostgreSQL binaries are "
            "installed; install PostgreSQL or set TEST_DATABASE_URL"
        )
    folder = Path(tempfile.mkdtemp(prefix="cronpilot-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    port = _free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run([*prefix, *initdb], check=True, capture_output=True)
    server = PrivateServer(
        url=make_url(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"),
        data=data,
        command_prefix=tuple(prefix),
        bindir=bindir,
        options=f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        log=folder / "server.log",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        url = make_url(configured).set(drivername="postgresql+asyncpg")
        if not _answers(url):
            raise RuntimeError("TEST_DATABASE_URL is set but that server does not answer")
        yield Server(url)
        return
    local = make_url(LOCAL_SERVER)
    if _answers(local):
        yield Server(local)
        return
    with throwaway_server() as server:
        yield server
