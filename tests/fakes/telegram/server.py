"""The fake Bot API server: the HTTP endpoints PTB calls, and the methods tests act through."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.fakes.telegram.api import (
    _T,
    CHAT_ACTIONS,
    DEFAULT_TOKEN,
    HTML_ERROR_PAGE,
    MAX_ALBUM,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CAPTION_LENGTH,
    MAX_COMMANDS,
    MAX_MESSAGE_LENGTH,
    NOT_MODIFIED,
    OPT_IN_UPDATES,
    POLLING_TERMINATED,
    POLLING_WHILE_WEBHOOK,
    QUERY_TOO_OLD,
    ApiError,
    JSONObject,
    bad_request,
    forbidden,
)
from tests.fakes.telegram.entities import (
    EntityParseError,
    FormattedText,
    detect_entities,
    explicit_entities,
    finalize_text,
    utf16_length,
)
from tests.fakes.telegram.html import parse_html
from tests.fakes.telegram.limits import FloodControl, RateLimits, Refusal
from tests.fakes.telegram.markdown import parse_markdown, parse_markdown_v2
from tests.fakes.telegram.state import (
    ApiCall,
    ApiErrorAnswer,
    CallbackAnswer,
    FakeCallbackQuery,
    FakeChat,
    FakeMedia,
    FakeMessage,
    FakeUser,
    MemberStatus,
    WebhookConfig,
    _PendingUpdate,
)
from tests.fakes.telegram.validation import (
    _MARKUP_UNPARSABLE,
    FakeButton,
    Params,
    read_params,
    validate_reply_markup,
)

# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

ApiMethod = Callable[[Params], Awaitable[object]]
MessagePredicate = Callable[[FakeMessage], bool]


@dataclass(frozen=True)
class _Fault:
    """What the server does instead of answering one call: an error answer (JSON, or the
    HTML page of Telegram's front servers), or hanging up without any answer."""

    error: ApiError | None
    text_contains: str | None = None
    html: bool = False
    delay: float = 0.0


def _bot_id(token: str) -> int:
    prefix = token.partition(":")[0]
    return int(prefix) if prefix.isdigit() else 1


def _member_json(status: MemberStatus, user: FakeUser) -> JSONObject:
    data: JSONObject = {"status": status, "user": user.to_json()}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=True,
            can_edit_stories=True,
            can_delete_stories=True,
            can_pin_messages=True,
            can_manage_topics=False,
            can_post_messages=True,
            can_edit_messages=True,
        )
    elif status == "kicked":
        data["until_date"] = 0
    return data


def _button_word(label: str) -> str:
    """A button label without the emoji or punctuation around its words."""
    return re.sub(r"^\W+|\W+$", "", label)


class FakeTelegram:
    """A Bot API server on 127.0.0.1 plus the users and chats that talk to the bot.

    ``clock`` gives the current Unix time for message dates and the rate limiter; inject a
    :class:`ManualClock` to test flood limits without waiting. With ``privacy_mode`` (Telegram's
    default for bots) a group the bot does not administer only delivers commands, mentions of the
    bot and replies to the bot. ``strict_html_ampersand`` refuses an unescaped ``&`` in HTML text,
    which Telegram itself keeps literally.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "cronpilot_test_bot",
        bot_name: str = "cronpilot",
        rate_limits: RateLimits | None = None,
        clock: Callable[[], float] = time.time,
        privacy_mode: bool = True,
        strict_html_ampersand: bool = True,
        webhook_retry_delay: float = 0.05,
    ) -> None:
        self.token = token
        self.bot = FakeUser(_bot_id(token), bot_name, username=bot_username, is_bot=True)
        self.privacy_mode = privacy_mode
        self.strict_html_ampersand = strict_html_ampersand
        self.webhook_retry_delay = webhook_retry_delay
        self.calls: list[ApiCall] = []
        self.errors: list[ApiErrorAnswer] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.rate_limited_count = 0
        self.webhook: WebhookConfig | None = None
        self.logged_out = False
        self.closed = False
        self._clock = clock
        self._limiter = FloodControl(rate_limits or RateLimits(), clock)
        self._users: dict[int, FakeUser] = {}
        self._chats: dict[int, FakeChat] = {}
        self._queries: dict[str, FakeCallbackQuery] = {}
        self._commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        # setChatMenuButton, by chat id (None: the default for every private chat).
        self.menu_buttons: dict[int | None, JSONObject] = {}
        self._pending: list[_PendingUpdate] = []
        self._allowed_updates: frozenset[str] | None = None
        self._update_ids = itertools.count(700_000_001)
        self._query_ids = itertools.count(1)
        self._events = 0
        self._poll_generation = 0
        self._change = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._faults: dict[str, list[_Fault]] = {}
        # Files users sent, by file_id: their bytes and the path getFile names.
        self._files: dict[str, tuple[bytes, str]] = {}
        self._file_ids = itertools.count(1)
        self.file_downloads: list[str] = []
        # Photo URLs Telegram cannot fetch (sendPhoto and sendMediaGroup refuse them).
        self.unreachable_urls: set[str] = set()
        self._delays: dict[str, float] = {}
        self._media_groups = itertools.count(13_000_000_001)
        self._methods: dict[str, ApiMethod] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "sendmediagroup": self._send_media_group,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getchat": self._get_chat,
            "getfile": self._get_file,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._close,
            "logout": self._log_out,
        }

    @property
    def rate_limits(self) -> RateLimits:
        return self._limiter.limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits) -> None:
        """Replace the flood limits; counting starts afresh."""
        self._limiter = FloodControl(limits, self._clock)

    @property
    def refusals(self) -> list[Refusal]:
        """The messages refused by the flood limits (429): which limit, which chat, when."""
        return self._limiter.refusals

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # A client that hangs up (PTB cancelling its long poll on stop) cancels its handler, so
        # an abandoned poll neither consumes nor reports anything.
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls answer at once
        await self._stop_delivery()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What PTB takes as ``base_url``: requests go to ``{base_url}{token}/{method}``."""
        if self._port is None:
            raise RuntimeError("the fake Telegram server is not started")
        return f"http://127.0.0.1:{self._port}/bot"

    # -- users and chats ------------------------------------------------------------------------

    def user(
        self,
        id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> FakeUser:
        user = FakeUser(id, first_name, last_name, username, language_code)
        known = self._users.get(id)
        if known is not None and known != user:
            raise ValueError(f"user {id} already exists as {known}")
        self._users[id] = user
        return user

    def private_chat(self, user: FakeUser) -> FakeChat:
        """The chat between ``user`` and the bot (its id is the user's); the user started it."""
        self._known_user(user)
        chat = self._chats.get(user.id)
        if chat is None:
            chat = FakeChat(
                user.id,
                "private",
                username=user.username,
                first_name=user.first_name,
                last_name=user.last_name,
            )
            self._chats[user.id] = chat
        return chat

    def group(
        self,
        id: int,
        title: str,
        *,
        owner: FakeUser | None = None,
        admins: Iterable[FakeUser] = (),
        members: Iterable[FakeUser] = (),
        username: str | None = None,
        supergroup: bool = True,
        bot_is_admin: bool = False,
        forum: bool = False,
    ) -> FakeChat:
        """A group the bot is in; ids of supergroups look like -100…. A `forum` supergroup has
        topics (open them with `open_topic`)."""
        if id in self._chats:
            raise ValueError(f"chat {id} already exists")
        chat = FakeChat(
            id,
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
            bot_is_admin=bot_is_admin,
            is_forum=forum and supergroup,
        )
        statuses: list[tuple[Iterable[FakeUser], MemberStatus]] = [
            ([owner] if owner is not None else [], "creator"),
            (admins, "administrator"),
            (members, "member"),
        ]
        for users, status in statuses:
            for user in users:
                chat.members[self._known_user(user).id] = status
        self._chats[id] = chat
        return chat

    def channel(
        self,
        id: int,
        title: str,
        *,
        username: str | None = None,
        owner: FakeUser | None = None,
        admins: Iterable[FakeUser] = (),
        bot_is_admin: bool = True,
    ) -> FakeChat:
        """A channel: only its administrators (and the bot, when it is one) may post."""
        if id in self._chats:
            raise ValueError(f"chat {id} already exists")
        chat = FakeChat(id, "channel", title=title, username=username, bot_is_admin=bot_is_admin)
        if owner is not None:
            chat.members[self._known_user(owner).id] = "creator"
        for admin in admins:
            chat.members[self._known_user(admin).id] = "administrator"
        self._chats[id] = chat
        return chat

    def open_topic(self, chat: FakeChat, thread_id: int) -> None:
        """A topic opens (or is reopened) in a forum or a private chat in threaded mode."""
        chat = self._known_chat(chat)
        chat.is_forum = True
        chat.topics[thread_id] = "open"

    def close_topic(self, chat: FakeChat, thread_id: int) -> None:
        self._known_chat(chat).topics[thread_id] = "closed"

    def delete_topic(self, chat: FakeChat, thread_id: int) -> None:
        self._known_chat(chat).topics[thread_id] = "deleted"

    def set_member_status(self, chat: FakeChat, user: FakeUser, status: MemberStatus) -> None:
        self._known_chat(chat).members[self._known_user(user).id] = status

    def block(self, chat: FakeChat) -> None:
        """The user blocks the bot (private chat) or the bot is removed from the group."""
        self._known_chat(chat).bot_blocked = True

    def unblock(self, chat: FakeChat) -> None:
        self._known_chat(chat).bot_blocked = False

    # -- acting as users ------------------------------------------------------------------------

    async def send_text(
        self,
        chat: FakeChat,
        user: FakeUser,
        text: str,
        *,
        reply_to: FakeMessage | None = None,
        thread: int | None = None,
    ) -> FakeMessage:
        """``user`` writes ``text`` in ``chat`` (in topic ``thread`` of a forum, or the topic
        of ``reply_to``); commands, mentions and URLs get entities."""
        message = self._user_message(chat, user, reply_to)
        message.thread_id = self._user_thread(chat, thread, reply_to)
        message.text = text
        message.entities = detect_entities(text)
        return self._deliver_user_message(message)

    async def send_location(
        self,
        chat: FakeChat,
        user: FakeUser,
        *,
        latitude: float,
        longitude: float,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        message = self._user_message(chat, user, reply_to)
        message.location = (latitude, longitude)
        return self._deliver_user_message(message)

    async def send_file(
        self,
        chat: FakeChat,
        user: FakeUser,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        reply_to: FakeMessage | None = None,
        mime_type: str | None = None,
        file_name: str | None = None,
        duration: int | None = None,
        file_size: int | None = None,
        width: int = 800,
        height: int = 600,
    ) -> FakeMessage:
        """``user`` sends a file: ``kind`` is "voice", "audio", "video_note", "document" or
        "photo"; ``file_size`` overrides what the message claims (the bytes served stay
        ``data``)."""
        message = self._user_message(chat, user, reply_to)
        number = next(self._file_ids)
        file_id = f"file-{number:06d}-{kind}"
        extension = {"voice": "oga", "audio": "mp3", "video_note": "mp4", "photo": "jpg"}
        path = f"{kind}s/file_{number}.{extension.get(kind, 'bin')}"
        if file_name is not None:
            path = f"documents/{file_name}"
        self._files[file_id] = (data, path)
        described: JSONObject = {
            "file_id": file_id,
            "file_unique_id": f"unique-{number}",
            "file_size": len(data) if file_size is None else file_size,
        }
        if kind in {"voice", "audio", "video_note"}:
            described["duration"] = 3 if duration is None else duration
        if kind == "video_note":
            described["length"] = width
        if mime_type is not None and kind != "video_note":
            described["mime_type"] = mime_type
        if file_name is not None:
            described["file_name"] = file_name
        if kind == "photo":
            message.upload = (kind, [described | {"width": width, "height": height}])
        else:
            message.upload = (kind, described)
        if caption is not None:
            message.text = caption
            message.entities = detect_entities(caption)
        return self._deliver_user_message(message)

    async def press(
        self, chat: FakeChat, user: FakeUser, message: FakeMessage, label: str
    ) -> FakeCallbackQuery:
        """``user`` taps the inline button of ``message`` whose label is or contains ``label``."""
        button = self._find_button(message, label)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} of {message!r} sends no callback data")
        return await self.press_data(chat, user, message, button.callback_data)

    async def press_data(
        self, chat: FakeChat, user: FakeUser, message: FakeMessage, data: str
    ) -> FakeCallbackQuery:
        """A callback query with any data, as a forged or outdated client would send it."""
        self._known_chat(chat)
        self._known_user(user)
        if message.chat is not chat or message.deleted:
            raise AssertionError(f"{message!r} is not a current message of chat {chat.id}")
        if chat.bot_blocked:
            raise ValueError(f"chat {chat.id} has blocked the bot; call unblock(chat) first")
        query = FakeCallbackQuery(
            str(4_000_000_000_000_000_000 + next(self._query_ids)), user, chat, message, data
        )
        self._queries[query.id] = query
        body: JSONObject = {
            "id": query.id,
            "from": user.to_json(),
            "message": message.to_json(),
            "chat_instance": str(-(abs(chat.id) * 2_654_435_761 % 2**62)),
            "data": data,
        }
        self._user_acted(chat)
        query.update_id = self._queue_update("callback_query", body)
        return query

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        text_contains: str | None = None,
        html: bool = False,
    ) -> None:
        """The next `times` calls of `method` (only those whose `text` contains
        `text_contains`, if given) get this error answer instead of their result, as
        Telegram's 5xx, 429 and 403 answers arrive (the call still counts in `calls`). With
        `html`, the answer is the HTML page Telegram's front servers send for a 502 or 504
        (its title made of the code and `description`), not the Bot API's JSON."""
        error = ApiError(error_code, description, retry_after=retry_after)
        fault = _Fault(error, text_contains, html=html)
        self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def delay_next(self, method: str, seconds: float) -> None:
        """The next call of `method` is answered (as usual) only `seconds` later: a slow upload,
        during which a test can shut the bot down."""
        self._delays[method.lower()] = seconds

    def hang_up_next(
        self, method: str, *, times: int = 1, after: float = 0.0, text_contains: str | None = None
    ) -> None:
        """The next `times` calls of `method` (as in `fail_next`) get no answer at all: the
        connection is closed (`after` seconds later, to outlast a client's read timeout)."""
        fault = _Fault(None, text_contains, delay=after)
        self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def inject_update(self, update: Mapping[str, Any]) -> int:
        """Queue any update body (``{"my_chat_member": {...}}``); returns its update_id."""
        if len(update) != 1:
            raise ValueError("an update has exactly one field besides update_id")
        ((kind, body),) = update.items()
        return self._queue_update(kind, dict(body))

    # -- observing the bot ----------------------------------------------------------------------

    def messages(self, chat: FakeChat, *, include_users: bool = False) -> list[FakeMessage]:
        """Messages in ``chat`` in order, as they are now; the bot's only unless asked."""
        return [
            message
            for message in self._known_chat(chat).history
            if not message.deleted and (include_users or message.sender.id == self.bot.id)
        ]

    def chat_actions(self, chat: FakeChat) -> list[str]:
        return list(self._known_chat(chat).actions)

    @property
    def commands(self) -> list[tuple[str, str]]:
        """The command menu for the default scope and all languages."""
        return list(self._commands.get((_DEFAULT_SCOPE, ""), []))

    def commands_for(
        self, scope: Mapping[str, Any], language_code: str = ""
    ) -> list[tuple[str, str]]:
        return list(self._commands.get((_scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> int:
        """Updates queued for the bot and not yet confirmed (getUpdates offset or webhook 2xx)."""
        return len(self._pending)

    def calls_to(self, method: str) -> list[dict[str, object]]:
        return [call.params for call in self.calls if call.method.lower() == method.lower()]

    def checkpoint(self) -> int:
        """A mark for ``wait_for_message(since=...)``: only later sends and edits match."""
        return self._events

    async def wait_for_message(
        self,
        chat: FakeChat,
        predicate: MessagePredicate | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the test's wait
        since: int | None = None,
    ) -> FakeMessage:
        """The first bot message (new or edited) in ``chat`` matching ``predicate``.

        Only sends and edits after the latest user action in the chat count (or after
        ``since``, a :meth:`checkpoint`), so a reply is never mistaken for an older one.
        """
        threshold = self._known_chat(chat).last_user_action if since is None else since

        def matching() -> FakeMessage | None:
            found = [
                message
                for message in self.messages(chat)
                if message.last_event > threshold and (predicate is None or predicate(message))
            ]
            return min(found, key=lambda message: message.last_event, default=None)

        found = await self._wait_until(matching, timeout)
        if found is None:
            shown = "\n  ".join(repr(message) for message in self.messages(chat)) or "none"
            errors = "\n  ".join(str(error) for error in self.errors) or "none"
            raise AssertionError(
                f"no matching bot message in chat {chat.id} within {timeout} s.\n"
                f"Bot messages:\n  {shown}\nErrors answered:\n  {errors}"
            )
        return found

    async def wait_for_callback_answer(
        self,
        query: FakeCallbackQuery,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the test's wait
    ) -> CallbackAnswer:
        answer = await self._wait_until(lambda: query.answer, timeout)
        if answer is None:
            raise AssertionError(f"callback query {query.data!r} not answered within {timeout} s")
        return answer

    async def wait_for_call(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the test's wait
    ) -> ApiCall:
        """Wait until the bot has called ``method`` ``count`` times; returns the latest call."""

        def latest() -> ApiCall | None:
            calls = [call for call in self.calls if call.method.lower() == method.lower()]
            return calls[-1] if len(calls) >= count else None

        call = await self._wait_until(latest, timeout)
        if call is None:
            raise AssertionError(f"{method} was not called {count} time(s) within {timeout} s")
        return call

    async def post_update_to_webhook(
        self, url: str, update: Mapping[str, Any], *, secret_token: str | None = None
    ) -> int:
        """POST an update to a webhook the way Telegram does; returns the HTTP status."""
        status, _ = await self._post_update(url, update, secret_token)
        return status

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error_response(method, ApiError(401, "Unauthorized"))
        try:
            params = await read_params(request)
        except ApiError as error:
            return self._error_response(method, error)
        self.calls.append(ApiCall(method, dict(params.values)))
        self._notify()
        faults = self._faults.get(method.lower(), [])
        text = params.text("text") or ""
        for index, fault in enumerate(faults):
            if fault.text_contains is None or fault.text_contains in text:
                del faults[index]
                return await self._fault_response(request, method, fault)
        delay = self._delays.pop(method.lower(), 0.0)
        if delay:
            await asyncio.sleep(delay)
        implementation = self._methods.get(method.lower())
        if implementation is None:
            return self._error_response(method, ApiError(404, "Not Found"))
        try:
            result = await implementation(params)
        except ApiError as error:
            if request.transport is None or request.transport.is_closing():
                raise web.HTTPServiceUnavailable from None  # nobody is listening any more
            return self._error_response(method, error)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        """A file by the path getFile gave, as Telegram serves them under /file/bot<token>/."""
        if request.match_info["token"] != self.token:
            return web.Response(status=401, text="Unauthorized")
        path = request.match_info["path"]
        self.file_downloads.append(path)
        for data, file_path in self._files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    async def _fault_response(
        self, request: web.Request, method: str, fault: _Fault
    ) -> web.Response:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.error is None:
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable  # nobody will read it: the connection is gone
        if not fault.html:
            return self._error_response(method, fault.error)
        self.errors.append(ApiErrorAnswer(method, fault.error.error_code, fault.error.description))
        self._notify()
        title = f"{fault.error.error_code} {fault.error.description}"
        return web.Response(
            text=HTML_ERROR_PAGE.format(status=title),
            status=fault.error.error_code,
            content_type="text/html",
        )

    def _error_response(self, method: str, error: ApiError) -> web.Response:
        if error.error_code == 429:
            self.rate_limited_count += 1
        self.errors.append(ApiErrorAnswer(method, error.error_code, error.description))
        self._notify()
        return web.json_response(error.to_json(), status=error.error_code)

    # -- Bot API: updates -----------------------------------------------------------------------

    async def _get_me(self, params: Params) -> JSONObject:
        return self.bot.to_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: Params) -> list[JSONObject]:
        self._check_polling_allowed()
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        if allowed is not None:
            self._allowed_updates = _allowed_update_kinds(allowed)
        self._poll_generation += 1
        generation = self._poll_generation
        if offset is not None:
            self._confirm_updates(offset)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._drop_unwanted_updates(self._allowed_updates)
            if self._pending or self._closing or loop.time() >= deadline:
                return [update.payload for update in self._pending[:limit]]
            await self._wait_for_change(deadline - loop.time())
            if generation != self._poll_generation:
                raise ApiError(409, POLLING_TERMINATED)
            self._check_polling_allowed()

    def _check_polling_allowed(self) -> None:
        if self.webhook is not None:
            raise ApiError(409, POLLING_WHILE_WEBHOOK)

    def _confirm_updates(self, offset: int) -> None:
        before = len(self._pending)
        if offset < 0:
            self._pending = self._pending[offset:]
        elif offset > 0:
            self._pending = [update for update in self._pending if update.update_id >= offset]
        if len(self._pending) != before:
            self._notify()

    def _drop_unwanted_updates(self, allowed: Iterable[str] | None) -> None:
        wanted = None if allowed is None else frozenset(allowed)
        self._pending = [
            update
            for update in self._pending
            if (update.kind in wanted if wanted is not None else update.kind not in OPT_IN_UPDATES)
        ]

    async def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            return await self._delete_webhook(params)
        if not url.startswith(("https://", "http://")):
            # Telegram demands HTTPS; plain HTTP is allowed here so tests can listen locally.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.text("secret_token")
        if secret is not None and len(secret) > 256:
            raise bad_request("secret token is too long")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_\-]+", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.json("allowed_updates", "can't parse allowed updates JSON object")
        kinds = None if allowed is None else _allowed_update_kinds(allowed)
        drop = params.boolean("drop_pending_updates")
        if drop:
            self._pending.clear()
        self.webhook = WebhookConfig(
            url=url,
            secret_token=secret,
            allowed_updates=None if kinds is None else tuple(sorted(kinds)),
            drop_pending_updates=drop,
            max_connections=params.integer("max_connections") or 40,
            ip_address=params.text("ip_address"),
        )
        self._notify()  # a waiting getUpdates now answers 409
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(self._deliver_to_webhook())
        return True

    async def _delete_webhook(self, params: Params) -> bool:
        if params.boolean("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        await self._stop_delivery()
        return True

    async def _get_webhook_info(self, params: Params) -> JSONObject:
        info: JSONObject = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        webhook = self.webhook
        if webhook is None:
            return info
        info.update(url=webhook.url, max_connections=webhook.max_connections)
        optional = {
            "ip_address": webhook.ip_address,
            "allowed_updates": None
            if webhook.allowed_updates is None
            else list(webhook.allowed_updates),
            "last_error_date": webhook.last_error_date,
            "last_error_message": webhook.last_error_message,
        }
        info.update({key: value for key, value in optional.items() if value is not None})
        return info

    async def _close(self, params: Params) -> bool:
        self.closed = True
        return True

    async def _log_out(self, params: Params) -> bool:
        self.logged_out = True
        return True

    # -- Bot API: messages ----------------------------------------------------------------------

    async def _send_message(self, params: Params) -> JSONObject:
        # Telegram parses the text before it looks at the chat.
        formatted = self._formatted_text(params)
        chat = self._chat_param(params)
        markup = self._markup_param(params)
        reply_to = self._reply_param(params, chat)
        self._check_can_write(chat)
        thread_id = self._thread_param(params, chat, reply_to)
        self._check_rate(chat)
        message = FakeMessage(
            chat,
            chat.next_message_id(),
            self.bot,
            self._now(),
            text=formatted.text,
            entities=formatted.entities,
            reply_markup=markup,
            reply_to=reply_to,
            thread_id=thread_id,
        )
        chat.history.append(message)
        self._bot_event(message)
        return message.to_json()

    async def _send_document(self, params: Params) -> JSONObject:
        if "document" not in params.files:
            # Only uploads are supported here: the bot sends documents it wrote itself.
            raise bad_request("wrong file identifier/HTTP URL specified")
        name, content = params.files["document"]
        if not content:
            raise bad_request("file must be non-empty")
        media = FakeMedia("document", name, content)
        return self._post_media(params, media, self._caption(params)).to_json()

    async def _send_photo(self, params: Params) -> JSONObject:
        caption = self._caption(params)
        media = FakeMedia("photo", self._photo_url(params.text("photo")))
        return self._post_media(params, media, caption).to_json()

    async def _send_media_group(self, params: Params) -> list[JSONObject]:
        items = params.json("media", "can't parse media JSON object")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise bad_request("can't parse media JSON object")
        if not 2 <= len(items) <= MAX_ALBUM:
            raise bad_request("wrong number of media specified: must be between 2 and 10")
        captions = [self._caption(Params(item)) for item in items]
        if any(item.get("type") != "photo" for item in items):
            raise bad_request("media group of this kind is not supported here")
        urls = [self._photo_url(item.get("media")) for item in items]  # all or none is sent
        group = str(next(self._media_groups))
        return [
            self._post_media(
                params, FakeMedia("photo", url, media_group_id=group), caption
            ).to_json()
            for url, caption in zip(urls, captions, strict=True)
        ]

    def _caption(self, params: Params) -> FormattedText:
        if not params.text("caption"):
            return FormattedText("")
        caption = self._formatted_text(params, field="caption")
        if utf16_length(caption.text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return caption

    def _photo_url(self, raw: object) -> str:
        if not isinstance(raw, str) or not re.match(r"https?://[^\s/]+\.[^\s]+$", raw):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if raw in self.unreachable_urls:
            raise bad_request("failed to get HTTP URL content")
        return raw

    def _post_media(self, params: Params, media: FakeMedia, caption: FormattedText) -> FakeMessage:
        chat = self._chat_param(params)
        markup = self._markup_param(params)
        reply_to = self._reply_param(params, chat)
        self._check_can_write(chat)
        self._check_rate(chat)
        message = FakeMessage(
            chat,
            chat.next_message_id(),
            self.bot,
            self._now(),
            text=caption.text,
            entities=caption.entities,
            reply_markup=markup,
            reply_to=reply_to,
            media=media,
        )
        chat.history.append(message)
        self._bot_event(message)
        return message

    async def _edit_message_text(self, params: Params) -> JSONObject:
        self._refuse_inline_message(params)
        formatted = self._formatted_text(params)
        chat = self._chat_param(params)
        message = self._message_to_edit(chat, params)
        if message.location is not None:
            raise bad_request("there is no text in the message to edit")
        # Without reply_markup an edit removes the inline keyboard, as on Telegram.
        markup = self._inline_markup_param(params)
        if (message.text, message.entities, message.inline_keyboard) == (
            formatted.text,
            formatted.entities,
            markup,
        ):
            raise bad_request(NOT_MODIFIED)
        self._check_can_write(chat)
        self._check_rate(chat)
        message.text, message.entities, message.reply_markup = (
            formatted.text,
            formatted.entities,
            markup,
        )
        self._edited(message)
        return message.to_json()

    async def _edit_message_reply_markup(self, params: Params) -> JSONObject:
        self._refuse_inline_message(params)
        chat = self._chat_param(params)
        message = self._message_to_edit(chat, params)
        markup = self._inline_markup_param(params)
        if message.inline_keyboard == markup:
            raise bad_request(NOT_MODIFIED)
        self._check_can_write(chat)
        self._check_rate(chat)
        message.reply_markup = markup
        self._edited(message)
        return message.to_json()

    async def _delete_message(self, params: Params) -> bool:
        chat = self._chat_param(params)
        message_id = params.integer("message_id")
        message = None if message_id is None else chat.message(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        if message.sender.id != self.bot.id and chat.is_group and not chat.bot_is_admin:
            raise bad_request("message can't be deleted")
        message.deleted = True
        self._notify()
        return True

    async def _answer_callback_query(self, params: Params) -> bool:
        text = params.text("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        query = self._queries.get(params.text("callback_query_id") or "")
        if query is None or query.answer is not None:
            raise bad_request(QUERY_TOO_OLD)
        query.answer = CallbackAnswer(
            query.id, text or None, params.boolean("show_alert"), params.text("url")
        )
        self.callback_answers.append(query.answer)
        self._notify()
        return True

    async def _send_chat_action(self, params: Params) -> bool:
        action = params.text("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self._chat_param(params)
        self._check_can_write(chat)
        chat.actions.append(action)
        self._notify()
        return True

    # -- Bot API: commands and chats ------------------------------------------------------------

    async def _set_my_commands(self, params: Params) -> bool:
        raw = params.json("commands", "can't parse commands JSON object")
        if not isinstance(raw, list):
            raise bad_request("can't parse commands JSON object")
        if len(raw) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        commands: list[tuple[str, str]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand JSON object")
            command, description = item.get("command"), item.get("description")
            if not isinstance(command, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", command):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            commands.append((command, description))
        self._commands[self._commands_key(params)] = commands
        return True

    async def _set_chat_menu_button(self, params: Params) -> bool:
        raw = params.json("menu_button", "can't parse menu button JSON object")
        button: JSONObject = {"type": "default"} if raw is None else raw  # type: ignore[assignment]
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse menu button JSON object")
        if button["type"] == "web_app":
            web_app = button.get("web_app")
            url = web_app.get("url") if isinstance(web_app, dict) else None
            if not isinstance(button.get("text"), str) or not button["text"].strip():
                raise bad_request("BUTTON_TEXT_INVALID")
            if not isinstance(url, str) or not url.startswith("https://"):
                raise bad_request("BUTTON_URL_INVALID")
        self.menu_buttons[params.integer("chat_id")] = button
        return True

    async def _get_chat_menu_button(self, params: Params) -> JSONObject:
        return self.menu_buttons.get(params.integer("chat_id"), {"type": "default"})

    async def _get_my_commands(self, params: Params) -> list[JSONObject]:
        return [
            {"command": command, "description": description}
            for command, description in self._commands.get(self._commands_key(params), [])
        ]

    async def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        scope = params.json("scope", "can't parse BotCommandScope JSON object")
        if scope is not None and not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        return _scope_key(scope), params.text("language_code") or ""

    async def _get_chat(self, params: Params) -> JSONObject:
        chat = self._chat_param(params)
        return chat.to_json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_file(self, params: Params) -> JSONObject:
        file_id = params.text("file_id") or ""
        found = self._files.get(file_id)
        if found is None:
            raise bad_request("invalid file_id")
        data, path = found
        if len(data) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"unique-{file_id}",
            "file_size": len(data),
            "file_path": path,
        }

    async def _get_chat_member(self, params: Params) -> JSONObject:
        chat = self._chat_param(params)
        user_id = params.integer("user_id")
        user = self.bot if user_id == self.bot.id else self._users.get(user_id or 0)
        if user is None:
            raise bad_request("user not found")
        return _member_json(self._member_status(chat, user), user)

    async def _get_chat_administrators(self, params: Params) -> list[JSONObject]:
        chat = self._chat_param(params)
        if not chat.is_group:
            raise bad_request("there are no administrators in the private chat")
        admins = [
            _member_json(status, self._users[user_id])
            for user_id, status in chat.members.items()
            if status in {"creator", "administrator"}
        ]
        if chat.bot_is_admin and not chat.bot_blocked:
            admins.append(_member_json("administrator", self.bot))
        return admins

    def _member_status(self, chat: FakeChat, user: FakeUser) -> MemberStatus:
        if user.id == self.bot.id:
            if chat.bot_blocked:
                return "kicked"
            return "administrator" if chat.bot_is_admin else "member"
        if chat.type == "private":
            return "member" if user.id == chat.id else "left"
        return chat.members.get(user.id, "left")

    # -- parameters -----------------------------------------------------------------------------

    def _formatted_text(self, params: Params, *, field: str = "text") -> FormattedText:
        text = params.text(field)
        if not text:
            raise bad_request("message text is empty")
        parse_mode = (params.text("parse_mode") or "").lower()
        entities_field = "entities" if field == "text" else f"{field}_entities"
        raw_entities = params.json(entities_field, "can't parse entities JSON object")
        try:
            if raw_entities is not None:
                parsed = FormattedText(text, explicit_entities(raw_entities, text))
            elif not parse_mode:
                parsed = FormattedText(text)
            elif parse_mode == "html":
                parsed = parse_html(text, strict_ampersand=self.strict_html_ampersand)
            elif parse_mode == "markdownv2":
                parsed = parse_markdown_v2(text)
            elif parse_mode == "markdown":
                parsed = parse_markdown(text)
            else:
                raise bad_request("unsupported parse_mode")
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        formatted = finalize_text(parsed.text, parsed.entities)
        if formatted is None:
            raise bad_request("message text is empty")
        if utf16_length(formatted.text) > MAX_MESSAGE_LENGTH:
            raise bad_request("message is too long")
        return formatted

    def _chat_param(self, params: Params) -> FakeChat:
        raw = params.text("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        found: FakeChat | None = None
        if raw.startswith("@"):
            found = next(
                (
                    chat
                    for chat in self._chats.values()
                    if chat.username is not None and chat.username.lower() == raw[1:].lower()
                ),
                None,
            )
        elif raw.lstrip("-").isdigit():
            found = self._chats.get(int(raw))
        if found is None:
            raise bad_request("chat not found")
        return found

    def _markup_param(self, params: Params) -> JSONObject | None:
        raw = params.json("reply_markup", _MARKUP_UNPARSABLE)
        return None if raw is None else validate_reply_markup(raw)

    def _inline_markup_param(self, params: Params) -> JSONObject | None:
        markup = self._markup_param(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request(_MARKUP_UNPARSABLE)
        return markup

    def _reply_param(self, params: Params, chat: FakeChat) -> FakeMessage | None:
        raw = params.json("reply_parameters", "can't parse reply parameters JSON object")
        if raw is None:
            message_id = params.integer("reply_to_message_id")
            allow_without = params.boolean("allow_sending_without_reply")
            target_chat = chat
            if message_id is None:
                return None
        else:
            if not isinstance(raw, dict) or not isinstance(raw.get("message_id"), int):
                raise bad_request("can't parse reply parameters JSON object")
            message_id = raw["message_id"]
            allow_without = bool(raw.get("allow_sending_without_reply"))
            target_chat = (
                chat
                if raw.get("chat_id") is None
                else self._chat_param(Params({"chat_id": raw["chat_id"]}))
            )
        target = target_chat.message(message_id)
        if target is None and not allow_without:
            raise bad_request("message to be replied not found")
        return target

    def _thread_param(
        self, params: Params, chat: FakeChat, reply_to: FakeMessage | None
    ) -> int | None:
        """The topic a message goes to, refused as Telegram refuses it when the topic is
        closed or gone; a reply without one lands in the topic of the message it answers."""
        thread_id = params.integer("message_thread_id")
        if thread_id is None:
            return reply_to.thread_id if reply_to is not None else None
        state = chat.topics.get(thread_id) if chat.is_forum else None
        if state is None or state == "deleted":
            raise bad_request("message thread not found")
        if state == "closed":
            raise bad_request("TOPIC_CLOSED")
        return thread_id

    def _user_thread(
        self, chat: FakeChat, thread: int | None, reply_to: FakeMessage | None
    ) -> int | None:
        if thread is None:
            return reply_to.thread_id if reply_to is not None else None
        if chat.topics.get(thread) != "open":
            raise ValueError(f"topic {thread} of chat {chat.id} is not open; open_topic() first")
        return thread

    def _refuse_inline_message(self, params: Params) -> None:
        if params.text("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")

    def _message_to_edit(self, chat: FakeChat, params: Params) -> FakeMessage:
        message_id = params.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.message(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message.sender.id != self.bot.id:
            raise bad_request("message can't be edited")
        return message

    def _check_can_write(self, chat: FakeChat) -> None:
        if chat.type == "channel" and not chat.bot_blocked and not chat.bot_is_admin:
            raise bad_request("need administrator rights in the channel chat")
        if not chat.bot_blocked:
            return
        if chat.type == "private":
            raise forbidden("bot was blocked by the user")
        raise forbidden(f"bot was kicked from the {chat.type} chat")

    def _check_rate(self, chat: FakeChat) -> None:
        retry_after = self._limiter.acquire(chat.id, is_group=chat.is_group)
        if retry_after is not None:
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )

    # -- state helpers --------------------------------------------------------------------------

    def _now(self) -> int:
        return int(self._clock())

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls, webhook delivery, test waits)."""
        self._change.set()
        self._change = asyncio.Event()

    async def _wait_for_change(self, within: float | None) -> None:
        change = self._change
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(change.wait(), within)

    async def _wait_until(self, probe: Callable[[], _T | None], within: float) -> _T | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (found := probe()) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await self._wait_for_change(remaining)
        return found

    def _bot_event(self, message: FakeMessage) -> None:
        self._events += 1
        message.last_event = self._events
        self._notify()

    def _edited(self, message: FakeMessage) -> None:
        message.edits += 1
        message.edit_date = self._now()
        self._bot_event(message)

    def _user_acted(self, chat: FakeChat) -> None:
        self._events += 1
        chat.last_user_action = self._events

    def _known_user(self, user: FakeUser) -> FakeUser:
        if self._users.get(user.id) != user:
            raise ValueError(f"unknown user {user!r}; create it with fake.user(...)")
        return user

    def _known_chat(self, chat: FakeChat) -> FakeChat:
        if self._chats.get(chat.id) is not chat:
            raise ValueError(f"unknown chat {chat!r}; create it with private_chat() or group()")
        return chat

    def _user_message(
        self, chat: FakeChat, user: FakeUser, reply_to: FakeMessage | None
    ) -> FakeMessage:
        self._known_chat(chat)
        self._known_user(user)
        if chat.type == "private" and user.id != chat.id:
            raise ValueError(f"{user!r} is not the user of private chat {chat.id}")
        if chat.type == "channel":
            raise ValueError(f"chat {chat.id} is a channel; people do not write to the bot there")
        if chat.bot_blocked:
            raise ValueError(f"chat {chat.id} has blocked the bot; call unblock(chat) first")
        if reply_to is not None and (reply_to.chat is not chat or reply_to.deleted):
            raise ValueError(f"{reply_to!r} is not a current message of chat {chat.id}")
        if chat.is_group and chat.members.get(user.id, "left") in {"left", "kicked"}:
            chat.members[user.id] = "member"
        return FakeMessage(chat, chat.next_message_id(), user, self._now(), reply_to=reply_to)

    def _deliver_user_message(self, message: FakeMessage) -> FakeMessage:
        message.chat.history.append(message)
        self._user_acted(message.chat)
        if self._bot_sees(message):
            message.update_id = self._queue_update("message", message.to_json())
        return message

    def _bot_sees(self, message: FakeMessage) -> bool:
        """Privacy mode: in groups only commands, mentions and replies to the bot arrive."""
        chat = message.chat
        if not chat.is_group or not self.privacy_mode or chat.bot_is_admin:
            return True
        if message.reply_to is not None and message.reply_to.sender.id == self.bot.id:
            return True
        username = (self.bot.username or "").lower()
        if message.text.startswith("/"):
            addressee = message.text.split(maxsplit=1)[0].partition("@")[2].lower()
            return addressee in {"", username}
        return f"@{username}" in message.text.lower()

    def _queue_update(self, kind: str, body: JSONObject) -> int:
        update_id = next(self._update_ids)
        self._pending.append(_PendingUpdate(update_id, kind, {"update_id": update_id, kind: body}))
        self._notify()
        return update_id

    def _find_button(self, message: FakeMessage, label: str) -> FakeButton:
        buttons = message.buttons
        for candidates in (
            [button for button in buttons if _button_word(button.text) == label],
            [button for button in buttons if label in button.text],
        ):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                raise AssertionError(f"{label!r} matches several buttons of {message!r}")
        raise AssertionError(f"no button {label!r} on {message!r}")

    # -- webhook delivery -----------------------------------------------------------------------

    async def _deliver_to_webhook(self) -> None:
        """Post pending updates to the webhook one at a time, retrying until it answers 2xx."""
        while not self._closing and (webhook := self.webhook) is not None:
            self._drop_unwanted_updates(webhook.allowed_updates)
            if not self._pending:
                await self._wait_for_change(None)
                continue
            update = self._pending[0]
            status, problem = await self._post_update(
                webhook.url, update.payload, webhook.secret_token
            )
            if 200 <= status < 300:
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                self._notify()
            else:
                webhook.last_error_date = self._now()
                webhook.last_error_message = problem
                await asyncio.sleep(self.webhook_retry_delay)

    async def _stop_delivery(self) -> None:
        task, self._delivery = self._delivery, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _post_update(
        self, url: str, update: Mapping[str, Any], secret_token: str | None
    ) -> tuple[int, str]:
        if self._session is None:
            raise RuntimeError("the fake Telegram server is not started")
        headers = {"Content-Type": "application/json"}
        if secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        try:
            async with self._session.post(url, data=json.dumps(update), headers=headers) as answer:
                await answer.read()
                return (
                    answer.status,
                    f"Wrong response from the webhook: {answer.status} {answer.reason}",
                )
        except (ClientError, OSError, TimeoutError) as error:
            return 0, f"Connection failed: {error}"


_DEFAULT_SCOPE = json.dumps({"type": "default"})


def _scope_key(scope: object) -> str:
    return _DEFAULT_SCOPE if scope is None else json.dumps(scope, sort_keys=True)


def _allowed_update_kinds(raw: object) -> frozenset[str] | None:
    if not isinstance(raw, list) or not all(isinstance(kind, str) for kind in raw):
        raise bad_request("can't parse allowed updates JSON object")
    return frozenset(raw) or None
