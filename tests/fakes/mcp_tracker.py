"""Helpers to run tests/fakes/mcp_server.py, a real MCP server, over stdio or streamable HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.mcp_config import McpServerConfig

SCRIPT = Path(__file__).with_name("mcp_server.py")


def stdio_config(name: str = "tracker", *, log: Path | None = None) -> McpServerConfig:
    env = {"FAKE_MCP_LOG": str(log)} if log is not None else {}
    return McpServerConfig(name=name, command=sys.executable, args=(str(SCRIPT), "stdio"), env=env)


def stdio_entry(*, log: Path | None = None) -> dict[str, object]:
    """The same server as an MCP_CONFIG entry."""
    entry: dict[str, object] = {"command": sys.executable, "args": [str(SCRIPT), "stdio"]}
    if log is not None:
        entry["env"] = {"FAKE_MCP_LOG": str(log)}
    return entry


@contextmanager
def http_server() -> Iterator[str]:
    """Start the server over streamable HTTP; yield its /mcp URL; stop it."""
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), "http"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())  # printed once it listens
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)
