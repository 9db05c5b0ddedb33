"""Identifiers and secrets minted by the emulator, and how raw keys are kept.

Everything random comes from `secrets`. Raw spend keys and wallet secrets are never
stored: only their SHA-256 (a fast hash is enough for 190+ bits of randomness; there
is nothing to brute-force) plus a short preview or hint for display.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from lava_cli.emulator.contract import (
    HINT_CHARS,
    HINT_MASK,
    ID_CHARS,
    PAYMENT_ID_PREFIX,
    PAYMENT_METHOD_ID_PREFIX,
    PREVIEW_CHARS,
    PREVIEW_MASK,
    RAW_KEY_CHARS,
    SECRET_CHARS,
    SECRET_KEY_ID_PREFIX,
    SECRET_PREFIXES,
    SPEND_KEY_ID_PREFIX,
    SPEND_KEY_PREFIX,
    WALLET_KEY_PREFIX,
)

_ALNUM = string.ascii_letters + string.digits


def _alnum(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_spend_key_id() -> str:
    """``sk_`` + 24 alphanumerics (contract)."""
    return SPEND_KEY_ID_PREFIX + _alnum(ID_CHARS)


def new_wallet_id() -> str:
    """``wal_`` + 24 alphanumerics (the contract is silent on wallet ids)."""
    return "wal_" + _alnum(ID_CHARS)


def new_request_id() -> str:
    """``req_`` + 24 alphanumerics, for the gateway's request log."""
    return "req_" + _alnum(ID_CHARS)


def new_raw_key() -> str:
    """``lava_sk_`` + 40 URL-safe characters (contract)."""
    return SPEND_KEY_PREFIX + secrets.token_urlsafe(RAW_KEY_CHARS * 3 // 4)  # 4 chars per 3 bytes


def new_secret(mode: str = "test") -> str:
    """A secret key of a `mode` wallet: ``aks_test_``/``aks_live_`` + 32 alphanumerics."""
    return SECRET_PREFIXES[mode] + _alnum(SECRET_CHARS)


def new_test_secret() -> str:
    """A wallet secret for an emulator started without one: ``aks_test_`` + 32 chars."""
    return new_secret("test")


def new_secret_key_id() -> str:
    """``sec_`` + 24 alphanumerics: a secret key's id (``/v1/secret_keys``)."""
    return SECRET_KEY_ID_PREFIX + _alnum(ID_CHARS)


def new_payment_id() -> str:
    """``pay_`` + 24 alphanumerics: one funding of a wallet; also the confirm page's
    capability, so it is as random as an id gets here (~143 bits)."""
    return PAYMENT_ID_PREFIX + _alnum(ID_CHARS)


def derived_id(prefix: str, wallet_id: str, part: str) -> str:
    """`prefix` + 24 hex digits derived from the wallet and `part`: stable ids of what
    every wallet has built in, so each wallet has its own and nothing needs storing."""
    return prefix + hashlib.sha256(f"{wallet_id}/{part}".encode()).hexdigest()[:ID_CHARS]


def payment_method_id(wallet_id: str, slot: str) -> str:
    """The id of a wallet's built-in card `slot` (``pm_…``)."""
    return derived_id(PAYMENT_METHOD_ID_PREFIX, wallet_id, slot)


def mode_of(secret: str) -> str:
    """``live`` for an ``aks_live_`` secret, ``test`` for anything else."""
    return "live" if secret.startswith(SECRET_PREFIXES["live"]) else "test"


def secret_forms(token: str) -> tuple[str, ...]:
    """The secrets a presented token may be: itself, and for a ``lava_wk_<body>`` wallet
    key also the secrets ``aks_test_<body>`` and ``aks_live_<body>`` it is an alias of.
    (Itself too: an emulator may be started with a ``lava_wk_`` secret.)"""
    if token.startswith(WALLET_KEY_PREFIX):
        body = token.removeprefix(WALLET_KEY_PREFIX)
        return (token, *(prefix + body for prefix in SECRET_PREFIXES.values()))
    return (token,)


def wallet_key(secret: str) -> str:
    """The ``lava_wk_`` alias of an ``aks_`` secret (the same body)."""
    for prefix in SECRET_PREFIXES.values():
        if secret.startswith(prefix):
            return WALLET_KEY_PREFIX + secret.removeprefix(prefix)
    raise ValueError("not an aks_test_/aks_live_ secret")


def secret_hint(secret: str) -> str:
    """The secret's prefix (``aks_test_``, ``aks_live_``, or ``lava_wk_`` for an emulator
    started with one), ``****`` and its last 4 characters: enough to tell keys apart,
    nothing to guess with."""
    prefixes = (*SECRET_PREFIXES.values(), WALLET_KEY_PREFIX)
    prefix = next((p for p in prefixes if secret.startswith(p)), "")
    return prefix + HINT_MASK + secret[-HINT_CHARS:]


def hash_secret(raw: str) -> str:
    """Hex SHA-256 of a raw key or wallet secret: the only form the database keeps."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def key_preview(raw: str) -> str:
    """``lava_sk_`` + the first 8 characters after the prefix + ``****``."""
    body = raw.removeprefix(SPEND_KEY_PREFIX)
    return SPEND_KEY_PREFIX + body[:PREVIEW_CHARS] + PREVIEW_MASK
