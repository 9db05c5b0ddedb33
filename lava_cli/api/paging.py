"""Walking a cursor-paged list that may be long: the wallet's request history."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from lava_cli.api.usage_types import RequestRecord

if TYPE_CHECKING:
    from datetime import datetime

    from lava_cli.api.types import Page


class RequestWalk(Iterator[RequestRecord]):
    """Requests from `since` on, newest first, one page at a time as they are consumed.

    The API lists newest first, so the walk ends at the first page that reaches back
    past `since`. It is linear in traffic: after LAVA_MAX_PAGES pages it stops early and
    sets `capped`, so a caller can say its sums cover the newest requests only, and a
    server that always says has_more cannot keep it (or its memory) growing. A cursor
    seen twice ends it too. `capped` is final once the walk is exhausted.
    """

    def __init__(self, fetch: Callable[[str | None], Page], since: datetime, pages: int) -> None:
        self.capped = False
        self._records = self._walk(fetch, since, pages)

    def __next__(self) -> RequestRecord:
        return next(self._records)

    def _walk(
        self, fetch: Callable[[str | None], Page], since: datetime, pages: int
    ) -> Iterator[RequestRecord]:
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(pages):
            page = fetch(cursor)
            older = False
            for item in page.data:
                record = RequestRecord.from_json(item)
                if record.created_at is not None and record.created_at < since:
                    older = True
                    continue
                yield record
            if older or not page.has_more or page.next_cursor in seen:
                return
            cursor = page.next_cursor
            seen.add(cursor or "")
        self.capped = True
