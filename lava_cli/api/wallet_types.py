"""Typed views of a wallet's secret keys and its money coming in: `/v1/secret_keys`,
`/v1/payment_methods` and `POST /v1/wallet/fund`.

Strict like `api.types` (a wrong shape is one `MalformedResponse`), and apart from it so
that the commands which never read these (most) do not define the classes at start-up.
`raw` keeps the API's object for --json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from lava_cli.api.types import (
    MalformedResponse,
    as_object,
    bool_field,
    int_field,
    minted,
    money_of,
    str_field,
)

FUND_STATUSES = ("completed", "requires_action")


@dataclass(frozen=True)
class SecretKey:
    """One of the wallet's management secrets as listed: never its value, only a hint
    (the prefix, `****` and the last characters)."""

    secret_key_id: str
    name: str
    secret_key_hint: str
    created_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> SecretKey:
        obj = as_object(value, "secret key")
        return cls(
            secret_key_id=str_field(obj, "secret_key_id") or "",
            name=str_field(obj, "name") or "",
            secret_key_hint=str_field(obj, "secret_key_hint") or "",
            created_at=str_field(obj, "created_at", optional=True),
            raw={k: v for k, v in obj.items() if k != "secret_key"},
        )


@dataclass(frozen=True)
class NewSecret:
    """A secret key just created, with the value the API shows this once. `api_object`
    is the whole answer (with `secret_key`), for --json."""

    key: SecretKey
    raw: str = field(repr=False)
    api_object: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> NewSecret:
        """The key and its value, or one error (`types.minted`: a value that came is
        never lost to an unreadable rest of the answer)."""
        key, raw = minted(
            value,
            "secret_key",
            SecretKey.from_json,
            about="the new secret key",
            what="secret",
            hint="find it with `lava secret-keys list`",
        )
        if raw is None:
            raise MalformedResponse(
                f"the API did not return the new secret's value ({key.secret_key_id})",
                hint=f"revoke it: `lava secret-keys revoke {key.secret_key_id} --yes`",
            )
        return cls(key, raw, dict(value))


@dataclass(frozen=True)
class PaymentMethod:
    """A card on the wallet (`GET /v1/payment_methods`)."""

    payment_method_id: str
    brand: str
    last4: str
    expiry_month: int
    expiry_year: int
    is_default: bool
    has_error: bool
    error_code: str | None
    error_message: str | None
    error_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        """`visa ending 4242`: how people name a card."""
        return f"{self.brand} ending {self.last4}"

    @classmethod
    def from_json(cls, value: Any) -> PaymentMethod:
        obj = as_object(value, "payment method")
        return cls(
            payment_method_id=str_field(obj, "payment_method_id") or "",
            brand=str_field(obj, "brand", optional=True) or "card",
            last4=str_field(obj, "last4", optional=True) or "????",
            expiry_month=int_field(obj, "expiry_month"),
            expiry_year=int_field(obj, "expiry_year"),
            is_default=bool_field(obj, "is_default"),
            has_error=bool_field(obj, "has_error"),
            error_code=str_field(obj, "error_code", optional=True),
            error_message=str_field(obj, "error_message", optional=True),
            error_at=str_field(obj, "error_at", optional=True),
            raw=obj,
        )


@dataclass(frozen=True)
class FundResult:
    """`POST /v1/wallet/fund`: `completed` (with the balance after), or
    `requires_action` with the page where the payer confirms (`redirect_url`)."""

    status: str
    payment_id: str
    balance: Decimal | None
    redirect_url: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    replayed: bool = False  # the server answered from its Idempotency-Key record

    @classmethod
    def from_json(cls, value: Any, *, replayed: bool = False) -> FundResult:
        obj = as_object(value, "fund result")
        status = str_field(obj, "status")
        if status not in FUND_STATUSES:
            raise MalformedResponse(
                f"unexpected answer from the API: status is not one of {', '.join(FUND_STATUSES)}"
            )
        balance = obj.get("balance")
        redirect = str_field(obj, "redirect_url", optional=True)
        if status == "requires_action" and not _web_url(redirect):
            # The URL is shown to people and opened in their browser: only a web page.
            raise MalformedResponse(
                "unexpected answer from the API: requires_action without an http(s) redirect_url"
            )
        return cls(
            status=status,
            payment_id=str_field(obj, "payment_id") or "",
            balance=None if balance is None else money_of(balance, "'balance'"),
            redirect_url=redirect,
            raw=obj,
            replayed=replayed,
        )


def _web_url(value: str | None) -> bool:
    if not value or not value.isascii() or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
