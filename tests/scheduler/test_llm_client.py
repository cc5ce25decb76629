"""The real LiteLLM client against a fake OpenAI-compatible server over HTTP.

Importing litellm 1.110.2 takes 5.6–7.5 s and ~200 MB of RSS (measured on this machine: 6.1 s
in the main thread, 6.2 s in a worker thread, 5.6 s in the probe below, 7.5 s under load; run
`test_import_is_lazy_and_nothing_else_is_contacted` with `-s` to see it). The first test that
calls the client pays for it, once per session.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from scheduler.llm import (
    Completion,
    LiteLLMClient,
    LLMError,
    PermanentLLMError,
    ToolCall,
    TransientLLMError,
    litellm_library,
)
from tests.fakes.llm import FakeLLM

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-test-cronpilot-0123456789abcdef"
MODEL = "openai/gpt-4o-mini"
ASK = [{"role": "user", "content": "Summarise the news."}]
WEB_FETCH = {
    "type": "function",
    "function": {
        "name": "web_fetch",
        "description": "Fetch a web page as text.",
        "parameters": {
            "type": "object",
            "properties": {"url": {"type": "string"}},
            "required": ["url"],
        },
    },
}


@pytest.fixture
def client(llm: FakeLLM) -> LiteLLMClient:
    return LiteLLMClient(api_base=llm.base_url, api_key=API_KEY)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


async def test_plain_answer_with_tokens_and_cost(llm: FakeLLM, client: LiteLLMClient) -> None:
    llm.reply_text("Nothing new today.", prompt_tokens=100, completion_tokens=20)

    completion = await client.complete(ASK, model=MODEL, timeout=10)

    assert completion.content == "Nothing new today."
    assert completion.tool_calls == ()
    assert (completion.prompt_tokens, completion.completion_tokens) == (100, 20)
    # LiteLLM prices it from its bundled cost map: $0.15 per 1M prompt tokens and $0.60 per
    # 1M completion tokens for gpt-4o-mini.
    assert completion.cost == pytest.approx(100 * 0.15e-6 + 20 * 0.60e-6)
    assert completion.model == "gpt-4o-mini"
    [request] = llm.requests
    assert request["model"] == "gpt-4o-mini"
    assert request["messages"] == ASK
    assert "stream" not in request
    assert "tools" not in request
    assert "tool_choice" not in request


async def test_a_call_skips_litellm_logging_and_is_still_priced(
    llm: FakeLLM, client: LiteLLMClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LiteLLM builds a logging payload after every call, for callbacks nobody registered: a
    third of the call's CPU. Without a callback the call is made as one LiteLLM logs for its
    caller (`_unlogged`); the usage and the cost come from the response all the same."""
    litellm = await litellm_library()
    assert not any(getattr(litellm, name) for name in ("callbacks", "success_callback"))
    logging_class = litellm.litellm_core_utils.litellm_logging.Logging
    claims: list[object] = []
    claim = logging_class.claim_async_success_log

    def claimed(logging_object: object) -> bool:  # LiteLLM claims the log of each call it logs
        claims.append(logging_object)
        return bool(claim(logging_object))

    monkeypatch.setattr(logging_class, "claim_async_success_log", claimed)
    llm.reply_text("Nothing new today.", prompt_tokens=100, completion_tokens=20)

    completion = await client.complete(ASK, model=MODEL, timeout=10)

    assert claims == []
    assert (completion.prompt_tokens, completion.completion_tokens) == (100, 20)
    assert completion.cost == pytest.approx(100 * 0.15e-6 + 20 * 0.60e-6)
    assert completion.model == "gpt-4o-mini"


async def test_a_litellm_callback_an_operator_registers_still_hears_of_every_call(
    llm: FakeLLM, client: LiteLLMClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    litellm = await litellm_library()
    heard: list[float] = []
    told = asyncio.Event()

    class Listener(litellm.integrations.custom_logger.CustomLogger):  # type: ignore[misc]
        async def async_log_success_event(
            self, kwargs: dict[str, Any], response_obj: object, start_time: object, end_time: object
        ) -> None:
            heard.append(kwargs["response_cost"])
            told.set()

    monkeypatch.setattr(litellm, "callbacks", [Listener()])
    llm.reply_text("Nothing new today.", prompt_tokens=100, completion_tokens=20)

    completion = await client.complete(ASK, model=MODEL, timeout=10)

    async with asyncio.timeout(10):  # LiteLLM tells its callbacks in a task of their own
        await told.wait()
    assert heard == [completion.cost]
    assert completion.cost == pytest.approx(100 * 0.15e-6 + 20 * 0.60e-6)


async def test_cost_is_none_for_a_model_litellm_cannot_price(
    llm: FakeLLM, client: LiteLLMClient
) -> None:
    llm.reply_text("Hi.", prompt_tokens=7, completion_tokens=2)

    completion = await client.complete(ASK, model="openai/cronpilot-local-model", timeout=10)

    assert completion.cost is None
    assert (completion.prompt_tokens, completion.completion_tokens) == (7, 2)
    assert completion.model == "cronpilot-local-model"


async def test_tool_calls_are_parsed_with_raw_arguments(
    llm: FakeLLM, client: LiteLLMClient
) -> None:
    first, second = llm.reply_tool_calls(
        [("web_fetch", {"url": "https://news.ycombinator.com"}), ("web_fetch", {"url": "x"})]
    )
    [broken] = llm.reply_tool_calls_raw([("web_fetch", '{"url": "https://exa')])

    completion = await client.complete(ASK, model=MODEL, tools=[WEB_FETCH], timeout=10)
    truncated = await client.complete(ASK, model=MODEL, tools=[WEB_FETCH], timeout=10)

    assert completion.content is None
    assert completion.tool_calls == (
        ToolCall(first, "web_fetch", '{"url": "https://news.ycombinator.com"}'),
        ToolCall(second, "web_fetch", '{"url": "x"}'),
    )
    assert truncated.tool_calls == (ToolCall(broken, "web_fetch", '{"url": "https://exa'),)


async def test_tools_and_tool_choice_are_sent_as_given(llm: FakeLLM, client: LiteLLMClient) -> None:
    forced = {"type": "function", "function": {"name": "web_fetch"}}

    await client.complete(ASK, model=MODEL, tools=[WEB_FETCH], tool_choice="auto", timeout=10)
    await client.complete(ASK, model=MODEL, tools=[WEB_FETCH], tool_choice=forced, timeout=10)

    assert [request["tools"] for request in llm.requests] == [[WEB_FETCH], [WEB_FETCH]]
    assert [request["tool_choice"] for request in llm.requests] == ["auto", forced]


async def test_tool_results_go_back_in_openai_format(llm: FakeLLM, client: LiteLLMClient) -> None:
    [call_id] = llm.reply_tool_calls([("web_fetch", {"url": "https://example.com"})])
    llm.reply_text("Example Domain is a placeholder page.")
    asked = await client.complete(ASK, model=MODEL, tools=[WEB_FETCH], timeout=10)
    [call] = asked.tool_calls

    conversation = [*ASK, asked.as_message(), call.result_message("Example Domain")]
    answered = await client.complete(conversation, model=MODEL, tools=[WEB_FETCH], timeout=10)

    assert answered.content == "Example Domain is a placeholder page."
    assert llm.requests[1]["messages"] == [
        *ASK,
        {  # LiteLLM leaves out the None content, which OpenAI allows next to tool calls
            "role": "assistant",
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {
                        "name": "web_fetch",
                        "arguments": '{"url": "https://example.com"}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "Example Domain"},
    ]


def test_as_message_without_tool_calls_is_a_plain_assistant_message() -> None:
    completion = Completion("Done.", (), 1, 1, None, "gpt-4o-mini")

    assert completion.as_message() == {"role": "assistant", "content": "Done."}


async def test_api_key_is_sent_as_bearer_token_to_the_api_base(
    llm: FakeLLM, client: LiteLLMClient
) -> None:
    await client.complete(ASK, model=MODEL, timeout=10)

    [request] = llm.requests  # it arrived, so api_base was used
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_without_a_configured_key_the_provider_variable_is_used(
    llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    client = LiteLLMClient(api_base=llm.base_url, api_key=None)

    await client.complete(ASK, model=MODEL, timeout=10)

    assert llm.requests[0].headers["Authorization"] == "Bearer sk-from-the-environment"


async def test_server_error_is_transient_after_exactly_one_request(
    llm: FakeLLM, client: LiteLLMClient
) -> None:
    for _ in range(3):  # enough for the OpenAI SDK's default two retries to succeed
        llm.reply_error(500, "The server had an error while processing your request.")
    llm.reply_text("A retry would have got this.")

    with pytest.raises(TransientLLMError, match=r"HTTP 500"):
        await client.complete(ASK, model=MODEL, timeout=10)

    assert len(llm.requests) == 1


@pytest.mark.parametrize(
    ("status", "message", "error_class"),
    [
        (429, "Rate limit reached for gpt-4o-mini on requests per min (RPM).", TransientLLMError),
        (502, "Bad gateway.", TransientLLMError),
        (503, "The engine is currently overloaded, please try again later.", TransientLLMError),
        (400, "Invalid value for 'tool_choice'.", PermanentLLMError),
        (403, "Project does not have access to model gpt-4o-mini.", PermanentLLMError),
        (404, "The model `gpt-4o-mini` does not exist.", PermanentLLMError),
        (422, "Unprocessable entity.", PermanentLLMError),
    ],
)
async def test_http_errors_are_classified_by_status(
    llm: FakeLLM,
    client: LiteLLMClient,
    status: int,
    message: str,
    error_class: type[LLMError],
) -> None:
    llm.reply_error(status, message)

    with pytest.raises(error_class) as raised:
        await client.complete(ASK, model=MODEL, timeout=10)

    assert f"HTTP {status}" in str(raised.value)
    assert message in str(raised.value)  # the provider's reason reaches the user
    assert len(llm.requests) == 1


async def test_rejected_key_is_permanent_and_not_repeated(
    llm: FakeLLM, client: LiteLLMClient
) -> None:
    llm.reply_error(401, f"Incorrect API key provided: {API_KEY}.")

    with pytest.raises(PermanentLLMError, match=r"rejected the API key") as raised:
        await client.complete(ASK, model=MODEL, timeout=10)

    assert API_KEY not in str(raised.value)
    assert API_KEY[:12] not in str(raised.value)


async def test_a_key_echoed_in_another_error_is_masked(llm: FakeLLM, client: LiteLLMClient) -> None:
    llm.reply_error(400, f"Malformed request from key {API_KEY}.")

    with pytest.raises(PermanentLLMError) as raised:
        await client.complete(ASK, model=MODEL, timeout=10)

    assert API_KEY not in str(raised.value)
    assert "Malformed request from key [redacted]." in str(raised.value)


async def test_too_long_a_conversation_is_permanent(llm: FakeLLM, client: LiteLLMClient) -> None:
    llm.reply_error(
        400,
        "This model's maximum context length is 128000 tokens. "
        "However, your messages resulted in 200000 tokens.",
        code="context_length_exceeded",
    )

    with pytest.raises(PermanentLLMError, match=r"too long for model openai/gpt-4o-mini"):
        await client.complete(ASK, model=MODEL, timeout=10)


async def test_slow_model_times_out_as_transient(llm: FakeLLM, client: LiteLLMClient) -> None:
    llm.reply_delay(3.0)
    started = time.monotonic()

    with pytest.raises(TransientLLMError, match=r"did not answer within 0\.5 s"):
        await client.complete(ASK, model=MODEL, timeout=0.5)

    # Gave up on its own (LiteLLM's timeout, else the client's hard bound at 1.5 s) well
    # before the 3 s answer.
    assert time.monotonic() - started < 2.0
    assert len(llm.requests) == 1


async def test_refused_connection_is_transient() -> None:
    client = LiteLLMClient(api_base=closed_port_url(), api_key=API_KEY)

    with pytest.raises(TransientLLMError, match=r"could not connect"):
        await client.complete(ASK, model=MODEL, timeout=5)


async def test_unreadable_answer_is_an_llm_error(llm: FakeLLM, client: LiteLLMClient) -> None:
    llm.reply_raw(200, "<html>Welcome to nginx!</html>", content_type="text/html")
    llm.reply_raw(200, json.dumps({"id": "x", "object": "chat.completion", "choices": []}))

    with pytest.raises(PermanentLLMError, match=r"invalid response"):
        await client.complete(ASK, model=MODEL, timeout=10)
    with pytest.raises(PermanentLLMError, match=r"no choices"):
        await client.complete(ASK, model=MODEL, timeout=10)


async def test_unknown_provider_is_permanent_before_any_request(
    llm: FakeLLM, client: LiteLLMClient
) -> None:
    with pytest.raises(PermanentLLMError, match=r"LLM Provider NOT provided"):
        await client.complete(ASK, model="no-such-provider-model", timeout=10)

    assert llm.requests == []


async def test_litellm_prints_nothing_and_logs_only_warnings(
    llm: FakeLLM,
    client: LiteLLMClient,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LITELLM_LOG", raising=False)
    caplog.set_level(logging.DEBUG)
    llm.reply_text("Fine.")
    llm.reply_error(500, "boom")

    await client.complete(ASK, model=MODEL, timeout=10)
    with pytest.raises(TransientLLMError):
        await client.complete(ASK, model=MODEL, timeout=10)

    chatter = [
        r for r in caplog.records if r.name.startswith("LiteLLM") and r.levelno < logging.WARNING
    ]
    assert chatter == []
    out, err = capfd.readouterr()
    assert "LiteLLM" not in out + err  # no "Give Feedback / Get Help" banners
    # Its warnings reach the application's handlers, not a second, foreign-format copy.
    assert logging.getLogger("LiteLLM").handlers == []
    assert logging.getLogger("LiteLLM Router").handlers == []


def test_repr_does_not_show_the_key() -> None:
    client = LiteLLMClient(api_base="http://127.0.0.1:1/v1", api_key=API_KEY)

    assert API_KEY not in repr(client)


# Run in a fresh interpreter: litellm is already imported here, and an audit hook cannot be
# removed once added. It starts without any LITELLM_* variable, so the client's defaults count.
_NETWORK_PROBE = """
import asyncio, json, sys, time

contacted = []

def audit(event, args):
    if event == "socket.getaddrinfo":
        contacted.append(str(args[0]))
    elif event == "socket.connect" and isinstance(args[1], tuple):
        contacted.append(f"{args[1][0]}:{args[1][1]}")

sys.addaudithook(audit)

from scheduler.llm import LiteLLMClient
from tests.fakes.llm import FakeLLM

async def main():
    lazy = "litellm" not in sys.modules
    async with FakeLLM() as llm:
        client = LiteLLMClient(api_base=llm.base_url, api_key="sk-probe")
        started = time.perf_counter()
        await client.warm_up()
        seconds = time.perf_counter() - started
        after_import = list(contacted)
        llm.reply_text("hello")
        llm.reply_error(500, "boom")
        for model in ["openai/gpt-4o-mini", "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"]:
            try:
                await client.complete([{"role": "user", "content": "hi"}], model=model, timeout=5)
            except Exception:
                pass
        port = llm.base_url.split(":")[2].split("/")[0]
    print(json.dumps({"lazy": lazy, "import_seconds": seconds, "after_import": after_import,
                      "contacted": contacted, "fake": f"127.0.0.1:{port}"}))

asyncio.run(main())
"""


def test_import_is_lazy_and_nothing_else_is_contacted() -> None:
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("LITELLM_")
    }
    result = subprocess.run(
        [sys.executable, "-c", _NETWORK_PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    print(f"litellm import took {report['import_seconds']:.1f} s")

    assert report["lazy"], "importing scheduler.llm must not import litellm"
    assert report["after_import"] == []
    assert report["contacted"]  # the probe does see connections
    assert set(report["contacted"]) <= {"127.0.0.1", report["fake"]}
