"""The `web_search` tool: the top results (title, URL, snippet) of a query, as text.

It goes through the `WebSearch` port (LiteLLM's search API), so any provider it supports works.
A provider error or timeout becomes a tool error: the model reads it and the run goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler.llm import SearchError, WebSearch
from scheduler.runner.tools.toolbox import Tool, ToolError, string_argument

MAX_RESULTS = 8
SEARCH_TIMEOUT_SECONDS = 15.0
MAX_QUERY_CHARS = 400
MAX_SNIPPET_CHARS = 400
# What one search adds to the conversation at most.
MAX_SEARCH_CHARS = 6_000


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
