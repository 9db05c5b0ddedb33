"""HTTP status -> typed error, in one function (`error_for_response`), for both clients.

Classified by status, then by the body's `error.code`, never by its text; each class
carries its exit code (`lava_cli.errors`). The hint says what to do next, from the
troubleshooting list of the contract. The server's message is data: scrubbed of
anything that looks like a secret, squeezed to one line, cut at 300 characters.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from lava_cli.credentials import scrub
from lava_cli.errors import (
    ApiAuthError,
    ApiBadRequestError,
    ApiError,
    ApiNotFoundError,
    ApiPolicyError,
    ApiUnavailableError,
)

if TYPE_CHECKING:
    import httpx


def _error_message(body: Any) -> tuple[str | None, str | None]:
    """(message, code) from `{"error": "..."}` or `{"error": {"message", "code"|"type"}}`."""
    if not isinstance(body, dict):
        return None, None
    err = body.get("error")
    if isinstance(err, str):
        return err, None
    if isinstance(err, dict):
        message = err.get("message")
        code = err.get("code") or err.get("type")
        return (
            message if isinstance(message, str) else None,
            code if isinstance(code, str) else None,
        )
    message = body.get("message")
    return (message if isinstance(message, str) else None), None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds) or seconds < 0:  # NaN or past
        return 0.0
    return min(seconds, 10**7)


def retry_hint(seconds: float, now: datetime | None = None) -> str:
    """When to retry, as people plan: `retry in 42 s`, or past a minute the local
    clock time, `retry after 00:00 CET (in 20 h 7 min)` (with the day when it is not
    today). "retry after 84581 s" makes everyone do the sum."""
    if seconds < 60:
        return f"retry in {math.ceil(seconds)} s"
    from datetime import timedelta

    local_now = (now or datetime.now(timezone.utc)).astimezone()
    try:
        when = local_now + timedelta(seconds=math.ceil(seconds))
        if when.second or when.microsecond:  # "after", so the next whole minute
            when += timedelta(seconds=60 - when.second, microseconds=-when.microsecond)
    except OverflowError:  # a Retry-After past the year 9999
        return f"retry in {_duration(seconds)}"
    day = "" if when.date() == local_now.date() else f"{when:%a %d %b} "
    zone = f" {when.tzname()}" if when.tzname() else ""
    return f"retry after {day}{when:%H:%M}{zone} (in {_duration(seconds)})"


def _duration(seconds: float) -> str:
    """`20 h 7 min`, `3 min`, `2 d 4 h`: the two largest units."""
    minutes = math.ceil(seconds / 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (mins, "min")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "1 min"


def _hint_for(status: int, code: str | None, gateway: bool) -> str | None:
    """The next step to suggest, from the seeds' troubleshooting list."""
    if status == 401:
        if gateway:
            return (
                "use the full lava_sk_… key, not the preview ending in ****; check the key "
                "is active (`lava keys show KEY`), not paused, revoked or expired; lost it? "
                "`lava keys rotate KEY`"
            )
        return (
            "check the secret key with `lava auth status` and log in again with `lava login`; "
            "aks_test_ keys only work against the sandbox or the emulator (see --base-url)"
        )
    if status == 402 and code == "card_declined":
        return (
            "fund with another card (`lava wallet` lists them; `lava wallet fund AMOUNT "
            "--method ID`), or fix this one in the Lava dashboard"
        )
    if status == 402:
        return (
            "the key's spend limit is reached until its cycle resets; raise it with "
            "`lava keys update KEY --spend-limit AMOUNT/CYCLE`"
        )
    if status == 403:
        if code == "wrong_request_shape":
            return (
                "the key's API format does not match the endpoint: use --shape, or a key "
                "created with the other --shape (Claude Code and the Anthropic SDK need anthropic)"
            )
        if code in ("model_not_allowed", "provider_not_allowed"):
            return (
                "see the models the key allows with `lava keys show KEY`; "
                "change them with `lava keys update KEY --model M`"
            )
        if code == "wrong_key_type":
            return "management calls need the secret key (aks_…), not a spend key"
        return "the API refused this for the key or account; check `lava keys show KEY`"
    if status == 404:
        if gateway:
            return "check the model id (`lava models`) and --base-url"
        return "list your keys and their ids with `lava keys list`"
    if status == 409 and code == "last_secret_key":
        return (
            "a wallet keeps at least one secret key: create another first "
            "(`lava secret-keys create --name NAME`)"
        )
    if status == 409:
        return "a wallet holds at most 10 spend keys: revoke one with `lava keys revoke KEY`"
    if status == 429:
        return "slow down and retry later"
    if status >= 500:
        return "the API is having trouble; retry in a minute, or check --base-url"
    return None


def error_for_response(response: httpx.Response, *, gateway: bool = False) -> ApiError:
    """Map any non-2xx answer to a typed error (by status, then `error.code`; never by text)."""
    status = response.status_code
    try:
        body: Any = response.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    message, code = _error_message(body)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    reason = response.reason_phrase or "error"
    if message:
        message = scrub(" ".join(message.split()))[:300]
    else:
        message = f"HTTP {status} {reason}"
        if body is None and response.content:
            message += " (the body was not JSON: is --base-url pointing at the Lava API?)"
    hint = _hint_for(status, code, gateway)
    if status == 429 and retry_after is not None:
        hint = retry_hint(retry_after)
    kwargs: dict[str, Any] = {"status": status, "code": code, "retry_after": retry_after}
    cls: type[ApiError]
    if status == 401:
        cls = ApiAuthError
    elif status == 404:
        cls = ApiNotFoundError
    elif status in (402, 403, 409, 429):
        cls = ApiPolicyError
    elif status in (400, 422):
        cls = ApiBadRequestError
    elif status >= 500 or status == 408:
        cls = ApiUnavailableError
    else:
        cls = ApiError
    return cls(message, hint, **kwargs)
