"""Who may do what: the actor every use case is given, and the one table saying which right each
action needs.

An `Actor` is who acts (a Telegram user id), where (the chat and topic they write in, when they
write in one) and through which door (the bot, the HTTP API, the Mini App, the operator's
terminal). A use case names its `Action`; `NEEDS` says which `Right` that takes; whether the actor
holds it in a chat is `application.access.Access.holds`, the one function for that. A new action
is one line here (and its use case asks for it); the refusal errors below carry facts, and each
front door words them.

The shape follows the FastAPI template's `CurrentUser` dependency (the door resolves who is
calling once; the use case decides what they may do) and aiogram's callback filters (a button's
data says what it acts on; whether the presser may is checked again on every press).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from core.errors import CronpilotError

PRIVATE = "private"
# The operator's own user and chat in the terminal (`cronpilot chat` is one local private chat).
OPERATOR_USER_ID = 0


class Door(StrEnum):
    BOT = "bot"
    API = "api"
    MINIAPP = "miniapp"
    # `cronpilot tasks …`, `cronpilot runs`, `cronpilot chat`: the operator at the machine.
    TERMINAL = "terminal"


class Right(StrEnum):
    # See a chat's tasks, runs, requests and usage.
    READ = "read"
    # Create and change a chat's tasks, and its settings (time zone, language).
    MANAGE = "manage"
    # What only the person themselves may do, in their own private chat (their API token).
    OWN = "own"
    # Every chat at once: the operator's view.
    OPERATE = "operate"


class Action(StrEnum):
    LIST_CHATS = "chats.list"
    SET_TIMEZONE = "chats.set_timezone"
    SET_LANGUAGE = "chats.set_language"
    READ_USAGE = "usage.read"
    LIST_TASKS = "tasks.list"
    SHOW_TASK = "tasks.show"
    TASK_HISTORY = "tasks.history"
    CREATE_TASK = "tasks.create"
    EDIT_TASK = "tasks.edit"
    RUN_TASK = "tasks.run"
    PAUSE_TASK = "tasks.pause"
    RESUME_TASK = "tasks.resume"
    DELETE_TASK = "tasks.delete"
    SET_TARGETS = "tasks.set_targets"
    EVERY_CHATS_TASKS = "tasks.every_chat"
    SET_TASK_MODE = "tasks.set_mode"
    SNOOZE_REMINDER = "reminders.snooze"
    FINISH_REMINDER = "reminders.done"
    SKIP_RUN = "tasks.skip"
    UNSKIP_RUN = "tasks.unskip"
    MANAGE_TRIGGER = "tasks.trigger"
    CHAIN_TASK = "tasks.chain"
    QUIET_TASK = "tasks.quiet"
    PREVIEW_REQUEST = "requests.preview"
    SHOW_DRAFT = "drafts.show"
    CONFIRM_DRAFT = "drafts.confirm"
    CORRECT_DRAFT = "drafts.correct"
    CANCEL_DRAFT = "drafts.cancel"
    ASK_ABOUT_TASK = "conversations.ask"
    HEAR_VOICE = "voice.hear"
    READ_FILE = "files.read"
    PROPOSE_CHANGE = "changes.propose"
    CONFIRM_CHANGE = "changes.confirm"
    CANCEL_CHANGE = "changes.cancel"
    ISSUE_TOKEN = "tokens.issue"  # noqa: S105 - an action's name, not a secret
    REVOKE_TOKEN = "tokens.revoke"  # noqa: S105


# Which right each action needs: the one table. Every action is in it (a test checks).
NEEDS: MappingProxyType[Action, Right] = MappingProxyType(
    {
        Action.LIST_CHATS: Right.READ,
        Action.SET_TIMEZONE: Right.MANAGE,
        Action.SET_LANGUAGE: Right.MANAGE,
        Action.READ_USAGE: Right.READ,
        Action.LIST_TASKS: Right.READ,
        Action.SHOW_TASK: Right.READ,
        Action.TASK_HISTORY: Right.READ,
        Action.CREATE_TASK: Right.MANAGE,
        Action.EDIT_TASK: Right.MANAGE,
        Action.RUN_TASK: Right.MANAGE,
        Action.PAUSE_TASK: Right.MANAGE,
        Action.RESUME_TASK: Right.MANAGE,
        Action.DELETE_TASK: Right.MANAGE,
        # Where results go; a Telegram target also needs its chat's admins (application/targets).
        Action.SET_TARGETS: Right.MANAGE,
        Action.EVERY_CHATS_TASKS: Right.OPERATE,
        # Reminder or AI task, Snooze and Done, skipping the next run: changes to the task.
        Action.SET_TASK_MODE: Right.MANAGE,
        Action.SNOOZE_REMINDER: Right.MANAGE,
        Action.FINISH_REMINDER: Right.MANAGE,
        Action.SKIP_RUN: Right.MANAGE,
        Action.UNSKIP_RUN: Right.MANAGE,
        # A trigger URL starts the task (on the chat's bill) for whoever holds it.
        Action.MANAGE_TRIGGER: Right.MANAGE,
        Action.CHAIN_TASK: Right.MANAGE,
        Action.QUIET_TASK: Right.MANAGE,
        # A preview keeps nothing, but a model may read it on the chat's bill: readers may ask.
        Action.PREVIEW_REQUEST: Right.READ,
        Action.SHOW_DRAFT: Right.READ,
        Action.CONFIRM_DRAFT: Right.MANAGE,
        Action.CORRECT_DRAFT: Right.MANAGE,
        Action.CANCEL_DRAFT: Right.MANAGE,
        # Asking about a result is reading, in the chat the result was posted in (its own, or
        # another chat it is copied to: whoever may read there read it); what the answer
        # proposes to change needs MANAGE in the task's own chat.
        Action.ASK_ABOUT_TASK: Right.READ,
        # What is heard goes on as text, whose own action is checked then.
        Action.HEAR_VOICE: Right.READ,
        Action.READ_FILE: Right.READ,
        Action.PROPOSE_CHANGE: Right.MANAGE,
        Action.CONFIRM_CHANGE: Right.MANAGE,
        Action.CANCEL_CHANGE: Right.MANAGE,
        Action.ISSUE_TOKEN: Right.OWN,
        Action.REVOKE_TOKEN: Right.OWN,
    }
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts, where and through which door.

    `chat_id` is the chat the actor writes in (the bot's, and `cronpilot chat`'s local one); an
    actor in a chat acts on that chat only, whatever they may do elsewhere. The API, the Mini App
    and the operator's `cronpilot tasks` act from outside any chat (`chat_id` None) and name
    chats and tasks by id. `as_chat` is the chat a message was sent as: an anonymous group admin
    writes as the group itself.
    """

    user_id: int
    door: Door
    chat_id: int | None = None
    chat_type: str | None = None
    topic_id: int | None = None
    as_chat: int | None = None

    @property
    def home_chat_id(self) -> int:
        """The chat the actor writes in; from outside any chat, their private chat with the bot
        (it has their user id)."""
        return self.chat_id if self.chat_id is not None else self.user_id

    @classmethod
    def operator(cls, *, chat_id: int | None = None) -> Actor:
        """The operator at the terminal: in `chat_id` (a local private chat), or everywhere."""
        return cls(
            OPERATOR_USER_ID,
            Door.TERMINAL,
            chat_id=chat_id,
            chat_type=PRIVATE if chat_id is not None else None,
        )


class RefusedError(CronpilotError):
    """The actor may not do the action: its facts are who (and through which door), what and
    where; the front doors word it."""

    def __init__(self, actor: Actor, action: Action | None, chat_id: int | None, fact: str) -> None:
        what = action.value if action is not None else "use the bot"
        where = f" in chat {chat_id}" if chat_id is not None else ""
        super().__init__(f"user {actor.user_id} may not {what}{where}: {fact}")
        self.user_id = actor.user_id
        self.door = actor.door
        self.action = action
        self.chat_id = chat_id


class NotAllowedError(RefusedError):
    """The user is not on ALLOWED_USERS."""

    def __init__(
        self, actor: Actor, action: Action | None = None, chat_id: int | None = None
    ) -> None:
        super().__init__(actor, action, chat_id, "not on ALLOWED_USERS")


class ChatHiddenError(RefusedError):
    """The user may not see this chat (or it does not exist): answered like a missing chat."""

    def __init__(self, actor: Actor, action: Action, chat_id: int | None) -> None:
        super().__init__(actor, action, chat_id, "not one of their chats")


class NotManagerError(RefusedError):
    """The user may see the chat but not change it (a group member who is no admin)."""

    def __init__(self, actor: Actor, action: Action, chat_id: int | None) -> None:
        super().__init__(actor, action, chat_id, "they do not manage it")


class PrivateChatOnlyError(RefusedError):
    """The action is the person's own, done in their private chat with the bot."""

    def __init__(self, actor: Actor, action: Action, chat_id: int | None) -> None:
        super().__init__(actor, action, chat_id, "only in their own private chat")


class OperatorOnlyError(RefusedError):
    """Only the operator, at the terminal, may do this."""

    def __init__(self, actor: Actor, action: Action, chat_id: int | None = None) -> None:
        super().__init__(actor, action, chat_id, "only the operator may")
