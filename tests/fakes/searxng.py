"""A fake SearXNG instance for tests: `GET /search?q=…&format=json` answers like the real one.

    async with FakeSearXNG() as searx:
        searx.results["rust compiler"] = [("Rust 1.99 released", "https://blog.rust-lang.org/…",
                                           "The compiler is faster.")]
        settings: SEARCH_PROVIDER=searxng, SEARCH_API_BASE=searx.base_url
        …
        assert searx.queries == ["rust compiler"]

A query with no scripted results gets an empty result list; `fail_with` makes every answer an
HTTP error; `delay` makes answers late (the client may give up first).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from aiohttp import web


@dataclass
class FakeSearXNG:
    results: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list, init=False)
    headers: list[dict[str, str]] = field(default_factory=list, init=False)
    fail_with: int | None = None
    delay: float = 0.0
    _runner: web.AppRunner | None = field(default=None, init=False)
    _port: int | None = field(default=None, init=False)

    @property
    def base_url(self) -> str:
        assert self._port is not None, "the server is not running"
        return f"http://127.0.0.1:{self._port}"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/search", self._search)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query.get("q", "")
        self.queries.append(query)
        self.headers.append(dict(request.headers))
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.query.get("format") != "json":
            return web.Response(status=403, text="format not allowed")  # SearXNG's default
        if self.fail_with is not None:
            return web.Response(status=self.fail_with, text="Too many requests")
        found = [
            {
                "title": title,
                "url": url,
                "content": snippet,
                "engine": "fake",
                "engines": ["fake"],
                "score": 1.0 / (rank + 1),
                "category": "general",
            }
            for rank, (title, url, snippet) in enumerate(self.results.get(query, []))
        ]
        return web.json_response(
            {
                "query": query,
                "number_of_results": len(found),
                "results": found,
                "answers": [],
                "corrections": [],
                "infoboxes": [],
                "suggestions": [],
                "unresponsive_engines": [],
            }
        )
