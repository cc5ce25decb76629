"""Where a task's results go, in words: its own chat or topic, other chats and channels, the
operator's destinations by name (never their addresses)."""

from __future__ import annotations

from html import escape

from bot.i18n import Translator
from storage.records import Target, TargetKind, Task


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
