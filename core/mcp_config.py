"""The MCP_CONFIG file: which MCP servers to start, in the format other MCP clients use.

    {"mcpServers": {
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_TOKEN": "…"}},
        "home": {"url": "https://home.example.com/mcp", "headers": {"Authorization": "Bearer …"}}
    }}

A server has either `command` (stdio: `args`, `env`, `cwd` optional) or `url` (streamable HTTP:
`headers` optional); `type` may say which ("stdio", "http", "streamable-http"). Anything else,
a missing file or bad JSON is refused with one line naming the file and the problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from core.config_files import config_error, read_config_file
from core.errors import ConfigurationError

# The model sees `<server>__<tool>`; providers accept function names of [A-Za-z0-9_-]{1,64}.
SERVER_NAME = re.compile(r"[A-Za-z0-9-]{1,30}|[A-Za-z0-9][A-Za-z0-9_-]{0,28}[A-Za-z0-9-]")
_STDIO_KEYS = frozenset({"command", "args", "env", "cwd", "type"})
_HTTP_KEYS = frozenset({"url", "headers", "type"})
_STDIO_TYPES = frozenset({"stdio"})
_HTTP_TYPES = frozenset({"http", "streamable-http", "streamable_http", "streamableHttp"})


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One server: `command` for stdio, or `url` for streamable HTTP."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    def secret_values(self) -> list[str]:
        """Values that may hold credentials (environment and headers), to keep out of logs."""
        return [value for value in (*self.env.values(), *self.headers.values()) if len(value) >= 6]


def load_mcp_config(path: str) -> tuple[McpServerConfig, ...]:
    """Read and check the file; raise ConfigurationError with one line saying what is wrong."""
    text = read_config_file("MCP_CONFIG", path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _invalid(
            path, f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    return parse_mcp_config(document, path)


def parse_mcp_config(document: Any, path: str) -> tuple[McpServerConfig, ...]:
    if not isinstance(document, dict):
        raise _invalid(path, 'the file must hold a JSON object {"mcpServers": {…}}')
    unknown = sorted(set(document) - {"mcpServers"})
    if unknown:
        raise _invalid(path, f"unknown key {unknown[0]!r}; only mcpServers is read")
    servers = document.get("mcpServers")
    if not isinstance(servers, dict):
        raise _invalid(path, "mcpServers must be an object of server name → settings")
    return tuple(_server(name, entry, path) for name, entry in servers.items())


def _server(name: str, entry: Any, path: str) -> McpServerConfig:
    where = f"mcpServers.{name}"
    if not SERVER_NAME.fullmatch(name) or "__" in name:
        raise _invalid(
            path,
            f"{where}: a server name is 1-30 letters, digits, - or _ (no double underscore), "
            "since tools are called <name>__<tool>",
        )
    if not isinstance(entry, dict):
        raise _invalid(path, f"{where} must be an object with command or url")
    kind = entry.get("type")
    if kind is not None and kind not in _STDIO_TYPES | _HTTP_TYPES:
        raise _invalid(path, f"{where}.type must be stdio or http, not {kind!r}")
    unknown = sorted(set(entry) - _STDIO_KEYS - _HTTP_KEYS)
    if unknown:
        raise _invalid(
            path,
            f"{where}: unknown key {unknown[0]!r}; a server has command, args, env, cwd "
            "(stdio) or url, headers (HTTP)",
        )
    has_command, has_url = "command" in entry, "url" in entry
    if has_command == has_url:
        raise _invalid(path, f"{where} needs exactly one of command (stdio) or url (HTTP)")
    allowed = _STDIO_KEYS if has_command else _HTTP_KEYS
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise _invalid(
            path, f"{where}: unknown key {unknown[0]!r}; expected {', '.join(sorted(allowed))}"
        )
    if has_command:
        if kind is not None and kind not in _STDIO_TYPES:
            raise _invalid(path, f"{where}.type is {kind!r}, but the server has a command")
        return McpServerConfig(
            name=name,
            command=_text(entry["command"], f"{where}.command", path),
            args=tuple(_texts(entry.get("args", []), f"{where}.args", path)),
            env=_mapping(entry.get("env", {}), f"{where}.env", path),
            cwd=_text(entry["cwd"], f"{where}.cwd", path) if "cwd" in entry else None,
        )
    if kind is not None and kind not in _HTTP_TYPES:
        raise _invalid(path, f"{where}.type is {kind!r}, but the server has a url")
    url = _text(entry["url"], f"{where}.url", path)
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise _invalid(path, f"{where}.url must be an http:// or https:// URL")
    return McpServerConfig(
        name=name, url=url, headers=_mapping(entry.get("headers", {}), f"{where}.headers", path)
    )


def _text(value: Any, where: str, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(path, f"{where} must be a non-empty string")
    return value


def _texts(value: Any, where: str, path: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(path, f"{where} must be a list of strings")
    return list(value)


def _mapping(value: Any, where: str, path: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(item, str) for item in value.values()):
        raise _invalid(path, f"{where} must be an object of strings")
    return dict(value)


def _invalid(path: str, problem: str) -> ConfigurationError:
    return config_error("MCP_CONFIG", path, problem)
