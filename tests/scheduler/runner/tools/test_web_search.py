"""The web_search tool through the real LiteLLM search API against a fake SearXNG server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from scheduler.llm import LiteLLMSearch
from scheduler.runner.tools.toolbox import Toolbox
from scheduler.runner.tools.web_search import MAX_SEARCH_CHARS, web_search_tool
from tests.fakes.searxng import FakeSearXNG

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def searx() -> AsyncIterator[FakeSearXNG]:
    async with FakeSearXNG() as server:
        yield server


def toolbox(base: str, **options: float) -> Toolbox:
    search = LiteLLMSearch(provider="searxng", api_base=base, api_key=None)
    return Toolbox([web_search_tool(search, **options)])  # type: ignore[arg-type]


async def test_results_come_back_as_title_url_and_snippet(searx: FakeSearXNG) -> None:
    searx.results["rust compiler news"] = [
        ("Rust 1.99 is out", "https://blog.rust-lang.org/1.99", "Faster  builds\nand more."),
        ("This week in Rust", "https://this-week-in-rust.org/", "Weekly news."),
    ]
    text = await toolbox(searx.base_url).call("web_search", '{"query": "rust compiler news"}')
    assert searx.queries == ["rust compiler news"]
    assert text == (
        "Results for 'rust compiler news':\n\n"
        "1. Rust 1.99 is out\n   https://blog.rust-lang.org/1.99\n   Faster builds and more.\n\n"
        "2. This week in Rust\n   https://this-week-in-rust.org/\n   Weekly news."
    )


async def test_results_are_capped_in_number_and_size(searx: FakeSearXNG) -> None:
    searx.results["many"] = [
        (f"Result {n}", f"https://example.com/{n}", "word " * 300) for n in range(30)
    ]
    text = await toolbox(searx.base_url).call("web_search", '{"query": "many"}')
    assert "8. Result 7" in text
    assert "9. Result 8" not in text  # eight at most
    assert len(text) <= MAX_SEARCH_CHARS + 100
    assert "…" in text  # snippets are cut


async def test_no_results_says_so(searx: FakeSearXNG) -> None:
    text = await toolbox(searx.base_url).call("web_search", '{"query": "nothing here"}')
    assert text == "No results for 'nothing here'."


async def test_a_provider_error_is_a_tool_error(searx: FakeSearXNG) -> None:
    searx.fail_with = 429
    text = await toolbox(searx.base_url).call("web_search", '{"query": "x"}')
    assert text.startswith("error: the search provider searxng failed")
    assert "429" in text
    assert "Traceback" not in text


async def test_a_slow_provider_is_a_tool_error(searx: FakeSearXNG) -> None:
    searx.delay = 5
    text = await toolbox(searx.base_url, timeout=0.5).call("web_search", '{"query": "x"}')
    assert text == "error: the search provider searxng did not answer within 0.5 s"


async def test_an_unreachable_provider_is_a_tool_error() -> None:
    text = await toolbox("http://127.0.0.1:9").call("web_search", '{"query": "x"}')
    assert text.startswith("error: the search provider searxng failed: ")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("{}", "error: the argument 'query' is required"),
        ('{"query": "  "}', "error: the argument 'query' must be a non-empty string"),
        ('{"query": "' + "q" * 401 + '"}', "error: the query is too long; keep it under 400"),
    ],
)
async def test_bad_arguments_are_refused_unsent(
    searx: FakeSearXNG, arguments: str, expected: str
) -> None:
    text = await toolbox(searx.base_url).call("web_search", arguments)
    assert text.startswith(expected)
    assert searx.queries == []


async def test_the_api_key_is_sent_and_never_shown(searx: FakeSearXNG) -> None:
    searx.fail_with = 500
    search = LiteLLMSearch(provider="searxng", api_base=searx.base_url, api_key="sx-secret-9876")
    text = await Toolbox([web_search_tool(search)]).call("web_search", '{"query": "x"}')
    assert searx.headers[0]["Authorization"] == "Bearer sx-secret-9876"
    assert "sx-secret-9876" not in text
