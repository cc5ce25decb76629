"""Request bodies: how large each route's may be, and JSON read within limits.

Size. Every route that takes a body declares the largest it accepts beside itself, with
Starlette's and FastAPI's `max_body_size` (the API in web.api, Telegram's webhook in
web.webhook); anything else accepts none (web.app). Starlette's RequestBodyLimitMiddleware then
answers 413 to a Content-Length over the limit before a byte is read (in plain text, "Content
Too Large", whatever the route would have said), and stops reading a chunked body at the limit
(413 in the route's own words); uvicorn reads no further than the application asks (it pauses
the socket once 64 KB wait unread), so a 64 MB body costs the process no more than the limit.

Shape. What fits the size is parsed by the standard library's `json` (the parser Starlette and
FastAPI use), with its `object_pairs_hook` counting keys as objects are read, so parsing stops
at the first key too many, and the depth measured afterwards (the C parser gives up with a
RecursionError at about a thousand levels, which is answered the same way). Keys are what make
a small body expensive: a 5 MB body of 400,000 keys became 400,000 "extra field" errors in
pydantic, half a gigabyte. A streaming parser (ijson) would stop earlier still, but the size
limit already bounds the work to a few hundred kilobytes, so it would buy nothing here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class JsonTooComplexError(ValueError):
    """The JSON has more keys, or nests deeper, than the route accepts."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"the JSON body has {what} (at most {limit})")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class JsonLimits:
    max_keys: int
    max_depth: int

    def parse(self, body: bytes) -> Any:
        """The JSON value of `body`; json.JSONDecodeError (a ValueError) when it is not JSON,
        JsonTooComplexError when it is past these limits."""
        keys = 0

        def count(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            nonlocal keys
            keys += len(pairs)
            if keys > self.max_keys:
                raise JsonTooComplexError("too many keys", self.max_keys)
            return dict(pairs)

        try:
            value = json.loads(body, object_pairs_hook=count)
        except RecursionError:
            raise JsonTooComplexError("too many levels", self.max_depth) from None
        if _depth(value) > self.max_depth:
            raise JsonTooComplexError("too many levels", self.max_depth)
        return value


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest
