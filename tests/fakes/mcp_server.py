"""A real MCP server built with the official SDK, for tests: run it as a subprocess.

    python tests/fakes/mcp_server.py stdio
    python tests/fakes/mcp_server.py http     # prints the port it listens on, then serves /mcp

Tools: `lookup_issue(number)` answers from a fixed tracker, `fail()` reports a tool error,
`crash()` ends the process (a server dying mid-call), `slow(seconds)` answers late.
`FAKE_MCP_LOG`, if set, names a file that gets a line at start (`started PID`) and per call.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("tracker")

ISSUES = {
    7: "Compiler crashes on nested closures (open, assigned to Dana)",
    12: "Add web search to scheduled tasks (open)",
}


def _log(line: str) -> None:
    path = os.environ.get("FAKE_MCP_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(line + "\n")


@server.tool()
def lookup_issue(number: int) -> str:
    """Look up an issue of the tracker by its number."""
    _log(f"lookup_issue {number}")
    title = ISSUES.get(number)
    if title is None:
        return f"There is no issue #{number}."
    return f"Issue #{number}: {title}"


@server.tool()
def fail() -> str:
    """Always fails."""
    _log("fail")
    raise ValueError("the tracker is read-only today")


@server.tool()
def crash() -> str:
    """Ends the server process without answering."""
    _log("crash")
    os._exit(3)


@server.tool()
async def slow(seconds: float) -> str:
    """Answers after the given number of seconds."""
    _log(f"slow {seconds}")
    await asyncio.sleep(seconds)
    return "finally"


@server.tool(name="a.name.providers.refuse")
def dotted() -> str:
    """A tool whose name OpenAI-style function calling does not accept."""
    return "never offered"


def _serve_http() -> None:
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    # Listening before the port is printed: a client that connects before uvicorn has started
    # waits in the backlog instead of being refused.
    listener.listen(16)
    print(listener.getsockname()[1], flush=True)
    app = server.streamable_http_app()
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))


if __name__ == "__main__":
    _log(f"started {os.getpid()}")
    if sys.argv[1:] == ["http"]:
        _serve_http()
    else:
        server.run("stdio")
