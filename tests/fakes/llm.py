"""A fake OpenAI-compatible chat completions server for tests.

It speaks the wire format the real LiteLLM client sends and reads (`POST /v1/chat/completions`,
`GET /v1/models`), so tests exercise the real client and its serialisation::

    async with FakeLLM() as llm:
        llm.reply_text("Hello", prompt_tokens=12, completion_tokens=3)
        client = LiteLLMClient(api_base=llm.base_url, api_key="sk-test")
        ...
        assert llm.requests[0]["messages"] == [...]
        assert llm.requests[0].headers["Authorization"] == "Bearer sk-test"

Scripted replies are consumed one per chat completion request, in order; when none is left the
`default` responder answers. Streaming is refused with a 400: cronpilot never streams, and a fake
that answered a stream with a plain body would let such a change pass unnoticed.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict, CIMultiDictProxy

# OpenAI's `error.type` for each status, so clients that look at it see what they would in reality.
_ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}
_ERROR_CODES: Mapping[int, str] = {
    401: "invalid_api_key",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}


@dataclass(frozen=True, slots=True)
class TextReply:
    """An assistant message with text content."""

    text: str
    prompt_tokens: int = 10
    completion_tokens: int = 5
    finish_reason: str = "stop"


@dataclass(frozen=True, slots=True)
class ToolCallsReply:
    """An assistant message asking for tool calls; `calls` are (id, name, raw arguments)."""

    calls: tuple[tuple[str, str, str], ...]
    prompt_tokens: int = 10
    completion_tokens: int = 5
    content: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An HTTP error with an OpenAI error body."""

    status: int
    message: str
    error_type: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class RawReply:
    """Any status and body, sent as given: for replies no real provider should send."""

    status: int
    body: str
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class DelayedReply:
    """`then`, after `seconds`; the client may well give up first."""

    seconds: float
    then: Reply


@dataclass(frozen=True, slots=True)
class GatedReply:
    """`then`, once the test opens `gate`: the model "thinks" exactly as long as a test needs."""

    gate: asyncio.Event
    then: Reply


Reply = TextReply | ToolCallsReply | ErrorReply | RawReply | DelayedReply | GatedReply
Responder = Callable[[Mapping[str, Any]], Reply]


class ReceivedRequest(dict[str, Any]):
    """A request's JSON body (so `request["messages"]` works), with its headers and path."""

    def __init__(self, body: Mapping[str, Any], headers: CIMultiDictProxy[str], path: str) -> None:
        super().__init__(body)
        # A copy: the request object is gone once the handler returns.
        self.headers: CIMultiDict[str] = CIMultiDict(headers)
        self.path = path


def _default_responder(body: Mapping[str, Any]) -> Reply:
    return TextReply("This is the fake model's answer.")


@dataclass
class FakeLLM:
    """An OpenAI-compatible server on 127.0.0.1 with a scripted queue of replies."""

    models: tuple[str, ...] = ("gpt-4o-mini",)
    default: Responder = _default_responder
    requests: list[ReceivedRequest] = field(default_factory=list, init=False)
    # POST /v1/audio/transcriptions: each request's form fields, its file under "file" (bytes)
    # and the file's name under "filename"; answered from `transcripts` in order, then with
    # `default_transcript`.
    transcription_requests: list[ReceivedRequest] = field(default_factory=list, init=False)
    default_transcript: str = "remind me to water the plants tomorrow at 9"
    _transcripts: deque[Reply] = field(default_factory=deque, init=False)
    model_list_requests: list[ReceivedRequest] = field(default_factory=list, init=False)
    _replies: deque[Reply] = field(default_factory=deque, init=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False)
    _runner: web.AppRunner | None = field(default=None, init=False)
    _port: int | None = field(default=None, init=False)
    _closing: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    @property
    def base_url(self) -> str:
        """The `api_base` to give a client: `http://127.0.0.1:PORT/v1`."""
        if self._port is None:
            raise RuntimeError("the fake LLM server is not running")
        return f"http://127.0.0.1:{self._port}/v1"

    # Scripting.

    def enqueue(self, reply: Reply) -> None:
        self._replies.append(reply)

    def reply_text(self, text: str, *, prompt_tokens: int = 10, completion_tokens: int = 5) -> None:
        self.enqueue(TextReply(text, prompt_tokens, completion_tokens))

    def reply_tool_calls(
        self,
        calls: Iterable[tuple[str, Mapping[str, Any]]],
        *,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
    ) -> tuple[str, ...]:
        """Queue tool calls given as (name, arguments); returns the ids the reply will carry."""
        raw = [(name, json.dumps(arguments)) for name, arguments in calls]
        return self.reply_tool_calls_raw(
            raw, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )

    def reply_tool_calls_raw(
        self,
        calls: Iterable[tuple[str, str]],
        *,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
    ) -> tuple[str, ...]:
        """Like `reply_tool_calls`, with the arguments string sent as given (even if not JSON)."""
        with_ids = tuple((self.new_call_id(), name, arguments) for name, arguments in calls)
        self.enqueue(ToolCallsReply(with_ids, prompt_tokens, completion_tokens))
        return tuple(call_id for call_id, _, _ in with_ids)

    def reply_error(
        self, status: int, message: str, *, error_type: str | None = None, code: str | None = None
    ) -> None:
        self.enqueue(ErrorReply(status, message, error_type, code))

    def reply_raw(self, status: int, body: str, *, content_type: str = "application/json") -> None:
        self.enqueue(RawReply(status, body, content_type))

    def reply_when(self, gate: asyncio.Event, then: Reply) -> None:
        """The next reply waits for the test to set `gate`."""
        self.enqueue(GatedReply(gate, then))

    def reply_delay(self, seconds: float, *, then: Reply | None = None) -> None:
        self.enqueue(DelayedReply(seconds, then or TextReply("This answer came late.")))

    def transcribe_as(self, text: str) -> None:
        """The next transcription request hears `text`."""
        self._transcripts.append(TextReply(text))

    def transcription_error(self, status: int, message: str) -> None:
        """The next transcription request fails with an OpenAI error body."""
        self._transcripts.append(ErrorReply(status, message))

    def new_call_id(self) -> str:
        """A tool call id in OpenAI's shape, unique for this server."""
        return f"call_{next(self._ids):024d}"

    # Lifecycle.

    async def __aenter__(self) -> Self:
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_post("/v1/audio/transcriptions", self._transcription)
        # Cancel a delayed reply's handler when its client hangs up, as a real server would, and
        # do not wait for stragglers on exit.
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
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None

    # HTTP.

    async def _list_models(self, request: web.Request) -> web.Response:
        self.model_list_requests.append(ReceivedRequest({}, request.headers, request.path))
        created = int(time.time())
        data = [
            {"id": name, "object": "model", "created": created, "owned_by": "cronpilot-fake"}
            for name in self.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _transcription(self, request: web.Request) -> web.Response:
        """OpenAI's transcription API: a multipart form with `file` and `model`."""
        fields: dict[str, Any] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.name == "file":
                fields["file"] = bytes(await part.read())
                fields["filename"] = part.filename
            else:
                fields[part.name] = await part.text()
        self.transcription_requests.append(ReceivedRequest(fields, request.headers, request.path))
        if not fields.get("file"):
            return _error_response(ErrorReply(400, "Audio file is empty."))
        reply = self._transcripts.popleft() if self._transcripts else None
        if isinstance(reply, ErrorReply):
            return _error_response(reply)
        text = reply.text if isinstance(reply, TextReply) else self.default_transcript
        if fields.get("response_format") == "verbose_json":
            # Whisper's verbose answer carries the audio's length, which prices the call.
            return web.json_response(
                {"task": "transcribe", "language": "english", "duration": 3.5, "text": text}
            )
        return web.json_response({"text": text})

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error_response(ErrorReply(400, "The request body is not valid JSON."))
        if not isinstance(body, dict):
            return _error_response(ErrorReply(400, "The request body must be a JSON object."))
        received = ReceivedRequest(body, request.headers, request.path)
        self.requests.append(received)
        refused = _content_problem(body.get("messages"))
        if refused is not None:
            return _error_response(ErrorReply(400, refused))
        if body.get("stream") is True:
            return _error_response(
                ErrorReply(400, "The fake LLM server does not stream; send stream=false.")
            )
        reply = self._replies.popleft() if self._replies else self.default(received)
        while isinstance(reply, DelayedReply | GatedReply):
            closing = asyncio.ensure_future(self._closing.wait())
            waiting = (
                asyncio.ensure_future(reply.gate.wait())
                if isinstance(reply, GatedReply)
                else asyncio.ensure_future(asyncio.sleep(reply.seconds))
            )
            await asyncio.wait({closing, waiting}, return_when=asyncio.FIRST_COMPLETED)
            for pending in (closing, waiting):
                pending.cancel()
            if self._closing.is_set():
                return _error_response(ErrorReply(503, "The fake LLM server is shutting down."))
            reply = reply.then
        return self._respond(reply, model=str(body.get("model", "")))

    def _respond(self, reply: Reply, *, model: str) -> web.Response:
        match reply:
            case ErrorReply():
                return _error_response(reply)
            case RawReply(status=status, body=text, content_type=content_type):
                return web.Response(status=status, text=text, content_type=content_type)
            case TextReply(text=text, finish_reason=finish_reason):
                message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
                return self._completion(model, message, finish_reason, reply)
            case ToolCallsReply(calls=calls, content=content):
                message = {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": arguments},
                        }
                        for call_id, name, arguments in calls
                    ],
                }
                return self._completion(model, message, "tool_calls", reply)
            case DelayedReply():
                raise AssertionError("delays are resolved before responding")

    def _completion(
        self,
        model: str,
        message: Mapping[str, Any],
        finish_reason: str,
        usage: TextReply | ToolCallsReply,
    ) -> web.Response:
        return web.json_response(
            {
                "id": f"chatcmpl-{next(self._ids):024d}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "system_fingerprint": "fp_cronpilot_fake",
                # OpenAI sends it, and LiteLLM's Groq adapter fails without it.
                "service_tier": "default",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "total_tokens": usage.prompt_tokens + usage.completion_tokens,
                },
            }
        )


def pictures_in(request: Mapping[str, Any]) -> list[str]:
    """The image URLs (data: URLs for pictures sent inline) of a chat request's messages."""
    return [
        part["image_url"]["url"]
        for message in request.get("messages", [])
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]


def _content_problem(messages: object) -> str | None:
    """What OpenAI would refuse in the messages' content parts: only text and image_url parts,
    an image as an http(s) URL or a base64 data URL of a picture type it reads."""
    if not isinstance(messages, list):
        return "messages must be a list"
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                continue
            if kind != "image_url":
                return f"Invalid content part type: {kind!r}"
            url = (part.get("image_url") or {}).get("url", "")
            if url.startswith(("http://", "https://")):
                continue
            match = re.fullmatch(
                r"data:(image/(?:jpeg|png|webp|gif));base64,([A-Za-z0-9+/=]+)", url
            )
            if match is None:
                return "Invalid image_url: expected an https URL or a base64 data URL"
            try:
                base64.b64decode(match.group(2), validate=True)
            except binascii.Error:
                return "Invalid image data"
    return None


def _error_response(reply: ErrorReply) -> web.Response:
    default_type = _ERROR_TYPES.get(reply.status, "server_error")
    error = {
        "message": reply.message,
        "type": reply.error_type or default_type,
        "param": None,
        "code": reply.code or _ERROR_CODES.get(reply.status),
    }
    return web.json_response({"error": error}, status=reply.status)
