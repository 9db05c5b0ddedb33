"""Typed views of the API's JSON objects: spend keys and pages, and the shape readers.

Each `from_json` checks the shape it needs and raises `MalformedResponse` on
anything else, so a server answering garbage becomes one error line, never a
`KeyError` traceback. The original object is kept in `raw` because `--json`
prints what the API sent, untouched.

The answers fewer commands read live beside this module, built with the same readers
(`as_object`, `str_field`, `int_field`, `decimal_field`, `money_of`): `model_types`
(/models, /services) and `usage_types` (/wallet, /usage, /requests). Every command
that talks to the API imports this module; defining their classes costs start-up
time that only `models`, `usage`, `prompt` and `doctor` need to pay.

The classes here are NamedTuples, frozen and typed like a frozen dataclass: a
dataclass generates its methods with exec() at import, ~0.6 ms a class, which every
command that talks to the API would pay six times over (measured with -X importtime).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from lava_cli.errors import ApiError
from lava_cli.parsing import EXPIRABLE

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime


class MalformedResponse(ApiError):
    """A 2xx answer whose JSON does not have the documented shape (exit 1)."""


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResponse(f"unexpected answer from the API: {what} is not an object")
    return value


_T = TypeVar("_T")


def minted(
    body: Any, field: str, parse: Callable[[Any], _T], *, about: str, what: str, hint: str
) -> tuple[_T, str | None]:
    """A create/rotate answer: the object and the value shown this once (None if absent).

    With a value but an otherwise unreadable answer, the MalformedResponse keeps the
    value (`shown_once`) so it is printed anyway: it exists on the server and is never
    shown again. `about` names the object in that error, `what` the value, `hint` where
    to find the object. A spend key and a secret key go through this one function."""
    raw = body.get(field) if isinstance(body, dict) else None
    if raw is not None and not isinstance(raw, str):
        raise MalformedResponse(f"unexpected answer from the API: {field!r} is not a string")
    try:
        return parse(body), raw or None
    except MalformedResponse as exc:
        if not raw:
            raise
        why = exc.message.removeprefix("unexpected answer from the API: ")
        exc.message = (
            f"the API's answer about {about} is unreadable ({why}); "
            f"the {what} it minted was printed above"
        )
        exc.hint = hint
        exc.shown_once = raw
        raise


def str_field(obj: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = obj.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise MalformedResponse(f"unexpected answer from the API: {name!r} is not a string")
    return value


def bool_field(obj: dict[str, Any], name: str) -> bool:
    """A JSON boolean (missing: false); 1 or "true" are not booleans."""
    value = obj.get(name, False)
    if not isinstance(value, bool):
        raise MalformedResponse(f"unexpected answer from the API: {name!r} is not a boolean")
    return value


def int_field(obj: dict[str, Any], name: str, default: int = 0) -> int:
    value = obj.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedResponse(f"unexpected answer from the API: {name!r} is not an integer")
    return value


# Amounts beyond this are no money any wallet holds: a hostile or broken server's
# "1e999999" would otherwise pass as finite and crash every formatter downstream.
MAX_AMOUNT_DIGITS = 15


def money_of(value: Any, what: str) -> Decimal:
    """A decimal amount the API sent (string or number), exactly, or MalformedResponse."""
    # Decimal() also reads other scripts' digits ("١٠" is 10): the API writes 0-9 only.
    if (
        isinstance(value, bool)
        or not isinstance(value, (str, int, float))
        or (isinstance(value, str) and not value.isascii())
    ):
        raise MalformedResponse(f"unexpected answer from the API: {what} is not a number")
    try:
        result = Decimal(str(value))
    except ArithmeticError:
        raise MalformedResponse(f"unexpected answer from the API: {what} is not a number") from None
    if not result.is_finite():
        raise MalformedResponse(f"unexpected answer from the API: {what} is not finite")
    if result and result.adjusted() >= MAX_AMOUNT_DIGITS:
        raise MalformedResponse(f"unexpected answer from the API: {what} is implausibly large")
    return result


def decimal_field(obj: dict[str, Any], name: str, *, optional: bool = False) -> Decimal | None:
    value = obj.get(name)
    if value is None:
        return None if optional else Decimal(0)
    return money_of(value, repr(name))


def _cycle(obj: dict[str, Any], what: str) -> str:
    """A limit's cycle: one of the contract's, or the answer is not one we can read
    (the reset times and forecasts are computed from it)."""
    from lava_cli.contract import CYCLES

    value = str_field(obj, "cycle")
    if value not in CYCLES:
        raise MalformedResponse(
            f"unexpected answer from the API: {what}.cycle is not one of {', '.join(CYCLES)}"
        )
    return value


def _str_list(obj: dict[str, Any], name: str) -> tuple[str, ...] | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedResponse(
            f"unexpected answer from the API: {name!r} is not a list of strings"
        )
    return tuple(value)


class SpendLimit(NamedTuple):
    amount: Decimal
    cycle: str


class RequestLimit(NamedTuple):
    count: int  # type: ignore[assignment]  # shadows tuple.count(), which nothing calls
    cycle: str


class RateLimit(NamedTuple):
    rpm: int
    burst: int | None


class SpendKey(NamedTuple):
    """A spend key as the API describes it. The raw value a create or rotate returns is
    not here but in `NewKey`, so that no caller has to ask whether it came."""

    spend_key_id: str
    name: str
    status: str
    request_shape: str
    key_preview: str
    allowed_models: tuple[str, ...] | None
    allowed_providers: tuple[str, ...] | None
    spend_limit: SpendLimit | None
    request_limit: RequestLimit | None
    rate_limit: RateLimit | None
    current_spend: Decimal
    total_spend: Decimal
    current_requests: int
    total_requests: int
    expires_at: str | None
    last_used_at: str | None
    created_at: str | None
    raw: dict[str, Any]

    def __repr__(self) -> str:
        # `raw` stays out: a create or rotate answer holds the new key's value.
        shown = ", ".join(f"{n}={v!r}" for n, v in self._asdict().items() if n != "raw")
        return f"SpendKey({shown})"

    @property
    def current_spend_text(self) -> str:
        """This cycle's spend as the API spelled it (`"12.3400"` stays so), for output
        that repeats the API's figure; `current_spend` is the number to compute with."""
        return str(self.raw.get("current_spend", self.current_spend))

    def is_expired(self, now: datetime) -> bool:
        """True once `expires_at` has passed (an unreadable time counts as no expiry)."""
        from lava_cli.parsing import parse_api_time

        expires = parse_api_time(self.expires_at)
        return expires is not None and expires <= now

    def status_at(self, now: datetime) -> str:
        """The status to show people: `expired` for a key whose `expires_at` has passed
        while the server still calls it active or paused, else the server's status.

        The one place this is decided, for `keys list` (and its --status filter),
        `keys show`, `usage` and `keys check`. `--json` of the API objects keeps the
        server's own `status`.
        """
        if self.status in EXPIRABLE and self.is_expired(now):
            return "expired"
        return self.status

    @classmethod
    def from_json(cls, value: Any) -> SpendKey:
        obj = as_object(value, "spend key")
        spend = obj.get("spend_limit")
        req = obj.get("request_limit")
        rate = obj.get("rate_limit")
        spend_limit = None
        if spend is not None:
            s = as_object(spend, "spend_limit")
            amount = decimal_field(s, "amount")
            assert amount is not None
            spend_limit = SpendLimit(amount, _cycle(s, "spend_limit"))
        request_limit = None
        if req is not None:
            r = as_object(req, "request_limit")
            request_limit = RequestLimit(int_field(r, "count"), _cycle(r, "request_limit"))
        rate_limit = None
        if rate is not None:
            rl = as_object(rate, "rate_limit")
            burst = rl.get("burst")
            rate_limit = RateLimit(
                int_field(rl, "rpm"), int_field(rl, "burst") if burst is not None else None
            )
        current = decimal_field(obj, "current_spend")
        total = decimal_field(obj, "total_spend")
        assert current is not None and total is not None
        return cls(
            spend_key_id=str_field(obj, "spend_key_id") or "",
            name=str_field(obj, "name") or "",
            status=str_field(obj, "status") or "",
            request_shape=str_field(obj, "request_shape", optional=True) or "openai",
            key_preview=str_field(obj, "key_preview", optional=True) or "",
            allowed_models=_str_list(obj, "allowed_models"),
            allowed_providers=_str_list(obj, "allowed_providers"),
            spend_limit=spend_limit,
            request_limit=request_limit,
            rate_limit=rate_limit,
            current_spend=current,
            total_spend=total,
            current_requests=int_field(obj, "current_requests"),
            total_requests=int_field(obj, "total_requests"),
            expires_at=str_field(obj, "expires_at", optional=True),
            last_used_at=str_field(obj, "last_used_at", optional=True),
            created_at=str_field(obj, "created_at", optional=True),
            raw=obj,
        )


class MissingKeyValueError(MalformedResponse):
    """A create/rotate answer without the new key's raw value (exit 1).

    The key exists on the server, but nobody holds a value for it: the way out is a
    rotate (a new value) or a revoke. Raised by the client, so every command that mints
    a key (`keys create`, `keys rotate`, `run`, `env --create`, `prompt`) says the same.
    """

    def __init__(self, spend_key_id: str) -> None:
        super().__init__(
            f"the API did not return the new key's value ({spend_key_id})",
            hint=f"rotate it to get a value (`lava keys rotate {spend_key_id}`), "
            f"or revoke it (`lava keys revoke {spend_key_id} --yes`)",
        )
        self.spend_key_id = spend_key_id


class NewKey(NamedTuple):
    """A key just created or rotated, with the raw value the API shows this once."""

    key: SpendKey
    raw: str

    def __repr__(self) -> str:
        return f"NewKey(key={self.key!r})"  # never the raw value


class Page(NamedTuple):
    """One page of a cursor-paged list."""

    data: list[dict[str, Any]]
    has_more: bool
    next_cursor: str | None

    @classmethod
    def from_json(cls, value: Any) -> Page:
        obj = as_object(value, "list")
        data = obj.get("data")
        if not isinstance(data, list):
            raise MalformedResponse("unexpected answer from the API: 'data' is not a list")
        has_more = bool_field(obj, "has_more")
        cursor = str_field(obj, "next_cursor", optional=True)
        if has_more and not cursor:
            raise MalformedResponse("unexpected answer from the API: has_more without next_cursor")
        return cls([as_object(item, "list item") for item in data], has_more, cursor)
