"""The `web_search` tool: the top results (title, URL, snippet) of a query, as text.

It goes through the `WebSearch` port, which `scheduler.llm.LiteLLMSearch` implements with
LiteLLM's search API, so any provider it supports works: SEARCH_PROVIDER names it, and without
it there is no `web_search`. A provider error or timeout becomes a tool error: the model reads it
and the run goes on. `cronpilot check` sends the provider one query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from core.checks import CheckResult
from core.errors import N_
from core.settings import Settings
from scheduler.clock import Clock
from scheduler.llm import LiteLLMSearch, SearchError, SearchHit
from scheduler.runner.tools.registry import SingleToolset, ToolKit, Toolset
from scheduler.runner.tools.toolbox import Tool, ToolError, string_argument

KEY = "web_search"

MAX_RESULTS = 8
SEARCH_TIMEOUT_SECONDS = 15.0
MAX_QUERY_CHARS = 400
MAX_SNIPPET_CHARS = 400
# What one search adds to the conversation at most.
MAX_SEARCH_CHARS = 6_000
# `cronpilot check`'s query, and how long it waits for the answer.
CHECK_QUERY = "cronpilot"
CHECK_TIMEOUT_SECONDS = 20.0


class WebSearch(Protocol):
    @property
    def provider(self) -> str: ...

    async def search(
        self,
        query: str,
        *,
        max_results: int,
        timeout: float,  # noqa: ASYNC109 - handed to the provider request, like `complete`'s
    ) -> list[SearchHit]: ...


def web_search_tool(
    search: WebSearch,
    *,
    max_results: int = MAX_RESULTS,
    timeout: float = SEARCH_TIMEOUT_SECONDS,
) -> Tool:
    async def handler(arguments: Mapping[str, Any]) -> str:
        query = string_argument(arguments, "query", required=True)
        assert query is not None
        if len(query) > MAX_QUERY_CHARS:
            raise ToolError(f"the query is too long; keep it under {MAX_QUERY_CHARS} characters")
        try:
            hits = await search.search(query, max_results=max_results, timeout=timeout)
        except SearchError as error:
            raise ToolError(str(error)) from None
        if not hits:
            return f"No results for {query!r}."
        header = f"Results for {query!r}:"
        entries: list[str] = []
        size = len(header)
        for number, hit in enumerate(hits, start=1):
            snippet = hit.snippet
            if len(snippet) > MAX_SNIPPET_CHARS:
                snippet = snippet[: MAX_SNIPPET_CHARS - 1] + "…"
            entry = f"{number}. {hit.title or '(no title)'}\n   {hit.url}"
            if snippet:
                entry += f"\n   {snippet}"
            if size + len(entry) > MAX_SEARCH_CHARS:
                entries.append(f"[{len(hits) - number + 1} more results left out for length]")
                break
            entries.append(entry)
            size += len(entry) + 2
        return header + "\n\n" + "\n\n".join(entries)

    return Tool(
        name="web_search",
        description=(
            "Search the web and get the top results (title, URL and a snippet each). Use it to "
            "find current news and pages, then web_fetch to read the ones that matter."
        ),
        parameters={
            "type": "object",
            "properties": {"query": {"type": "string", "description": "what to search for"}},
            "required": ["query"],
            "additionalProperties": False,
        },
        handler=handler,
    )


class WebSearchToolset(SingleToolset):
    key = KEY
    label = N_("web search")
    advice = "Use web_search to find current pages and news. "

    def __init__(self, search: WebSearch) -> None:
        super().__init__(web_search_tool(search))


def search_from(settings: Settings) -> LiteLLMSearch:
    """The search SEARCH_PROVIDER, SEARCH_API_BASE and SEARCH_API_KEY describe."""
    assert settings.search_provider is not None
    key = settings.search_api_key
    return LiteLLMSearch(
        provider=settings.search_provider,
        api_base=settings.search_api_base,
        api_key=key.get_secret_value() if key else None,
        secrets=settings.secret_values(),
    )


async def check_search(search: WebSearch) -> CheckResult:
    """One query through the configured provider."""
    try:
        hits = await search.search(CHECK_QUERY, max_results=5, timeout=CHECK_TIMEOUT_SECONDS)
    except SearchError as error:
        return CheckResult(
            "search",
            False,
            str(error),
            "check SEARCH_PROVIDER, SEARCH_API_BASE and SEARCH_API_KEY (or the provider's own "
            "variable, such as TAVILY_API_KEY)",
        )
    count = len(hits)
    return CheckResult(
        "search",
        True,
        f"{search.provider} answered a test query with {count} result{'' if count == 1 else 's'}",
    )


def _configured(settings: Settings) -> bool:
    return settings.search_provider is not None


def _build(settings: Settings, clock: Clock) -> Sequence[Toolset]:
    return [WebSearchToolset(search_from(settings))]


async def _check(settings: Settings) -> Sequence[CheckResult]:
    return [await check_search(search_from(settings))]


KIT = ToolKit(
    key=KEY,
    order=30,
    settings=("SEARCH_PROVIDER", "SEARCH_API_BASE", "SEARCH_API_KEY"),
    configured=_configured,
    build=_build,
    check=_check,
)
