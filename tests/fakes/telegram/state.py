"""What a chat shows: users, chats, messages, callback queries, the webhook, recorded calls."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from tests.fakes.telegram.api import JSONObject
from tests.fakes.telegram.entities import Entity, utf16_slice
from tests.fakes.telegram.validation import FakeButton

# ---------------------------------------------------------------------------------------------
# Chat state
# ---------------------------------------------------------------------------------------------

MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
ChatType = Literal["private", "group", "supergroup", "channel"]
# A forum topic as Telegram sees it: open, closed (no one may post) or deleted.
TopicState = Literal["open", "closed", "deleted"]


@dataclass(frozen=True)
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSONObject:
        data: JSONObject = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        if self.language_code is not None:
            data["language_code"] = self.language_code
        return data


@dataclass(eq=False)
class FakeChat:
    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bot_is_admin: bool = False
    # A private chat whose user blocked the bot, or a group the bot was removed from.
    bot_blocked: bool = False
    members: dict[int, MemberStatus] = field(default_factory=dict, repr=False)
    # A supergroup with topics, or a private chat in threaded mode: its topics by thread id.
    is_forum: bool = False
    topics: dict[int, TopicState] = field(default_factory=dict, repr=False)
    history: list[FakeMessage] = field(default_factory=list, init=False, repr=False)
    actions: list[str] = field(default_factory=list, init=False, repr=False)
    last_user_action: int = field(default=0, init=False, repr=False)
    _message_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), init=False, repr=False
    )

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def message(self, message_id: int) -> FakeMessage | None:
        for message in self.history:
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def to_json(self) -> JSONObject:
        data: JSONObject = {"id": self.id, "type": self.type}
        optional = {
            "title": self.title,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        if self.is_forum and self.type == "supergroup":
            data["is_forum"] = True
        return data


@dataclass(frozen=True)
class FakeMedia:
    """What a photo or document message carries besides its caption (the message's text)."""

    kind: Literal["photo", "document"]
    # A photo's URL (Telegram fetched it) or a document's file name.
    source: str
    # A document's bytes as uploaded; empty for a photo.
    content: bytes = b""
    media_group_id: str | None = None

    @property
    def file_id(self) -> str:
        return f"fake-{self.kind}-{abs(hash((self.source, self.content))):x}"


@dataclass(eq=False)
class FakeMessage:
    """A message in a chat, in its current state (after edits)."""

    chat: FakeChat
    message_id: int
    sender: FakeUser
    date: int
    text: str = ""
    entities: tuple[Entity, ...] = ()
    reply_markup: JSONObject | None = None
    reply_to: FakeMessage | None = None
    location: tuple[float, float] | None = None
    # The forum topic the message is in (message_thread_id); None for the main thread.
    thread_id: int | None = None
    # A photo or a document: `text` and `entities` are then its caption.
    media: FakeMedia | None = None
    # A file a user sent: its kind ("voice", "audio", "video_note", "document", "photo") and
    # its Bot API object (a list of sizes for a photo); `text` and `entities` are its caption.
    upload: tuple[str, object] | None = None
    edits: int = 0
    edit_date: int | None = None
    deleted: bool = False
    # The update that carried a user's message to the bot; None for the bot's own messages and
    # for group messages the bot does not see in privacy mode.
    update_id: int | None = None
    # Sequence number of the latest send or edit, for wait_for_message.
    last_event: int = 0

    def __repr__(self) -> str:
        return (
            f"FakeMessage(chat={self.chat.id}, message_id={self.message_id}, "
            f"from={self.sender.first_name!r}, text={self.text!r}, "
            f"buttons={self.button_labels!r}, edits={self.edits})"
        )

    @property
    def reply_to_message_id(self) -> int | None:
        return None if self.reply_to is None else self.reply_to.message_id

    @property
    def inline_keyboard(self) -> JSONObject | None:
        markup = self.reply_markup
        return markup if markup is not None and "inline_keyboard" in markup else None

    @property
    def button_rows(self) -> list[list[FakeButton]]:
        markup = self.inline_keyboard
        if markup is None:
            return []
        return [
            [
                FakeButton(
                    button["text"],
                    button.get("callback_data"),
                    button.get("url"),
                    (button.get("web_app") or {}).get("url"),
                )
                for button in row
            ]
            for row in markup["inline_keyboard"]
        ]

    @property
    def buttons(self) -> list[FakeButton]:
        return [button for row in self.button_rows for button in row]

    @property
    def button_labels(self) -> list[str]:
        return [button.text for button in self.buttons]

    def has_button(self, label: str) -> bool:
        """Whether an inline button's label contains ``label`` (labels may carry an emoji)."""
        return any(label in button.text for button in self.buttons)

    @property
    def force_reply(self) -> bool:
        return self.reply_markup is not None and self.reply_markup.get("force_reply") is True

    @property
    def keyboard(self) -> list[list[str]]:
        """Labels of a reply keyboard (the buttons shown instead of the phone keyboard)."""
        if self.reply_markup is None or "keyboard" not in self.reply_markup:
            return []
        return [
            [button["text"] if isinstance(button, dict) else button for button in row]
            for row in self.reply_markup["keyboard"]
        ]

    def entity_texts(self, entity_type: str) -> list[str]:
        """The parts of the text covered by entities of one type, e.g. ``"bold"``."""
        return [
            utf16_slice(self.text, entity.offset, entity.length)
            for entity in self.entities
            if entity.type == entity_type
        ]

    def to_json(self, *, include_reply: bool = True) -> JSONObject:
        data: JSONObject = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.location is not None:
            data["location"] = {"latitude": self.location[0], "longitude": self.location[1]}
        elif self.upload is not None:
            data[self.upload[0]] = self.upload[1]
            if self.text:
                data["caption"] = self.text
                if self.entities:
                    data["caption_entities"] = [entity.to_json() for entity in self.entities]
        elif self.media is not None:
            data.update(self._media_json(self.media))
        else:
            data["text"] = self.text
            if self.entities:
                data["entities"] = [entity.to_json() for entity in self.entities]
        if self.thread_id is not None:
            data["message_thread_id"] = self.thread_id
            data["is_topic_message"] = True
        if include_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_json(include_reply=False)
        if self.inline_keyboard is not None:
            data["reply_markup"] = self.inline_keyboard
        return data

    def _media_json(self, media: FakeMedia) -> JSONObject:
        file = {"file_id": media.file_id, "file_unique_id": media.file_id[-16:]}
        data: JSONObject = (
            {"photo": [file | {"width": 800, "height": 600}]}
            if media.kind == "photo"
            else {"document": file | {"file_name": media.source, "file_size": len(media.content)}}
        )
        if media.media_group_id is not None:
            data["media_group_id"] = media.media_group_id
        if self.text:
            data["caption"] = self.text
            if self.entities:
                data["caption_entities"] = [entity.to_json() for entity in self.entities]
        return data


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass(eq=False)
class FakeCallbackQuery:
    id: str
    user: FakeUser
    chat: FakeChat
    message: FakeMessage
    data: str
    update_id: int = 0
    answer: CallbackAnswer | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    allowed_updates: tuple[str, ...] | None = None
    drop_pending_updates: bool = False
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class ApiCall(NamedTuple):
    """One request the bot made: the method as called and its parameters as received."""

    method: str
    params: dict[str, object]


class ApiErrorAnswer(NamedTuple):
    """An error the fake answered, with Telegram's full description."""

    method: str
    error_code: int
    description: str


@dataclass
class _PendingUpdate:
    update_id: int
    kind: str
    payload: JSONObject
