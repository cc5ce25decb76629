"""The `cronpilot` command as an operator runs it: a subprocess with a clean environment.

`run_cronpilot` is for commands that talk to fake servers living in the test's event loop (which
must keep serving while the process runs), so it waits without blocking the loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
# Settings that would change what a command does, and provider keys LiteLLM would pick up.
STRIPPED_PREFIXES = (
    "DATABASE_",
    "TELEGRAM_",
    "LLM_",
    "OPENAI_",
    "ANTHROPIC_",
    "LITELLM_",
    "PARSER_",
    "WEBHOOK_",
    "HEALTH_",
    "HTTP_",
)
TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    settings = {name.upper() for name in Settings.model_fields}
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(STRIPPED_PREFIXES)
        and name.upper() not in settings
        and not name.upper().endswith("_API_KEY")
    }
    # The package from this checkout, whatever is installed; fake servers are never proxied.
    environment["PYTHONPATH"] = str(ROOT)
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    environment["COLUMNS"] = "200"
    environment.update(extra or {})
    return environment


async def run_cronpilot(
    cwd: Path,
    environment: Mapping[str, str],
    *arguments: str,
    stdin: str | None = None,
    timeout: float = TIMEOUT_SECONDS,  # noqa: ASYNC109 - a bound on a whole process, not a call
) -> Outcome:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cronpilot.cli",
        *arguments,
        cwd=cwd,
        env=clean_environment(environment),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            stdout, stderr = await process.communicate(
                stdin.encode() if stdin is not None else None
            )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Outcome(process.returncode, stdout.decode(), stderr.decode())
