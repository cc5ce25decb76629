"""What the fake checks in a request: reply markup and buttons, and the parameters of any body."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.telegram.api import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_INLINE_BUTTONS,
    JSONObject,
    bad_request,
)
from tests.fakes.telegram.entities import link_problem

# ---------------------------------------------------------------------------------------------
# Reply markup
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FakeButton:
    """An inline keyboard button of a message the bot sent."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    # The Mini App a web_app button opens.
    web_app_url: str | None = None


_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
    "web_app",
)
_MARKUP_UNPARSABLE = "can't parse reply keyboard markup JSON object"


def validate_reply_markup(markup: object) -> JSONObject | None:
    """Check reply markup like Telegram; returns it normalised (None for an empty keyboard)."""
    if not isinstance(markup, dict):
        raise bad_request(_MARKUP_UNPARSABLE)
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        if sum(len(row) for row in rows) > MAX_INLINE_BUTTONS:
            raise bad_request("reply markup is too long")
        for row in rows:
            for button in row:
                _validate_inline_button(button)
        rows = [row for row in rows if row]
        return {"inline_keyboard": rows} if rows else None
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str):
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        return markup
    if markup.get("force_reply") is True or markup.get("remove_keyboard") is True:
        return markup
    raise bad_request(_MARKUP_UNPARSABLE)


def _validate_inline_button(button: object) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    if not any(action in button for action in _BUTTON_ACTIONS):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        problem = link_problem(url) if isinstance(url, str) else "Wrong HTTP URL"
        if problem is not None:
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: {problem}")
    if "web_app" in button:
        web_app = button["web_app"]
        url = web_app.get("url") if isinstance(web_app, dict) else None
        if not isinstance(url, str) or not url.startswith("https://"):
            raise bad_request("BUTTON_URL_INVALID")


# ---------------------------------------------------------------------------------------------
# Request parameters: form-encoded, multipart or JSON bodies, plus the query string
# ---------------------------------------------------------------------------------------------


class Params:
    """Parameters of one request; form values arrive as strings, complex ones JSON-encoded."""

    def __init__(
        self, values: Mapping[str, object], files: Mapping[str, tuple[str, bytes]] | None = None
    ) -> None:
        self.values = dict(values)
        # Files uploaded with multipart/form-data, by field: their name and content.
        self.files = dict(files or {})

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return int(value)
        raise bad_request(f"invalid {name} specified")

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return float(value)
        raise bad_request(f"invalid {name} specified")

    def boolean(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.lower() in {"true", "1"}
        return bool(value)

    def json(self, name: str, error: str) -> object:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        if not value:
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(error) from None


async def read_params(request: web.Request) -> Params:
    values: dict[str, object] = dict(request.query)
    files: dict[str, tuple[str, bytes]] = {}
    if not request.body_exists:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON encoded request body")
        values.update(body)
    elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                values[key] = value.filename
                files[key] = (value.filename, value.file.read())
            elif isinstance(value, bytes):
                values[key] = value.decode("utf-8", errors="replace")
            else:
                values[key] = value
    return Params(values, files)
