"""The gateway's policy checks, each a pure function returning a `Refusal` or None.

The gateway runs them in this fixed order (the first refusal wins):

1. key state: unknown, paused, revoked or expired -> 401 ``invalid_api_key``
2. request shape: the key's shape does not match the endpoint -> 403 ``wrong_request_shape``
3. (the gateway reads the body -> 413 ``request_too_large`` over 8 MiB, see bodies.py;
   validates it -> 400 ``invalid_request``; unknown model -> 404 ``model_not_found``)
4. allow-lists: model, then provider -> 403 ``model_not_allowed`` / ``provider_not_allowed``
5. rate limit (token bucket) -> 429 ``rate_limit_exceeded`` + Retry-After until a token
6. request limit of the cycle -> 429 ``request_limit_exceeded`` + Retry-After to the reset
7. spend limit of the cycle -> 402 ``spend_limit_exceeded`` (message: limit, UTC reset)

Nothing here touches the database; the ledger feeds these with the key's row and the
derived usage inside its transaction.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from lava_cli.emulator.contract import ACTIVE, SHAPE_ENDPOINTS
from lava_cli.emulator.money import money


@dataclass(frozen=True)
class Refusal:
    """Why the gateway refuses a request: HTTP status, contract code, human message."""

    status: int
    code: str
    message: str
    retry_after: int | None = None
    # False tells the official SDKs not to retry (their `x-should-retry` header).
    retryable: bool = True


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_key_state(
    status: str | None, expires_at: datetime | None, now: datetime
) -> Refusal | None:
    """401 for a key that does not exist or cannot be used right now."""
    if status is None:
        return Refusal(401, "invalid_api_key", "Invalid API key", retryable=False)
    if status != ACTIVE:
        return Refusal(
            401, "invalid_api_key", f"Invalid API key: the spend key is {status}", retryable=False
        )
    if expires_at is not None and expires_at <= now:
        return Refusal(
            401,
            "invalid_api_key",
            f"Invalid API key: the spend key expired at {_utc(expires_at)}",
            retryable=False,
        )
    return None


def check_shape(key_shape: str, endpoint_shape: str) -> Refusal | None:
    """403 when an OpenAI-shape key calls /v1/messages or the other way round."""
    if key_shape == endpoint_shape:
        return None
    right = SHAPE_ENDPOINTS.get(key_shape, "?")
    wrong = SHAPE_ENDPOINTS.get(endpoint_shape, "?")
    return Refusal(
        403,
        "wrong_request_shape",
        f"This spend key has request shape {key_shape!r}: call POST {right}, "
        f"not {wrong} (or use a key with request shape {endpoint_shape!r})",
        retryable=False,
    )


def check_allowed(
    model: str,
    provider: str,
    allowed_models: Sequence[str] | None,
    allowed_providers: Sequence[str] | None,
) -> Refusal | None:
    """403 when the key's allow-lists (None = everything) leave out the model or provider."""
    if allowed_models is not None and model not in allowed_models:
        return Refusal(
            403,
            "model_not_allowed",
            f"Model not allowed: {model!r} is not in this key's allowed models "
            f"({', '.join(allowed_models)})",
            retryable=False,
        )
    if allowed_providers is not None and provider not in allowed_providers:
        return Refusal(
            403,
            "provider_not_allowed",
            f"Provider not allowed: {provider!r} (model {model!r}) is not in this key's "
            f"allowed providers ({', '.join(allowed_providers)})",
            retryable=False,
        )
    return None


def _retry_seconds(now: datetime, then: datetime) -> int:
    return max(1, math.ceil((then - now).total_seconds()))


def check_request_limit(
    count: int, cycle: str, current: int, next_reset: datetime | None, now: datetime
) -> Refusal | None:
    """429 when this request would be number `count + 1` of the cycle."""
    if current + 1 <= count:
        return None
    if next_reset is None:
        return Refusal(
            429,
            "request_limit_exceeded",
            f"Request limit reached: {count} requests in total; this limit never resets",
            retryable=False,
        )
    return Refusal(
        429,
        "request_limit_exceeded",
        f"Request limit reached: {count} requests per {cycle} cycle; resets at {_utc(next_reset)}",
        retry_after=_retry_seconds(now, next_reset),
        retryable=False,
    )


def check_spend_limit(
    amount: Decimal, cycle: str, current: Decimal, cost: Decimal, next_reset: datetime | None
) -> Refusal | None:
    """402 unless the request's full cost still fits: accept iff current + cost <= limit.

    The cost is known exactly before the reply (see replies.py), so `current_spend`
    never exceeds the limit, even by one request.
    """
    if current + cost <= amount:
        return None
    when = "this limit never resets" if next_reset is None else f"resets at {_utc(next_reset)}"
    return Refusal(
        402,
        "spend_limit_exceeded",
        f"Spend limit exceeded: ${money(amount)} per {cycle} cycle, ${money(current)} spent, "
        f"this request would cost ${money(cost)}; {when}",
        retryable=False,
    )


@dataclass
class _Bucket:
    rpm: int
    capacity: int
    tokens: float
    updated: datetime


class TokenBuckets:
    """Per-key token buckets: capacity `burst` (or `rpm`), refilled at `rpm` per minute.

    In memory (a restart refills every bucket), keyed by spend_key_id so a rotated key
    keeps its bucket; a changed rate limit starts a fresh, full bucket. Time comes from
    the caller so the emulator's injected clock drives refills.
    """

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, rpm: int, burst: int | None, now: datetime) -> Refusal | None:
        """Spend one token, or say how many seconds until one is available (429)."""
        capacity = burst if burst is not None else rpm
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None or bucket.rpm != rpm or bucket.capacity != capacity:
                bucket = _Bucket(rpm, capacity, float(capacity), now)
                self._buckets[key_id] = bucket
            elapsed = max(0.0, (now - bucket.updated).total_seconds())
            bucket.tokens = min(float(capacity), bucket.tokens + elapsed * rpm / 60.0)
            bucket.updated = max(bucket.updated, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            wait = (1.0 - bucket.tokens) * 60.0 / rpm
        return Refusal(
            429,
            "rate_limit_exceeded",
            f"Rate limit exceeded: {rpm} requests per minute (burst {capacity}); "
            f"retry in {max(1, math.ceil(wait))}s",
            retry_after=max(1, math.ceil(wait)),
        )

    def forget(self, key_id: str) -> None:
        with self._lock:
            self._buckets.pop(key_id, None)
