"""`lava keys check KEY`: a CI gate that stops a pipeline before it spends.

Exit 0 when the key is active, unexpired (and not expiring within the window), has
budget left and requests left this cycle (and, with --max-used, has used less than
that share of either limit); otherwise exit 5 (policy) naming every reason with its
figures, and a hint naming the flag that fixes it. The verdict is computed by
`evaluate`, a pure function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
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
    # paused, expired, expiring, budget, requests, spend-used, requests-used
    codes: list[str] = field(default_factory=list)
    spend_used: Decimal | None = None  # share of the spend limit used this cycle
    requests_used: Decimal | None = None  # share of the request limit used this cycle
    max_used: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.reasons

    def to_json(self) -> dict[str, Any]:
        from lava_cli.ops.usage import share_text

        key = self.key
        return {
            "ok": self.ok,
            "spend_key_id": key.spend_key_id,
            "name": key.name,
            "status": key.status,  # the server's; `codes` says "expired" when it is
            "remaining": None if self.remaining is None else str(self.remaining),
            "current_spend": key.current_spend_text,
            "spend_limit": key.raw.get("spend_limit") if key.spend_limit else None,
            "spend_used": share_text(self.spend_used),
            "current_requests": key.current_requests,
            "request_limit": key.raw.get("request_limit") if key.request_limit else None,
            "requests_used": share_text(self.requests_used),
            "max_used": share_text(self.max_used),
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
    max_used: Decimal | None = None,
) -> Verdict:
    """Every reason the key should not be used now (empty when it is fine)."""
    from lava_cli.parsing import parse_api_time

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
    remaining, spend_used = _check_spend(key, now, min_remaining, max_used, fail)
    requests_used = _check_requests(key, now, max_used, fail)
    return Verdict(key, remaining, reasons, codes, spend_used, requests_used, max_used)


def _until(cycle: str, now: datetime) -> str:
    """` (resets …)` for a limit of `cycle`: each limit names its own reset."""
    from lava_cli.contract import next_reset

    reset = next_reset(cycle, now)
    return f" (resets {reset:%Y-%m-%d %H:%M} UTC)" if reset else " (a total limit never resets)"


def _check_spend(
    key: SpendKey,
    now: datetime,
    min_remaining: Decimal | None,
    max_used: Decimal | None,
    fail: Callable[[str, str], None],
) -> tuple[Decimal | None, Decimal | None]:
    """The spend limit: used up, under the --min-remaining floor, or past --max-used.
    Returns (remaining, share used); both None without a spend limit."""
    from lava_cli.ops.usage import fraction
    from lava_cli.render.output import money

    limit = key.spend_limit
    if limit is None:
        return None, None
    remaining = limit.amount - key.current_spend
    used = fraction(key.current_spend, limit.amount)
    until = _until(limit.cycle, now)
    of = f"{money(limit.amount)} {limit.cycle}"
    if min_remaining is not None and remaining < min_remaining:
        fail(
            "budget",
            f"{money(remaining)} left of {of}, less than the {money(min_remaining)} required"
            + until,
        )
    elif min_remaining is None and remaining <= 0:
        fail("budget", f"the {of} spend limit is used up{until}")
    elif max_used is not None and used is not None and used >= max_used:
        fail(
            "spend-used",
            f"{_pct(used)} of the {of} spend limit is used ({money(key.current_spend)}), "
            f"at or over the {_pct(max_used)} allowed{until}",
        )
    return remaining, used


def _check_requests(
    key: SpendKey, now: datetime, max_used: Decimal | None, fail: Callable[[str, str], None]
) -> Decimal | None:
    """The request limit: used up, or past --max-used. Returns the share used."""
    from lava_cli.ops.usage import fraction

    req = key.request_limit
    if req is None:
        return None
    used = fraction(Decimal(key.current_requests), Decimal(req.count))
    until = _until(req.cycle, now)
    if key.current_requests >= req.count:
        fail("requests", f"all {req.count} {req.cycle} requests are used{until}")
    elif max_used is not None and used is not None and used >= max_used:
        fail(
            "requests-used",
            f"{_pct(used)} of the {req.count} {req.cycle} requests are used "
            f"({key.current_requests}), at or over the {_pct(max_used)} allowed{until}",
        )
    return used


def _pct(share: Decimal) -> str:
    """`80%`, `12.5%`: as many decimals as it has, up to two."""
    text = f"{(share * 100).quantize(Decimal('0.01'), ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") + "%"


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
    max_used: Decimal | None = None


def run(app: AppContext, opts: CheckOptions) -> None:
    """Resolve the key, judge it now, print the verdict; PolicyError (exit 5) when it fails."""
    from lava_cli.ops.keys import resolve_key

    found = resolve_key(app.client(), opts.key)
    verdict = evaluate(
        found,
        datetime.now(timezone.utc),
        min_remaining=opts.min_remaining,
        expires_within=opts.expires_within,
        max_used=opts.max_used,
    )
    if opts.json:
        app.out.json(verdict.to_json())
    elif verdict.ok:
        from lava_cli.render.output import money

        left = "no spend limit" if verdict.remaining is None else f"{money(verdict.remaining)} left"
        app.out.tsv([["ok", found.spend_key_id, found.name, left]])
    if not verdict.ok:
        alarm_only = set(verdict.codes) <= {"spend-used", "requests-used", "expiring"}
        state = "is past the threshold" if alarm_only else "cannot spend"
        raise PolicyError(
            f"{found.name} ({found.spend_key_id}) {state}: " + "; ".join(verdict.reasons),
            hint=fix_hint(verdict),
        )


def fix_hint(verdict: Verdict) -> str:
    """What to do, for the reasons found: each limit names its own flag."""
    kid = verdict.key.spend_key_id
    codes = set(verdict.codes)
    if "paused" in codes:
        return f"resume it with `lava keys resume {kid}`"
    if codes & {"expired", "expiring"}:
        return f"extend it with `lava keys update {kid} --expires-in 7d`"
    flags = []
    if codes & {"budget", "spend-used"}:
        flags.append("--spend-limit AMOUNT/CYCLE")
    if codes & {"requests", "requests-used"}:
        flags.append("--request-limit COUNT/CYCLE")
    return f"raise the limit with `lava keys update {kid} {' '.join(flags)}`, or wait for the reset"
