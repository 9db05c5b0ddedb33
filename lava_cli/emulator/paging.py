"""Paging for the list endpoints, ``GET /v1/spend_keys``, ``GET /v1/requests`` and
``GET /v1/secret_keys``: one cursor codec, one ``limit`` rule, one way to cut a page.

Every list is newest first, in ``(created_at DESC, id DESC)`` order. A cursor is the
position of the last row of a page, ``[created_at, id]`` as JSON in unpadded base64url:
rows created or removed meanwhile never shift the next page. Clients treat it as
opaque; the emulator treats what comes back as hostile input (it may decode to deep
JSON, other types, or strings SQLite cannot bind), and every such cursor is a 400
naming ``cursor``, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lava_cli.emulator.contract import DEFAULT_PAGE, MAX_PAGE
from lava_cli.emulator.cycles import parse_stored
from lava_cli.emulator.validation import InvalidField

Position = tuple[str, str]  # (created_at in stored form, row id)
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list answer: its rows and the cursor to the next page (or None)."""

    data: list[T]
    has_more: bool
    next_cursor: str | None

    def to_json(self, render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
        """The list answer every list endpoint gives: ``{data, has_more, next_cursor}``."""
        return {
            "data": [render(row) for row in self.data],
            "has_more": self.has_more,
            "next_cursor": self.next_cursor,
        }


def from_query(params: Mapping[str, str]) -> tuple[Position | None, int]:
    """The ``cursor`` and ``limit`` query parameters (a bad cursor is reported first)."""
    after = decode_cursor(params.get("cursor"))
    return after, page_limit(params.get("limit"))


def page_limit(text: str | None) -> int:
    """The ``limit`` query parameter: absent means `DEFAULT_PAGE`; else 1..`MAX_PAGE`."""
    if text is None or text == "":
        return DEFAULT_PAGE
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidField("limit", f"must be an integer between 1 and {MAX_PAGE}")
    return int(text)


def encode_cursor(position: Position) -> str:
    raw = json.dumps(list(position)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    """Inverse of `encode_cursor` (padding optional); None for no cursor (the first page).

    Raises `InvalidField` for anything this server could not have issued.
    """
    if not cursor:
        return None
    invalid = InvalidField("cursor", "not a cursor from this API")
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise invalid from None
    if not (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(part, str) and part.isascii() for part in value)
    ):
        raise invalid
    created_at, row_id = value
    try:
        parse_stored(created_at)
    except ValueError:
        raise invalid from None
    return created_at, row_id


def after(position: Position | None, id_column: str) -> tuple[str, list[str]]:
    """The SQL condition (``AND …``, empty on the first page) and its parameters that
    continue a ``created_at DESC, <id_column> DESC`` list after `position`."""
    if position is None:
        return "", []
    created_at, row_id = position
    condition = f" AND (created_at < ? OR (created_at = ? AND {id_column} < ?))"
    return condition, [created_at, created_at, row_id]


def cut(rows: Sequence[T], limit: int, position: Callable[[T], Position]) -> Page[T]:
    """The page out of up to ``limit + 1`` rows fetched (one more says there is more)."""
    data = list(rows[:limit])
    has_more = len(rows) > limit
    return Page(data, has_more, encode_cursor(position(data[-1])) if has_more else None)
