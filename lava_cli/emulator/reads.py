"""The read side of the gateway's ledger: ``GET /v1/requests``, ``GET
/v1/requests/{request_id}`` and ``GET /v1/usage``.

All answer for the wallet of the ``Authorization: Bearer`` secret, with the
management API's authentication and error shape (`app.caller_wallet`). They only
read the ``requests`` table the gateway's check-and-charge writes (ledger.py), so
nothing here can change what a key may spend. A record's shape is records.py's.

- ``/v1/requests``: one page of the wallet's requests, newest first; ``cursor`` and
  ``limit`` as for the spend-key list (paging.py).
- ``/v1/requests/{request_id}``: one record; 404 for an unknown id or another
  wallet's, alike.
- ``/v1/usage``: daily UTC totals over ``[start, end)``, every day listed. ``start`` /
  ``end`` are ISO 8601 moments or dates; a bare ``end`` date includes that day.

Filters, on the list and on usage alike (`RequestFilter`), all applied together:
``customer_id``, ``meter_id`` (exact), ``metadata_filters`` (a JSON array of
``[key, value]`` string pairs, every pair must be in the record's metadata; at most
16; anything else is a 400 naming it), and the emulator's own ``spend_key_id``. An
empty value is no filter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from lava_cli.emulator import paging
from lava_cli.emulator.app import ApiError, caller_wallet
from lava_cli.emulator.bodies import InvalidJson, parse_json
from lava_cli.emulator.contract import DEFAULT_PAGE, MAX_METADATA_FILTERS
from lava_cli.emulator.cycles import as_utc, iso_z, parse_iso, stored_time, utc_now
from lava_cli.emulator.money import decimal_text
from lava_cli.emulator.records import request_json
from lava_cli.emulator.store import Store

MAX_USAGE_DAYS = 366

# The moments /v1/usage accepts (an emulator decision): nothing before the Unix epoch,
# and room after the last one for the day arithmetic (a day past `end`, 30 days before
# it), which would otherwise overflow `datetime` near the year 9999 and answer 500.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)


class BadQuery(ValueError):
    """A query parameter of /v1/requests or /v1/usage the API answers with 400."""


def _when(text: str | None, name: str, *, end: bool) -> datetime | None:
    """An ISO 8601 moment; a bare date means its 00:00 UTC (for `end`: the next day's,
    so ``end=2025-01-31`` includes the 31st)."""
    if not text:
        return None
    try:
        if not text.isascii():  # strptime's %Y would read `２０２５` as 2025
            raise ValueError(text)
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            return day + timedelta(days=1) if end else day
        return parse_iso(text)
    except ValueError:
        raise BadQuery(f"{name}: {text!r} is not an ISO 8601 date or time") from None
    except OverflowError:  # the day after 9999-12-31
        raise BadQuery(_out_of_range(name, text)) from None


def _out_of_range(name: str, text: str) -> str:
    return f"{name}: {text!r} is out of range ({EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d})"


def usage_range(
    start_text: str | None, end_text: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """``GET /v1/usage``'s range: end defaults to now, start to 30 days before (00:00)."""
    end = _when(end_text, "end", end=True) or now
    start = _when(start_text, "start", end=False)
    for name, text, moment in (("start", start_text, start), ("end", end_text, end)):
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise BadQuery(_out_of_range(name, text or ""))
    if start is None:
        start = (end - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, end


_METADATA_FILTERS_FORM = (
    'must be a JSON array of [key, value] string pairs, like [["feature","chat"]], '
    f"at most {MAX_METADATA_FILTERS}"
)


@dataclass(frozen=True)
class RequestFilter:
    """Which records a list or a usage report covers (see the module docstring)."""

    spend_key_id: str | None = None
    customer_id: str | None = None
    meter_id: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> RequestFilter:
        """The filters of a query string; BadQuery (400) names a malformed one."""
        return cls(
            spend_key_id=params.get("spend_key_id") or None,
            customer_id=params.get("customer_id") or None,
            meter_id=params.get("meter_id") or None,
            metadata=parse_metadata_filters(params.get("metadata_filters")),
        )

    def sql(self) -> tuple[str, list[str]]:
        """``AND …`` conditions on the ``requests`` table, and their parameters."""
        where, params = "", []
        for column in ("spend_key_id", "customer_id", "meter_id"):
            value = getattr(self, column)
            if value is not None:
                where += f" AND {column} = ?"
                params.append(value)
        for key, value in self.metadata:
            where += (
                " AND EXISTS (SELECT 1 FROM json_each(requests.metadata) AS m"
                " WHERE m.key = ? AND m.value = ?)"
            )
            params += [key, value]
        return where, params


def parse_metadata_filters(text: str | None) -> tuple[tuple[str, str], ...]:
    """``metadata_filters``: a JSON array of ``[key, value]`` string pairs (the SDK
    sends its ``Record<string, string>`` so); empty or absent means none."""
    if not text:
        return ()
    try:
        value = parse_json(text.encode("utf-8", "surrogatepass"))
    except InvalidJson:
        raise BadQuery(f"metadata_filters: {_METADATA_FILTERS_FORM}") from None
    if not isinstance(value, list) or len(value) > MAX_METADATA_FILTERS:
        raise BadQuery(f"metadata_filters: {_METADATA_FILTERS_FORM}")
    pairs = []
    for pair in value:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise BadQuery(f"metadata_filters: {_METADATA_FILTERS_FORM}")
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def list_requests(
    store: Store,
    wallet_id: str,
    *,
    after: paging.Position | None = None,
    limit: int = DEFAULT_PAGE,
    where: RequestFilter | None = None,
) -> dict[str, Any]:
    """One page of the wallet's requests that `where` selects, newest first, after the
    position of a decoded cursor (paging.py)."""
    condition, params = (where or RequestFilter()).sql()
    after_condition, after_params = paging.after(after, "request_id")
    with store.transaction() as db:
        rows = db.execute(
            f"SELECT * FROM requests WHERE wallet_id = ?{condition}{after_condition}"  # noqa: S608 - fixed fragments
            " ORDER BY created_at DESC, request_id DESC LIMIT ?",
            (wallet_id, *params, *after_params, limit + 1),
        ).fetchall()
    page = paging.cut(rows, limit, lambda row: (row["created_at"], row["request_id"]))
    return page.to_json(request_json)


def get_request(store: Store, wallet_id: str, request_id: str) -> dict[str, Any] | None:
    """One of the wallet's records, or None (unknown, or another wallet's)."""
    with store.transaction() as db:
        row = db.execute(
            "SELECT * FROM requests WHERE request_id = ? AND wallet_id = ?",
            (request_id, wallet_id),
        ).fetchone()
    return None if row is None else request_json(row)


def usage(
    store: Store,
    wallet_id: str,
    start: datetime,
    end: datetime,
    where: RequestFilter | None = None,
) -> dict[str, Any]:
    """Daily (UTC) totals over ``[start, end)`` of the records `where` selects, every
    day listed, plus the totals.

    ``total_charge`` equals ``total_cost``: the emulator adds no fee.
    """
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise BadQuery("end: must be after start")
    first_day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if (end - first_day).days > MAX_USAGE_DAYS:
        raise BadQuery(f"the range spans more than {MAX_USAGE_DAYS} days")
    condition, params = (where or RequestFilter()).sql()
    with store.transaction() as db:
        rows = db.execute(
            "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n,"  # noqa: S608 - fixed fragments
            " SUM(input_tokens + output_tokens) AS tokens, SUM(cost_micros) AS micros"
            f" FROM requests WHERE wallet_id = ? AND created_at >= ? AND created_at < ?{condition}"
            " GROUP BY day",
            (wallet_id, stored_time(start), stored_time(end), *params),
        ).fetchall()
    by_day = {row["day"]: (row["n"], row["tokens"], row["micros"]) for row in rows}
    items = []
    day = first_day
    while day < end:
        following = day + timedelta(days=1)
        date = day.strftime("%Y-%m-%d")
        n, tokens, micros = by_day.get(date, (0, 0, 0))
        items.append(
            {"date": date, **_totals(max(day, start), min(following, end), n, tokens, micros)}
        )
        day = following
    days = by_day.values()
    totals = _totals(
        start,
        end,
        sum(n for n, _, _ in days),
        sum(tokens for _, tokens, _ in days),
        sum(micros for _, _, micros in days),
    )
    return {"items": items, "totals": totals}


def _totals(
    start: datetime, end: datetime, requests: int, tokens: int, micros: int
) -> dict[str, Any]:
    """One usage row: a day of the range, or the whole range."""
    return {
        "start": iso_z(start),
        "end": iso_z(end),
        "total_requests": requests,
        "total_usage_tokens": tokens,
        "total_cost": decimal_text(micros),
        "total_charge": decimal_text(micros),
    }


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


class ReadSide:
    """The read routes for the wallet of the Bearer secret.

    Authentication and the error shape are the management API's (`app.caller_wallet`).
    """

    def __init__(self, store: Store, clock: Callable[[], datetime]) -> None:
        self.store, self.clock = store, clock

    async def requests(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        params = request.query_params
        try:
            where = RequestFilter.from_query(params)
        except BadQuery as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        after, limit = paging.from_query(params)
        page = list_requests(self.store, wallet.wallet_id, after=after, limit=limit, where=where)
        return _json(page)

    async def request(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        request_id = request.path_params["request_id"]
        record = get_request(self.store, wallet.wallet_id, request_id)
        if record is None:
            raise ApiError(404, "not_found", f"No such request: {request_id}")
        return _json(record)

    async def usage(self, request: Request) -> Response:
        wallet = caller_wallet(self.store, request)
        params = request.query_params
        try:
            where = RequestFilter.from_query(params)
            start, end = usage_range(params.get("start"), params.get("end"), self.clock())
            body = usage(self.store, wallet.wallet_id, start, end, where)
        except BadQuery as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        return _json(body)


def read_routes(store: Store, clock: Callable[[], datetime] = utc_now) -> list[Route]:
    """The read side's Starlette routes, for `server.ROUTE_PROVIDERS`."""
    read = ReadSide(store, clock)
    return [
        Route("/v1/requests", read.requests, methods=["GET"]),
        Route("/v1/requests/{request_id}", read.request, methods=["GET"]),
        Route("/v1/usage", read.usage, methods=["GET"]),
    ]
