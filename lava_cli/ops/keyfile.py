"""The key file: TOML that declares a wallet's spend keys by name, in the CLI's words.

`lava keys apply -f FILE` reads it, `lava keys export` writes it:

    [keys.claude]
    shape = "anthropic"                  # openai (the default) or anthropic, any case
    models = ["claude-sonnet-4-6"]       # omitted: all models
    providers = ["anthropic"]            # omitted: all providers
    spend_limit = "50/monthly"           # AMOUNT/CYCLE, as --spend-limit
    request_limit = "1000/daily"         # COUNT/CYCLE, as --request-limit
    rate_limit = "60/10"                 # RPM[/BURST], as --rate-limit (or 60)
    expires_at = "2027-01-01T00:00:00Z"  # absolute only; a TOML date-time works too
    paused = false

What the file means, decided here once:
- A key's name is its identity: `[keys.NAME]` matches the wallet's key of exactly
  that name (case and all). The file holds no ids and no secrets.
- A declared key is declared whole: an omitted field means the API's default (all
  models, no limit, never expires, not paused, shape openai), so removing a line
  removes the setting, and a change made elsewhere (the dashboard, `keys update`)
  shows up as drift in any field.
- `models = []` is refused: an empty allow-list would read as "no model", which the
  API cannot express; leaving the line out is "all models". Same for providers.
- `expires_at` is an absolute time only (`--expires-in 7d` has no file form): a
  relative one would move at every run and never converge. Read as --expires-at
  reads it (UTC when no offset, whole seconds); written back in that form.
- Allow-lists compare as sets: the order of models is not a change.

This module is the format: its fields, their canonical text (the same for the
file's values and the wallet's, so they compare), and writing it. Reading and
validating a file is `keyfile_read.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.parsing import iso_utc, parse_api_time

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey

FIELDS = (
    "shape",
    "models",
    "providers",
    "spend_limit",
    "request_limit",
    "rate_limit",
    "expires_at",
    "paused",
)
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class Settings(NamedTuple):
    """One key's settings in canonical file form, comparable field by field.

    `status` is the API's (`active`/`paused`, or whatever else a server says); the file
    calls it `paused`. Limits are canonical text (`50/monthly`, `0.50/daily`, `60/10`),
    `expires_at` is `iso_utc` text; the same functions make both sides.
    """

    shape: str = "openai"
    models: tuple[str, ...] | None = None
    providers: tuple[str, ...] | None = None
    spend_limit: str | None = None
    request_limit: str | None = None
    rate_limit: str | None = None
    expires_at: str | None = None
    status: str = "active"

    def get(self, field: str) -> object:
        return self.status if field == "paused" else getattr(self, field)


def same(field: str, ours: object, theirs: object) -> bool:
    """Whether two values of `field` mean the same setting (allow-lists are sets)."""
    if field in ("models", "providers") and ours is not None and theirs is not None:
        assert isinstance(ours, tuple) and isinstance(theirs, tuple)
        return set(ours) == set(theirs)
    return ours == theirs


# --- canonical text ------------------------------------------------------------------------


def amount_text(amount: Decimal) -> str:
    """`50`, `0.50`, `12.345` (a server's odd amount stays exact)."""
    if amount == amount.to_integral_value():
        return f"{amount:.0f}"
    if amount == amount.quantize(Decimal("0.01")):
        return f"{amount:.2f}"
    return f"{amount.normalize():f}"


def spend_text(amount: Decimal, cycle: str) -> str:
    return f"{amount_text(amount)}/{cycle}"


# These two also take the parsers' `dict[str, object]` values (ints, a cycle name).
def request_text(count: object, cycle: object) -> str:
    return f"{count}/{cycle}"


def rate_text(rpm: object, burst: object) -> str:
    return f"{rpm}" if burst is None else f"{rpm}/{burst}"


def settings_of(key: SpendKey) -> Settings:
    """A wallet's key in the file's canonical form."""
    spend, requests, rate = key.spend_limit, key.request_limit, key.rate_limit
    expires = parse_api_time(key.expires_at)
    return Settings(
        shape=key.request_shape,
        models=key.allowed_models,
        providers=key.allowed_providers,
        spend_limit=spend_text(spend.amount, spend.cycle) if spend else None,
        request_limit=request_text(requests.count, requests.cycle) if requests else None,
        rate_limit=rate_text(rate.rpm, rate.burst) if rate else None,
        expires_at=iso_utc(expires) if expires is not None else key.expires_at,
        status=key.status,
    )


# --- writing --------------------------------------------------------------------------------

EXPORT_HEADER = (
    "# Spend keys of a Lava wallet, as `lava keys apply -f FILE` reads them.",
    "# No secrets: a key's value is shown only when it is created or rotated.",
    "# An omitted field is the default: all models, no limit, never expires.",
)


def declaration(settings: Settings) -> dict[str, object]:
    """The fields a key's table holds: what differs from the defaults, plus `shape`
    and `paused`, which say the most at a glance. A status other than active or paused
    has no file form, so it is left out (apply then shows it as drift)."""
    out: dict[str, object] = {"shape": settings.shape}
    for field in FIELDS[1:-1]:
        value = settings.get(field)
        if value is not None:
            out[field] = list(value) if isinstance(value, tuple) else value
    if settings.status in ("active", "paused"):
        out["paused"] = settings.status == "paused"
    return out


def to_toml(named: Sequence[tuple[str, Settings]]) -> str:
    """The key file for these keys (sorted by name, so a re-export diffs cleanly).
    ValueError for a name or value TOML cannot hold (a lone surrogate)."""
    lines = list(EXPORT_HEADER)
    for name, settings in sorted(named, key=lambda pair: pair[0]):
        lines += ["", f"[keys.{toml_key(name)}]"]
        for field, value in declaration(settings).items():
            lines.append(f"{field} = {_toml_value(value)}")
    return "\n".join(lines)


def toml_key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else toml_string(name)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_string(str(v)) for v in value) + "]"
    return toml_string(str(value))


def toml_string(text: str) -> str:
    """A TOML basic string for `text` that reads back as exactly `text`, with every
    character a terminal could act on (controls, bidi marks, line separators) written
    as its \\u escape, so the file is safe to print and still round-trips."""
    out = []
    for char in text:
        kind = unicodedata.category(char)
        if kind == "Cs":
            raise ValueError("a lone surrogate cannot be written as TOML")
        if char in '"\\':
            out.append("\\" + char)
        elif kind[0] == "C" or kind in ("Zl", "Zp"):
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
