"""`lava keys check KEY`: a CI gate that stops a pipeline before it spends.

Exit 0 when the key is active, unexpired (and not expiring within the window), has
budget left and requests left this cycle; otherwise exit 5 (policy) naming every
reason. The verdict is computed by `evaluate`, a pure function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.errors import PolicyError

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext


@dataclass(frozen=True)
class Verdict:
    key: SpendKey
    remaining: Decimal | None
    reasons: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)  # paused, expired, expiring, budget, requests

    @property
    def ok(self) -> bool:
        return not self.reasons

    def to_json(self) -> dict[str, Any]:
        key = self.key
        return {
            "ok": self.ok,
            "spend_key_id": key.spend_key_id,
            "name": key.name,
            "status": key.status,  # the server's; `codes` says "expired" when it is
            "remaining": None if self.remaining is None else str(self.remaining),
            "current_requests": key.current_requests,
            "expires_at": key.expires_at,
            "reasons": self.reasons,
            "codes": self.codes,
        }


def evaluate(
    key: SpendKey,
    now: datetime,
    *,
    min_remaining: Decimal | None = None,
    expires_within: timedelta | None = None,
) -> Verdict:
    """Every reason the key should not be used now (empty when it is fine)."""
    from lava_cli.contract import next_reset
    from lava_cli.parsing import parse_api_time
    from lava_cli.render.output import money

    reasons: list[str] = []
    codes: list[str] = []

    def fail(code: str, reason: str) -> None:
        codes.append(code)
        reasons.append(reason)

    if key.status != "active":
        fail("paused", f"the key is {key.status}")
    expires = parse_api_time(key.expires_at)
    if key.is_expired(now):
        fail("expired", f"the key expired at {key.expires_at}")
    elif expires is not None and expires_within is not None and expires - now <= expires_within:
        fail("expiring", f"the key expires at {key.expires_at}, within {_span(expires_within)}")
    remaining: Decimal | None = None
    limit = key.spend_limit
    if limit is not None:
        remaining = limit.amount - key.current_spend
        reset = next_reset(limit.cycle, now)
        until = (
            f" (resets {reset:%Y-%m-%d %H:%M} UTC)" if reset else " (a total limit never resets)"
        )
        if min_remaining is not None and remaining < min_remaining:
            fail(
                "budget",
                f"{money(remaining)} left of {money(limit.amount)} {limit.cycle}, "
                f"less than the {money(min_remaining)} required{until}",
            )
        elif min_remaining is None and remaining <= 0:
            fail("budget", f"the {money(limit.amount)} {limit.cycle} spend limit is used up{until}")
    req = key.request_limit
    if req is not None and key.current_requests >= req.count:
        fail("requests", f"all {req.count} {req.cycle} requests are used")
    return Verdict(key, remaining, reasons, codes)


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class CheckOptions:
    """`lava keys check` after parsing: which key, and the thresholds it must clear."""

    key: str
    min_remaining: Decimal | None = None
    expires_within: timedelta | None = None
    json: bool = False


def run(app: AppContext, opts: CheckOptions) -> None:
    """Resolve the key, judge it now, print the verdict; PolicyError (exit 5) when it fails."""
    from lava_cli.ops.keys import resolve_key

    found = resolve_key(app.client(), opts.key)
    verdict = evaluate(
        found,
        datetime.now(timezone.utc),
        min_remaining=opts.min_remaining,
        expires_within=opts.expires_within,
    )
    if opts.json:
        app.out.json(verdict.to_json())
    elif verdict.ok:
        from lava_cli.render.output import money

        left = "no spend limit" if verdict.remaining is None else f"{money(verdict.remaining)} left"
        app.out.tsv([["ok", found.spend_key_id, found.name, left]])
    if not verdict.ok:
        raise PolicyError(
            f"{found.name} ({found.spend_key_id}) cannot spend: " + "; ".join(verdict.reasons),
            hint=fix_hint(verdict),
        )


def fix_hint(verdict: Verdict) -> str:
    key = verdict.key
    if "paused" in verdict.codes:
        return f"resume it with `lava keys resume {key.spend_key_id}`"
    if "expired" in verdict.codes or "expiring" in verdict.codes:
        return f"extend it with `lava keys update {key.spend_key_id} --expires-in 7d`"
    return (
        f"raise the limit with `lava keys update {key.spend_key_id} --spend-limit AMOUNT/CYCLE`, "
        "or wait for the cycle to reset"
    )
