"""The gateway's bookkeeping on the store's connection: check-and-charge, and the
settlement of a forwarded request. What it records is read back by reads.py
(``GET /v1/requests``, ``GET /v1/usage``).

`Ledger.admit` does every key check and the charge inside ONE ``store.transaction()``
(``BEGIN IMMEDIATE`` under the store's lock): two concurrent requests can never both
see room for one more under a limit. Only accepted requests are recorded, so the
store's derived ``current_*``/``total_*``/``last_used_at`` and the wallet balance
move with exactly what was charged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from lava_cli.emulator.catalogue import Costs
from lava_cli.emulator.contract import COMPLETED, ERROR
from lava_cli.emulator.cycles import next_reset, parse_stored
from lava_cli.emulator.limits import (
    Refusal,
    TokenBuckets,
    check_allowed,
    check_key_state,
    check_request_limit,
    check_shape,
    check_spend_limit,
)
from lava_cli.emulator.money import from_micros, to_micros
from lava_cli.emulator.schema import KeyRow, Tags
from lava_cli.emulator.store import Store, cycle_starts

if TYPE_CHECKING:
    import sqlite3


@dataclass(frozen=True)
class Charge:
    """What an accepted request costs and how it is recorded: `status` ``completed``
    for the offline model (its answer is decided already), ``pending`` for a forwarded
    request until it settles; `response_id` the id of the answer (chat completion or
    message) once known; `tags` what the call said about itself (attribution.py)."""

    model: str
    provider: str
    endpoint: str
    input_tokens: int
    output_tokens: int
    costs: Costs
    status: str = COMPLETED
    response_id: str | None = None
    tags: Tags = field(default_factory=Tags)

    @property
    def cost(self) -> Decimal:
        return self.costs.total


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
        request_from, spend_from = cycle_starts(key.settings, now)
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
    """Check-and-charge and settlement, bound to one store."""

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
        """Run the checks in the documented order (limits.py) and, if all pass, record
        the charge: all of it inside ONE transaction, so no other request can take the
        room a check just saw.

        `plan` is the already validated request (or why it is invalid: that answer
        comes after the key checks, so a bad key is always a 401 first). Returns the
        first refusal, or None once the request is recorded and charged.
        """
        with self.store.transaction() as db:
            key = self.check_key(raw_key, shape, now)  # 1-2: 401, 403
            if isinstance(key, Refusal):
                return key
            if isinstance(plan, Refusal):  # 3: the body (400, 404, 413)
                return plan
            # 4-7. A Refusal is always true, so `or` stops at the first one: a request
            # refused by its allow-lists takes no rate-limit token.
            refusal = (
                self._check_allow_lists(key, plan)
                or self._take_rate_token(key, now)
                or self._check_cycle_limits(db, key, plan, now)
            )
            if refusal is not None:
                return refusal
            self._charge(db, key, plan, now, request_id)
        return None

    @staticmethod
    def _check_allow_lists(key: KeyRow, plan: Charge) -> Refusal | None:
        """Step 4: the key's model and provider allow-lists (403)."""
        settings = key.settings
        return check_allowed(
            plan.model, plan.provider, settings.allowed_models, settings.allowed_providers
        )

    def _take_rate_token(self, key: KeyRow, now: datetime) -> Refusal | None:
        """Step 5: one token from the key's bucket (429 when empty)."""
        rate = key.settings.rate_limit
        if rate is None:
            return None
        return self.buckets.take(key.spend_key_id, rate.rpm, rate.burst, now)

    def _check_cycle_limits(
        self, db: sqlite3.Connection, key: KeyRow, plan: Charge, now: datetime
    ) -> Refusal | None:
        """Steps 6 and 7: the request limit (429), then the spend limit with this
        request's full cost (402), both against the key's usage in their cycles."""
        requests, spend = key.settings.request_limit, key.settings.spend_limit
        if requests is None and spend is None:
            return None  # no usage to look up
        usage = self._usage.current(db, key, now)
        if requests is not None:
            refusal = check_request_limit(
                requests.count, requests.cycle, usage.requests, next_reset(requests.cycle, now), now
            )
            if refusal is not None:
                return refusal
        if spend is not None:
            return check_spend_limit(
                spend.amount,
                spend.cycle,
                from_micros(usage.micros),
                plan.cost,
                next_reset(spend.cycle, now),
            )
        return None

    def _charge(
        self, db: sqlite3.Connection, key: KeyRow, plan: Charge, now: datetime, request_id: str
    ) -> None:
        """Record the accepted request; the store derives spend and balance from it."""
        self.store.record_request(
            key,
            provider=plan.provider,
            model=plan.model,
            endpoint=plan.endpoint,
            input_tokens=plan.input_tokens,
            output_tokens=plan.output_tokens,
            cost=plan.cost,
            status=plan.status,
            request_id=request_id,
            created_at=now,
            costs=plan.costs,
            response_id=plan.response_id,
            tags=plan.tags,
        )
        self._usage.charged(db, key.spend_key_id, to_micros(plan.cost))

    def settle(
        self,
        request_id: str,
        *,
        input_tokens: int,
        output_tokens: int,
        costs: Costs,
        status: str = COMPLETED,
        response_id: str | None = None,
    ) -> None:
        """Replace a forwarded request's reserved charge by what it really cost (the
        caller caps the cost at the reservation, so limits still hold), and its
        ``pending`` status by ``completed`` or ``error``."""
        assert status in (COMPLETED, ERROR)
        with self.store.transaction():
            key_id = self.store.reprice_request(
                request_id,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                costs=costs,
                status=status,
                response_id=response_id,
            )
            if key_id is not None:
                self._usage.forget(key_id)
