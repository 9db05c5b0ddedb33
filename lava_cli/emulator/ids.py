"""Identifiers and secrets minted by the emulator, and how raw keys are kept.

Everything random comes from `secrets`. Raw spend keys and wallet secrets are never
stored: only their SHA-256 (a fast hash is enough for 240 bits of randomness; there
is nothing to brute-force) plus a short preview for display.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from lava_cli.emulator.contract import (
    ID_CHARS,
    PREVIEW_CHARS,
    PREVIEW_MASK,
    RAW_KEY_CHARS,
    SPEND_KEY_ID_PREFIX,
    SPEND_KEY_PREFIX,
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


def new_test_secret() -> str:
    """A wallet secret for an emulator started without one: ``aks_test_`` + 32 chars."""
    return "aks_test_" + _alnum(32)


def hash_secret(raw: str) -> str:
    """Hex SHA-256 of a raw key or wallet secret: the only form the database keeps."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def key_preview(raw: str) -> str:
    """``lava_sk_`` + the first 8 characters after the prefix + ``****``."""
    body = raw.removeprefix(SPEND_KEY_PREFIX)
    return SPEND_KEY_PREFIX + body[:PREVIEW_CHARS] + PREVIEW_MASK
