"""Where a task's results go, in words: its own chat or topic, other chats and channels, the
operator's destinations by name (never their addresses)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.i18n import Translator
from storage.records import (
    HERE,
    DeliveryState,
    Run,
    Target,
    TargetDelivery,
    TargetKind,
    Task,
)


def place(_: Translator, task: Task, target: Target) -> str:
    """One target as people name it."""
    if target.kind is TargetKind.CHAT:
        if task.thread_id is not None:
            return _("topic {number}", number=task.thread_id)
        return _("this chat")
    if target.kind is TargetKind.TELEGRAM and target.thread_id is not None:
        return _("{chat}, topic {number}", chat=escape(target.label), number=target.thread_id)
    return escape(target.label)


def places(_: Translator, task: Task) -> str:
    return " · ".join(place(_, task, target) for target in task.destinations)


def posts_to(_: Translator, task: Task, *, always: bool = False) -> str | None:
    """ "Posts to …" for a task whose results go anywhere but the main thread of its chat (or
    always, on its own card)."""
    if not always and task.thread_id is None and not task.targets:
        return None
    return _("📍 Posts to {places}", places=places(_, task))


def outcomes(_: Translator, task: Task, run: Run, copies: Sequence[TargetDelivery]) -> str:
    """Each target's copy of a run's result: "✓ this chat · ✓ @news · ✗ team-slack: HTTP 500,
    retrying"."""
    parts = []
    if task.posts_here:
        here = place(_, task, HERE)
        if run.delivered_message_id is not None:
            parts.append(f"✓ {here}")
        elif run.delivery_error is not None:
            parts.append(f"✗ {here}: {escape(_short(run.delivery_error, 100))}")
        else:
            parts.append(f"… {here}")
    order = {target.key: index for index, target in enumerate(task.destinations)}
    for copy in sorted(copies, key=lambda copy: order.get(copy.target, len(order))):
        label = escape(copy.label)
        why = escape(_short(_.reason(copy.reason), 100)) if copy.reason is not None else ""
        if copy.state is DeliveryState.SENT:
            parts.append(f"✓ {label}")
        elif copy.state is DeliveryState.FAILED:
            parts.append(f"✗ {label}: {why}")
        elif copy.state is DeliveryState.RETRYING:
            parts.append("✗ " + _("{target}: {error}, retrying", target=label, error=why))
        else:
            parts.append(f"… {label}")
    return " · ".join(parts)


def _short(text: str, limit: int) -> str:
    """A failure's words cut to fit a history line (render.clip's rule; render imports this
    module, so it cannot be imported here)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
