"""One model step's tool calls answered within the step's bounds (the runner's tool loop)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from scheduler.llm import ToolCall
from scheduler.runner.tools.toolbox import Toolbox

# Bounds on one model step's tool calls: how many run, and how much text their results carry
# back into the next request.
MAX_TOOL_CALLS_PER_STEP = 5
MAX_STEP_RESULT_CHARS = 40_000


async def call_tools(
    toolbox: Toolbox, calls: Sequence[ToolCall], used: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Answer every call of one step, within the step's bounds: at most MAX_TOOL_CALLS_PER_STEP
    calls run and at most MAX_STEP_RESULT_CHARS of results go back to the model (50 fetches at
    once would otherwise put a million characters into the next request). Calls over a bound
    are answered with an error the model can act on, since every call needs an answer; `used`
    counts each call that runs."""
    answers = []
    carried = 0
    for index, call in enumerate(calls):
        if index >= MAX_TOOL_CALLS_PER_STEP:
            result = (
                f"error: not run; at most {MAX_TOOL_CALLS_PER_STEP} tool calls are run per "
                "step, so ask for fewer at once"
            )
        elif carried >= MAX_STEP_RESULT_CHARS:
            result = "error: not run; this step's tool results already reached their size limit"
        else:
            used(call.name[:64] or "?")
            result = await toolbox.call(call.name, call.arguments)
            room = MAX_STEP_RESULT_CHARS - carried
            if len(result) > room:
                result = result[:room] + "\n[…cut: this step's tool results reached their limit]"
            carried += len(result)
        answers.append(call.result_message(result))
    return answers
