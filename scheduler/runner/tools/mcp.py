"""MCP servers as tools: each server of MCP_CONFIG is a toolset of its own (key `mcp:<server>`,
a task may have it or not), and its tools are offered as `<server>__<tool>`.

Servers are started once and shared by every run. Each connection is owned by one asyncio task
(the SDK's transports are anyio task groups, which must be entered and left in the same task);
runs call tools through its session. A server that is down or crashed gives a tool error, and
is started again when a later run asks for tools; `stop` ends them all (SIGTERM). `cronpilot
check` starts each, lists its tools and stops it: one line per server.

Timeouts are the SDK's own request timeouts (the request is abandoned and answered with an
error) rather than cancelling a call in flight, which can leave an HTTP pool slot stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from core.checks import CheckResult
from core.logs import get_logger
from core.mcp_config import McpServerConfig
from core.settings import Settings
from scheduler.clock import Clock
from scheduler.runner.tools.registry import ToolKit, Toolset
from scheduler.runner.tools.toolbox import MAX_RESULT_CHARS, Tool, ToolError
from storage.records import Task

if TYPE_CHECKING:
    from mcp import ClientSession
    from mcp_types import CallToolResult
    from mcp_types import Tool as McpTool

log = get_logger(__name__)

CALL_TIMEOUT_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 20.0
PING_TIMEOUT_SECONDS = 5.0
STOP_TIMEOUT_SECONDS = 5.0
# What one MCP call adds to the conversation at most (the toolbox caps every tool too).
MAX_MCP_RESULT_CHARS = MAX_RESULT_CHARS
MAX_DESCRIPTION_CHARS = 1_000
_MAX_TOOL_PAGES = 20
# The function names LLM providers accept.
TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
KEY = "mcp"
ADVICE = (
    "Tools named server__tool come from the operator's MCP servers; use them when the task "
    "needs what they reach. "
)


@dataclass(frozen=True, slots=True)
class McpStatus:
    """What `cronpilot check` says about one server."""

    name: str
    ok: bool
    tools: tuple[str, ...] = ()
    error: str | None = None
    # Tools not offered: their names are not ones the model can call.
    skipped: tuple[str, ...] = ()


class McpServer(Toolset):
    """One configured server and its (re)started connection: a toolset named after it."""

    advice = ADVICE

    def __init__(
        self,
        config: McpServerConfig,
        *,
        call_timeout: float = CALL_TIMEOUT_SECONDS,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    ) -> None:
        self.config = config
        self.key = f"{KEY}:{config.name}"
        self.label = config.name
        self._call_timeout = call_timeout
        self._connect_timeout = connect_timeout
        self._session: ClientSession | None = None
        self._tools: tuple[McpTool, ...] = ()
        self._owner: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self.error: str | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def running(self) -> bool:
        return self._session is not None and self._owner is not None and not self._owner.done()

    async def ensure(self) -> bool:
        """Connected (starting or restarting the server if need be); False with `error` set
        when it cannot be reached."""
        await _load_sdk()
        async with self._lock:
            if self.running and await self._answers_ping():
                return True
            await self._shut()
            return await self._start()

    async def start(self) -> None:
        await self.ensure()

    async def tools(self, task: Task) -> Sequence[Tool]:
        return await self.offered()

    async def offered(self) -> list[Tool]:
        """The server's tools for one run (the same for every task); none while it cannot be
        reached."""
        if not await self.ensure():
            return []
        return [self._tool(spec) for spec in self._tools if self._offerable(spec)]

    def _offerable(self, spec: McpTool) -> bool:
        # A name providers refuse would fail every run's request, not just this tool.
        if TOOL_NAME.fullmatch(f"{self.name}__{spec.name}"):
            return True
        log.warning("mcp.tool_skipped", server=self.name, tool=spec.name[:100])
        return False

    async def status(self) -> McpStatus:
        if await self.ensure():
            offered = [spec for spec in self._tools if self._offerable(spec)]
            return McpStatus(
                self.name,
                True,
                tuple(spec.name for spec in offered),
                skipped=tuple(spec.name for spec in self._tools if spec not in offered),
            )
        return McpStatus(self.name, False, error=self.error)

    async def stop(self) -> None:
        async with self._lock:
            await self._shut()

    # --- the connection -----------------------------------------------------------------

    async def _start(self) -> bool:
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()
        self.error = None
        self._owner = asyncio.create_task(self._own(), name=f"mcp-{self.name}")
        ready = asyncio.create_task(self._ready.wait())
        try:
            await asyncio.wait(
                {ready, self._owner},
                timeout=self._connect_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            ready.cancel()
        if self._session is not None:
            log.info("mcp.started", server=self.name, tools=len(self._tools))
            return True
        if not self._owner.done():
            self.error = f"did not start within {self._connect_timeout:g} s"
        await self._shut()
        log.warning("mcp.unavailable", server=self.name, error=self.error)
        return False

    async def _own(self) -> None:
        """Enter the transport and the session, list the tools, hold them until told to stop."""
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(await self._transport(stack))
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                self._tools = await _list_tools(session)
                self._session = session
                self._ready.set()
                await self._stop.wait()
        except Exception as error:  # noqa: BLE001 - the SDK's, the process's, the network's: all mean down
            if self.error is None:
                self.error = _reason(error)
            log.warning("mcp.connection_ended", server=self.name, error=self.error)
        except BaseException as group:  # anyio task groups raise exception groups
            if isinstance(group, asyncio.CancelledError):
                raise
            if self.error is None:
                self.error = _reason(group)
        finally:
            self._session = None
            self._ready.set()

    async def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        from mcp import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        config = self.config
        if config.command is not None:
            return stdio_client(
                StdioServerParameters(
                    command=config.command,
                    args=list(config.args),
                    env=dict(config.env) or None,
                    cwd=config.cwd,
                ),
                # The real stream: the server's own complaints go to the bot's stderr.
                errlog=sys.__stderr__ or sys.stderr,
            )
        assert config.url is not None
        # Given a client, the SDK leaves closing it to us.
        client = await stack.enter_async_context(
            create_mcp_http_client(headers=dict(config.headers) or None)
        )
        return streamable_http_client(config.url, http_client=client)

    async def _answers_ping(self) -> bool:
        from mcp import MCPError

        session = self._session
        if session is None:
            return False
        try:
            with anyio.fail_after(PING_TIMEOUT_SECONDS):
                await session.send_ping()
        except (MCPError, TimeoutError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            return False
        except Exception as error:  # noqa: BLE001 - any failure means "not answering"
            log.warning("mcp.ping_failed", server=self.name, error=_reason(error))
            return False
        return True

    async def _shut(self) -> None:
        owner, self._owner = self._owner, None
        self._session = None
        if owner is None:
            return
        self._stop.set()
        done, _ = await asyncio.wait({owner}, timeout=STOP_TIMEOUT_SECONDS)
        if not done:  # a server that ignores its stdin closing: the SDK kills it on cancel
            owner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await owner

    # --- the tools ----------------------------------------------------------------------

    def _tool(self, spec: McpTool) -> Tool:
        name = f"{self.name}__{spec.name}"

        async def handler(arguments: Mapping[str, Any]) -> str:
            return await self._call(spec.name, dict(arguments))

        description = (spec.description or spec.title or spec.name).strip()
        if len(description) > MAX_DESCRIPTION_CHARS:
            description = description[: MAX_DESCRIPTION_CHARS - 1] + "…"
        schema = dict(spec.input_schema) if spec.input_schema else {}
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        return Tool(
            name=name,
            description=f"{description} (MCP server {self.name})",
            parameters=schema,
            handler=handler,
        )

    async def _call(self, tool: str, arguments: dict[str, Any]) -> str:
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        session = self._session
        if session is None or not self.running:
            raise ToolError(f"the MCP server {self.name} is not running; try again in a later run")
        try:
            result = await session.call_tool(
                tool, arguments, read_timeout_seconds=self._call_timeout
            )
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                raise ToolError(
                    f"the MCP server {self.name} did not answer within {self._call_timeout:g} s"
                ) from None
            if error.code == CONNECTION_CLOSED or not await self._answers_ping():
                self._stop.set()  # down: a later run starts it again
                raise ToolError(
                    f"the MCP server {self.name} stopped answering (it may have crashed); "
                    "it will be started again for a later run"
                ) from None
            raise ToolError(f"the MCP server {self.name} failed: {_reason(error)}") from None
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError) as error:
            self._stop.set()
            raise ToolError(
                f"the MCP server {self.name} is not reachable ({_reason(error)})"
            ) from None
        text = result_text(result)
        if result.is_error:
            raise ToolError(f"{self.name}__{tool} reported an error: {text or 'no details'}")
        return text or "(the tool returned nothing)"


class McpServers:
    """Every server of MCP_CONFIG at once: `cronpilot check` asks them all for their status."""

    def __init__(self, configs: Sequence[McpServerConfig], **options: float) -> None:
        self.servers = [McpServer(config, **options) for config in configs]

    async def start(self) -> None:
        """Start every server now rather than in the first run; failures are logged, and a
        later run tries again."""
        await asyncio.gather(*(server.ensure() for server in self.servers))

    async def tools(self) -> Sequence[Tool]:
        found: list[Tool] = []
        for tools in await asyncio.gather(*(server.offered() for server in self.servers)):
            found.extend(tools)
        return found

    async def statuses(self) -> list[McpStatus]:
        return list(await asyncio.gather(*(server.status() for server in self.servers)))

    async def stop(self) -> None:
        await asyncio.gather(*(server.stop() for server in self.servers))


async def _load_sdk() -> None:
    """Import the MCP SDK (half a second of imports) in a worker thread, once a server is
    used: never at start-up, and never on the event loop."""
    if "mcp" not in sys.modules or "mcp.client.streamable_http" not in sys.modules:
        await asyncio.to_thread(_import_sdk)


def _import_sdk() -> None:
    import mcp
    import mcp.client.streamable_http
    import mcp.shared._httpx_utils  # noqa: F401
    import mcp_types  # noqa: F401


async def _list_tools(session: ClientSession) -> tuple[McpTool, ...]:
    from mcp_types import PaginatedRequestParams

    tools: list[McpTool] = []
    cursor: str | None = None
    for _ in range(_MAX_TOOL_PAGES):
        params = PaginatedRequestParams(cursor=cursor) if cursor else None
        listing = await session.list_tools(params=params)
        tools.extend(listing.tools)
        cursor = listing.next_cursor
        if not cursor:
            break
    return tuple(tools)


def result_text(result: CallToolResult) -> str:
    """The result as text for the model: text blocks as they are, other blocks named."""
    from mcp_types import EmbeddedResource, ImageContent, TextContent, TextResourceContents

    parts: list[str] = []
    for block in result.content:
        if isinstance(block, TextContent):
            parts.append(block.text)
        elif isinstance(block, ImageContent):
            parts.append(f"[an image, {block.mime_type}, not shown]")
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                parts.append(resource.text)
            else:
                parts.append(f"[a binary resource {resource.uri}, not shown]")
        else:
            parts.append(f"[{getattr(block, 'type', 'unknown')} content, not shown]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=1))
    text = "\n".join(parts).strip()
    if len(text) > MAX_MCP_RESULT_CHARS:
        text = text[:MAX_MCP_RESULT_CHARS] + "\n[…cut: the result was too long]"
    return text


def _reason(error: BaseException) -> str:
    """A short reason from an error, or from the first leaf of an exception group."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, FileNotFoundError):
        return f"the command was not found ({error.filename or error})"
    text = " ".join(str(error).split())
    if len(text) > 200:
        text = text[:199] + "…"
    return text or type(error).__name__


# --- the tool module ------------------------------------------------------------------------


def _configured(settings: Settings) -> bool:
    return bool(settings.mcp_servers)


def _build(settings: Settings, clock: Clock) -> Sequence[Toolset]:
    return [McpServer(config) for config in settings.mcp_servers]


async def check_servers(settings: Settings) -> Sequence[CheckResult]:
    """Start every MCP server of MCP_CONFIG, list its tools, stop it: one line each."""
    servers = McpServers(settings.mcp_servers)
    try:
        statuses = await servers.statuses()
    finally:
        await servers.stop()
    return [_check_result(status) for status in statuses]


def _check_result(status: McpStatus) -> CheckResult:
    name = f"mcp {status.name}"
    if not status.ok:
        return CheckResult(
            name,
            False,
            status.error or "could not be reached",
            f"check mcpServers.{status.name} in MCP_CONFIG and that the server runs",
        )
    count = len(status.tools)
    listed = ", ".join(status.tools[:5]) + (", …" if count > 5 else "")
    detail = f"{count} tool{'' if count == 1 else 's'}" + (f" ({listed})" if count else "")
    if status.skipped:
        skipped = ", ".join(status.skipped[:5]) + (", …" if len(status.skipped) > 5 else "")
        return CheckResult(
            name,
            True,
            f"{detail}; not offered: {skipped}",
            "tool names may only hold letters, digits, _ and - (64 at most with the server's "
            "name), or the model could not call them",
            warning=True,
        )
    return CheckResult(name, True, detail)


KIT = ToolKit(
    key=KEY,
    order=40,
    settings=("MCP_CONFIG",),
    configured=_configured,
    build=_build,
    check=check_servers,
)
