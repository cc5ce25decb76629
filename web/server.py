"""The one HTTP server: uvicorn serving an ASGI app inside the bot's own event loop.

This is python-telegram-bot's documented way of sharing a web server with a bot: the server is
one more task in the loop that runs the Application, and webhook updates are handed to the
Application's update queue (see web.app). uvicorn's own signal handling is switched off: the
process's stop logic (cronpilot.serve) owns SIGTERM and SIGINT.

A client's address is the socket's, unless the peer is one of the trusted proxies
(FORWARDED_ALLOW_IPS): then it is what that proxy put in X-Forwarded-For, read by uvicorn's
ProxyHeadersMiddleware from the right (the last address no trusted proxy wrote), so whatever a
client wrote into the header itself is never believed. uvicorn trusts 127.0.0.1 by default; here
nothing is trusted unless the setting says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from core.errors import ConfigurationError
from core.logs import get_logger

log = get_logger(__name__)

# In a container the port must be reachable from outside it.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104
# How long stop() lets open requests finish before it closes their connections.
GRACEFUL_SECONDS = 5


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """Serves `app` on `port` (0 picks a free one; see `port`) until `stop()`, believing the
    X-Forwarded-For of the proxies in `trusted_proxies` (addresses, networks, or "*")."""

    def __init__(
        self,
        app: ASGIApp,
        port: int,
        *,
        host: str = ALL_INTERFACES,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self._app = app
        self._requested_port = port
        self._host = host
        self._trusted_proxies = list(trusted_proxies)
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def trusted_proxies(self) -> tuple[str, ...]:
        return tuple(self._trusted_proxies)

    @property
    def port(self) -> int:
        """The port actually bound, once started."""
        if self._port is None:
            raise RuntimeError("the HTTP server is not running")
        return self._port

    async def start(self) -> None:
        """Listen, or raise ConfigurationError saying why not (the port is taken, say)."""
        # Bind here, so a port in use fails start() at once instead of inside a task.
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._requested_port))
        except OSError as error:
            sock.close()
            raise ConfigurationError(
                f"HTTP_PORT: cannot listen on {self._host}:{self._requested_port} "
                f"({error.strerror or error}); is another program using that port?"
            ) from None
        config = uvicorn.Config(
            self._app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            server_header=False,
            proxy_headers=bool(self._trusted_proxies),
            forwarded_allow_ips=self._trusted_proxies,
        )
        server = _Server(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]), name="http-server")
        while not server.started:
            if self._task.done():
                sock.close()
                self._task.result()  # raises what went wrong
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.01)
        self._port = int(sock.getsockname()[1])
        log.info("http.listening", host=self._host, port=self._port)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = None
        self._task = None
        self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
