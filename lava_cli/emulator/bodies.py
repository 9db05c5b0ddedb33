"""Request bodies: one size cap for every route, and JSON the rest of the emulator can
trust.

Why here, once: a body is the only input a client can make arbitrarily large or
strange. Reading it with Starlette's ``request.body()`` keeps all of it in memory (a
300 MB POST grew the emulator by ~600 MB), and ``json.loads`` accepts what SQLite and
UTF-8 cannot hold (lone surrogates such as ``"\\ud800"``) or what blows the stack
(``[[[[…]]]]``). Every route that reads a body calls `read_body` and, for JSON,
`parse_json`; a test holds that no other code reads a body.

Rules (the emulator's decisions, documented in the README):

- `MAX_BODY_BYTES` (8 MiB) per request body: a larger ``Content-Length`` is refused
  before a byte of the body is read; a chunked body is refused as soon as it passes
  the cap. The caller answers 413. What the client still sends is discarded by the
  HTTP server as it arrives, never kept, so a client that writes its whole body
  before reading the answer still gets the 413.
- JSON must be UTF-8, at most `MAX_JSON_DEPTH` (64) arrays/objects deep, and hold no
  lone surrogate in any string or key. Anything else is a 400.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_JSON_DEPTH = 64
_TOO_DEEP = f"the request body is nested more than {MAX_JSON_DEPTH} levels deep"


class BodyTooLarge(Exception):
    """The body is over the cap (HTTP 413); the message says what the cap is."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than the emulator's limit of {limit:,} bytes")
        self.limit = limit


class InvalidJson(ValueError):
    """The body is not JSON the emulator accepts (HTTP 400); the message says why."""


def declared_length(request: Request) -> int | None:
    """The ``Content-Length`` the client announced (None when absent or unreadable;
    the HTTP server has already refused a malformed one)."""
    text = request.headers.get("content-length")
    if text is None or not text.isascii() or not text.isdigit():
        return None
    return int(text)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or `BodyTooLarge` without ever holding much more than `limit`."""
    announced = declared_length(request)
    if announced is not None and announced > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """`body` as a JSON value, or `InvalidJson` naming the problem."""
    try:
        value = json.loads(body.decode("utf-8"))
    except RecursionError:
        raise InvalidJson(_TOO_DEEP) from None
    except UnicodeDecodeError:
        raise InvalidJson("the request body is not valid UTF-8") from None
    except ValueError as exc:
        raise InvalidJson(f"the request body is not valid JSON ({exc})") from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Refuse nesting deeper than `MAX_JSON_DEPTH` and strings UTF-8 cannot encode.

    Iterative on purpose: a recursive walk of a 900-level value would hit the very
    recursion limit this guards against.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise InvalidJson(_TOO_DEEP)
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end].encode("unicode_escape").decode("ascii")
        raise InvalidJson(
            f"the request body holds a lone UTF-16 surrogate ({bad}) in a string, which is "
            "not valid Unicode"
        ) from None
