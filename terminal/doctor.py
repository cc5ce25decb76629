"""`cronpilot doctor`: the operator's checks (application/watch.py) for a person at a terminal,
one ✓ or ✗ line each, a ✗ saying what to do. The same checks the alerts in OPERATOR_CHAT_ID
come from, so the two never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from application.watch import Check, CheckKind, Problem, Watch, WatchSettings


def _fine(check: Check, settings: WatchSettings) -> str:
    facts = check.facts
    match check.kind:
        case CheckKind.DATABASE:
            return "✓ database: reachable"
        case CheckKind.MODEL_ERRORS:
            return (
                f"✓ model errors: no model above {round(settings.model_error_ratio * 100)}% of "
                f"its runs in the last {facts.get('minutes')} minutes ({facts.get('runs')} runs)"
            )
        case CheckKind.REPLICAS:
            return f"✓ replicas: {facts.get('alive')} alive, none stopped heartbeating"
        case CheckKind.OVERDUE:
            return (
                "✓ tasks: none overdue, none missed in the last "
                f"{round(settings.model_window_seconds / 60)} minutes"
            )
        case CheckKind.DELIVERIES:
            return (
                "✓ deliveries: no result owed for more than "
                f"{round(settings.delivery_seconds / 60)} minutes"
            )


def _wrong(problem: Problem) -> str:
    facts: dict[str, Any] = dict(problem.facts)
    match problem.kind:
        case CheckKind.DATABASE:
            return (
                f"✗ database: unreachable ({facts['error']}); check DATABASE_URL and that the "
                "server is up"
            )
        case CheckKind.MODEL_ERRORS:
            return (
                f"✗ model {facts['model']}: {facts['failed']} of {facts['runs']} runs failed in "
                f"the last {facts['minutes']} minutes ({facts['percent']}%); check the "
                "provider's status, LLM_API_KEY and the bot's log (`cronpilot runs N` shows why)"
            )
        case CheckKind.REPLICAS:
            since = datetime.fromisoformat(str(facts["silent_since"]))
            return (
                f"✗ replica {facts['worker']}: no heartbeat since "
                f"{since:%Y-%m-%d %H:%M:%S} UTC ({facts['seconds']} s); the others take over "
                "its runs and owed results: start a replacement and look at why it died"
            )
        case CheckKind.OVERDUE:
            return (
                f"✗ tasks did not run: {facts['overdue']} overdue and not started "
                f"({facts['tasks'] or 'none'}), {facts['missed']} missed in the last "
                f"{facts['minutes']} minutes; is `cronpilot run` up, and its clock right?"
            )
        case CheckKind.DELIVERIES:
            return (
                f"✗ deliveries failing: {facts['count']} result(s) owed for more than "
                f"{facts['minutes']} minutes (chats {facts['chats']}); check that Telegram can "
                "be reached, TELEGRAM_BOT_TOKEN, and the bot's log"
            )


def render(checks: Sequence[Check], settings: WatchSettings) -> list[str]:
    """One line per passing check, one per problem of a failing one."""
    lines: list[str] = []
    for check in checks:
        if check.ok:
            lines.append(_fine(check, settings))
        else:
            lines.extend(_wrong(problem) for problem in check.problems)
    return lines


async def doctor(watch: Watch) -> tuple[list[str], bool]:
    """The lines to print, and whether everything is fine."""
    checks = await watch.diagnose()
    return render(checks, watch.settings), all(check.ok for check in checks)
