"""The suite's fallback: a private PostgreSQL started from the installed binaries."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests.postgres import _binaries, _connect_arguments, throwaway_server


@pytest.mark.skipif(_binaries() is None, reason="PostgreSQL binaries are not installed")
def test_throwaway_server_starts_answers_and_goes_away() -> None:
    async def version(arguments: dict[str, object]) -> str:
        connection = await asyncpg.connect(**arguments)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    with throwaway_server() as server:
        arguments = _connect_arguments(server.url)
        assert asyncio.run(version(arguments))
        url = server.create_database()
        server.drop_database(url)
    with pytest.raises(ConnectionRefusedError):
        asyncio.run(version(arguments))
