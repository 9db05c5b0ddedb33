"""The gateway's bookkeeping on the store's connection: check-and-charge, and the
request log and daily usage read back by ``GET /v1/requests`` and ``GET /v1/usage``.

`Ledger.admit` does every key check and the charge inside ONE ``store.transaction()``
(``BEGIN IMMEDIATE`` under the store's lock): two concurrent requests can never both
see room for one more under a limit. Only accepted requests are recorded, so the
store's derived ``current_*``/``total_*``/``last_used_at`` and the wallet balance
move with exactly what was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.emulator.cycles import (
    as_utc,
    cycle_start,
    iso_z,
    next_reset,
    parse_iso,
    parse_stored,
    stored_time,
)
from lava_cli.emulator.limits import (
    Refusal,
    TokenBuckets,
    check_allowed,
    check_key_state,
    check_request_limit,
    check_shape,
    check_spend_limit,
)
from lava_cli.emulator.schema import InvalidCursor, decode_cursor, encode_cursor, to_micros

if TYPE_CHECKING:
    import sqlite3

    from lava_cli.emulator.schema import KeyRow
    from lava_cli.emulator.store import Store

_MICROS = Decimal(1_000_000)
MAX_USAGE_DAYS = 366


@dataclass(frozen=True)
class Charge:
    """What an accepted request costs and how it is recorded."""

    model: str
    provider: str
    endpoint: str
    input_tokens: int
    output_tokens: int
    cost: Decimal


class BadQuery(ValueError):
    """A query parameter of /v1/requests or /v1/usage the API answers with 400."""


def decimal_text(micros: int) -> str:
    """Micro-dollars as a decimal string with 2 to 6 decimals: ``1.50``, ``0.000123``."""
    text = f"{(Decimal(micros) / _MICROS).quantize(Decimal('0.000001')):f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.rstrip('0').ljust(2, '0')}"


# The moments /v1/usage accepts (an emulator decision): nothing before the Unix epoch,
# and room after the last one for the day arithmetic (a day past `end`, 30 days before
# it), which would otherwise overflow `datetime` near the year 9999 and answer 500.
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9999, 1, 1, tzinfo=timezone.utc)


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


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        return decode_cursor(cursor)
    except InvalidCursor:
        raise BadQuery(f"cursor: {cursor!r} is not a cursor this server issued") from None


@dataclass
class _Usage:
    """A key's usage in its current cycles, for the cycle starts it was computed for."""

    request_from: str
    spend_from: str
    requests: int
    micros: int


class _UsageCache:
    """Running per-key usage, so check-and-charge costs the same at the 100,000th
    request as at the first.

    The store derives usage with a SUM over the key's requests, which grows with every
    request (about 1 ms per 3,000 rows). The cache starts from that SUM and then adds
    each charge it records. It is trusted only while the requests table's highest rowid
    is the one this ledger wrote last: any other writer (another ledger, `reset()`,
    a test calling `record_request`) empties it. Callers hold the store's transaction.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_key: dict[str, _Usage] = {}
        self._last_rowid: int | None = None

    def current(self, db: sqlite3.Connection, key: KeyRow, now: datetime) -> _Usage:
        (top,) = db.execute("SELECT MAX(rowid) FROM requests").fetchone()
        if top != self._last_rowid:
            self._by_key.clear()
            self._last_rowid = top
        s, r = key.settings.spend_limit, key.settings.request_limit
        request_from = stored_time(cycle_start(r.cycle if r else "total", now))
        spend_from = stored_time(cycle_start(s.cycle if s else "total", now))
        cached = self._by_key.get(key.spend_key_id)
        if cached and (cached.request_from, cached.spend_from) == (request_from, spend_from):
            return cached
        usage = self.store.key_usage(key, now)
        fresh = _Usage(
            request_from, spend_from, usage.current_requests, to_micros(usage.current_spend)
        )
        self._by_key[key.spend_key_id] = fresh
        return fresh

    def forget(self, key_id: str) -> None:
        self._by_key.pop(key_id, None)

    def charged(self, db: sqlite3.Connection, key_id: str, micros: int) -> None:
        """Count a request just recorded (inside the same transaction)."""
        cached = self._by_key.get(key_id)
        if cached is not None:
            cached.requests += 1
            cached.micros += micros
        (self._last_rowid,) = db.execute("SELECT last_insert_rowid()").fetchone()


class Ledger:
    """Check-and-charge plus the read side, bound to one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.buckets = TokenBuckets()
        self._usage = _UsageCache(store)

    def check_key(self, raw_key: str | None, shape: str, now: datetime) -> KeyRow | Refusal:
        """Steps 1 and 2 (key state 401, request shape 403): the key, or why it cannot
        call an endpoint of `shape`.

        The gateway calls this before it reads the body, so a caller without a usable
        key is answered without sending a byte of it; `admit` calls it again inside
        its transaction (the key may have changed in between).
        """
        if raw_key is None:
            return Refusal(
                401,
                "invalid_api_key",
                "Missing API key: send the spend key as Authorization: Bearer or x-api-key",
                retryable=False,
            )
        key = self.store.key_for_raw(raw_key)
        expires = key.settings.expires_at if key is not None else None
        refusal = check_key_state(
            key.status if key is not None else None,
            parse_stored(expires) if expires else None,
            now,
        )
        if refusal is not None:
            return refusal
        assert key is not None
        return check_shape(key.settings.request_shape, shape) or key

    def admit(
        self,
        *,
        raw_key: str | None,
        shape: str,
        plan: Charge | Refusal,
        now: datetime,
        request_id: str,
    ) -> Refusal | None:
        """Run the checks in the documented order and, if all pass, record the charge.

        `plan` is the already validated request (or why it is invalid: that answer
        comes after the key checks, so a bad key is always a 401 first). Returns the
        first refusal, or None once the request is recorded and charged.
        """
        store = self.store
        with store.transaction() as db:
            checked = self.check_key(raw_key, shape, now)
            if isinstance(checked, Refusal):
                return checked
            key, settings = checked, checked.settings
            if isinstance(plan, Refusal):
                return plan
            refusal = check_allowed(
                plan.model,
                plan.provider,
                None if settings.allowed_models is None else list(settings.allowed_models),
                None if settings.allowed_providers is None else list(settings.allowed_providers),
            )
            if refusal is not None:
                return refusal
            rate = settings.rate_limit
            if rate is not None:
                refusal = self.buckets.take(key.spend_key_id, rate.rpm, rate.burst, now)
                if refusal is not None:
                    return refusal
            requests, spend = settings.request_limit, settings.spend_limit
            if requests is not None or spend is not None:
                usage = self._usage.current(db, key, now)
                if requests is not None:
                    refusal = check_request_limit(
                        requests.count,
                        requests.cycle,
                        usage.requests,
                        next_reset(requests.cycle, now),
                        now,
                    )
                    if refusal is not None:
                        return refusal
                if spend is not None:
                    refusal = check_spend_limit(
                        spend.amount,
                        spend.cycle,
                        Decimal(usage.micros) / _MICROS,
                        plan.cost,
                        next_reset(spend.cycle, now),
                    )
                    if refusal is not None:
                        return refusal
            store.record_request(
                key,
                provider=plan.provider,
                model=plan.model,
                endpoint=plan.endpoint,
                input_tokens=plan.input_tokens,
                output_tokens=plan.output_tokens,
                cost=plan.cost,
                request_id=request_id,
                created_at=now,
            )
            self._usage.charged(db, key.spend_key_id, to_micros(plan.cost))
        return None

    def settle(
        self,
        request_id: str,
        *,
        input_tokens: int,
        output_tokens: int,
        cost: Decimal,
        status: str = "success",
    ) -> None:
        """Replace a forwarded request's reserved charge by what it really cost (the
        caller caps `cost` at the reservation, so limits still hold)."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT spend_key_id FROM requests WHERE request_id = ?", (request_id,)
            ).fetchone()
            if row is None:
                return
            db.execute(
                "UPDATE requests SET input_tokens = ?, output_tokens = ?, cost = ?,"
                " cost_micros = ?, status = ? WHERE request_id = ?",
                (input_tokens, output_tokens, str(cost), to_micros(cost), status, request_id),
            )
            self._usage.forget(row["spend_key_id"])

    # --- read side -----------------------------------------------------------------

    def list_requests(
        self,
        wallet_id: str,
        *,
        cursor: str | None = None,
        limit: int = 10,
        spend_key_id: str | None = None,
    ) -> dict[str, Any]:
        """One page of the wallet's requests, newest first; the cursor is the last row
        shown, so requests arriving meanwhile never shift a page."""
        where = "wallet_id = ?"
        params: list[Any] = [wallet_id]
        if spend_key_id:
            where += " AND spend_key_id = ?"
            params.append(spend_key_id)
        if cursor:
            created_at, request_id = _decode_cursor(cursor)
            where += " AND (created_at < ? OR (created_at = ? AND request_id < ?))"
            params += [created_at, created_at, request_id]
        with self.store.transaction() as db:
            rows = db.execute(
                f"SELECT * FROM requests WHERE {where}"  # noqa: S608 - fixed fragments only
                " ORDER BY created_at DESC, request_id DESC LIMIT ?",
                (*params, limit + 1),
            ).fetchall()
        page = rows[:limit]
        has_more = len(rows) > limit
        data = []
        for row in page:
            cost = decimal_text(row["cost_micros"])
            data.append(
                {
                    "request_id": row["request_id"],
                    "status": row["status"],
                    "provider": row["provider"],
                    "model": row["model"],
                    "endpoint": row["endpoint"],
                    "model_usage": {
                        "input_tokens": row["input_tokens"],
                        "output_tokens": row["output_tokens"],
                        "total_tokens": row["input_tokens"] + row["output_tokens"],
                        "total_cost": cost,
                    },
                    "cost": cost,
                    "created_at": iso_z(parse_stored(row["created_at"])),
                    "spend_key_id": row["spend_key_id"],
                }
            )
        last = page[-1] if has_more else None
        return {
            "data": data,
            "has_more": has_more,
            "next_cursor": encode_cursor(last["created_at"], last["request_id"]) if last else None,
        }

    def usage(self, wallet_id: str, start: datetime, end: datetime) -> dict[str, Any]:
        """Daily (UTC) totals over ``[start, end)``, every day listed, plus the totals.

        ``total_charge`` equals ``total_cost``: the emulator adds no fee.
        """
        start, end = as_utc(start), as_utc(end)
        if end <= start:
            raise BadQuery("end: must be after start")
        first_day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        if (end - first_day).days > MAX_USAGE_DAYS:
            raise BadQuery(f"the range spans more than {MAX_USAGE_DAYS} days")
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT substr(created_at, 1, 10) AS day, COUNT(*) AS n,"
                " SUM(input_tokens + output_tokens) AS tokens, SUM(cost_micros) AS micros"
                " FROM requests WHERE wallet_id = ? AND created_at >= ? AND created_at < ?"
                " GROUP BY day",
                (wallet_id, stored_time(start), stored_time(end)),
            ).fetchall()
        by_day = {row["day"]: row for row in rows}
        items = []
        total_n = total_tokens = total_micros = 0
        day = first_day
        while day < end:
            following = day + timedelta(days=1)
            row = by_day.get(day.strftime("%Y-%m-%d"))
            n, tokens, micros = (row["n"], row["tokens"], row["micros"]) if row else (0, 0, 0)
            total_n, total_tokens, total_micros = (
                total_n + n,
                total_tokens + tokens,
                total_micros + micros,
            )
            items.append(
                {
                    "date": day.strftime("%Y-%m-%d"),
                    "start": iso_z(max(day, start)),
                    "end": iso_z(min(following, end)),
                    "total_requests": n,
                    "total_usage_tokens": tokens,
                    "total_cost": decimal_text(micros),
                    "total_charge": decimal_text(micros),
                }
            )
            day = following
        return {
            "items": items,
            "totals": {
                "start": iso_z(start),
                "end": iso_z(end),
                "total_requests": total_n,
                "total_usage_tokens": total_tokens,
                "total_cost": decimal_text(total_micros),
                "total_charge": decimal_text(total_micros),
            },
        }
