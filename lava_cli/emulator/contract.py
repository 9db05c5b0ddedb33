"""The emulator's reading of Lava's API contract (docs/lava-api.md), as constants.

Every number and name that the emulator's checks (validation.py, paging.py,
limits.py), its answers (app.py, store.py) and its OpenAPI document (openapi.py)
share lives here once, so changing one cannot leave another behind. "[ours]" marks
choices where Lava's documentation is silent (the client makes the same ones).

Kept apart from the client's own reading on purpose: the emulator is the independent
oracle the client is tested against over HTTP, so it imports nothing of the client
but ``lava_cli.errors``.
"""

from __future__ import annotations

from lava_cli import contract as calendar

# --- identifiers -----------------------------------------------------------------------

SPEND_KEY_ID_PREFIX = "sk_"
ID_CHARS = 24  # alphanumerics after an id's prefix: sk_…, and [ours] wal_…, req_…
SPEND_KEY_PREFIX = "lava_sk_"
RAW_KEY_CHARS = 40  # URL-safe characters after the prefix
PREVIEW_CHARS = 8  # key_preview: the prefix, this many characters, then PREVIEW_MASK
PREVIEW_MASK = "****"

# --- spend keys ------------------------------------------------------------------------

MAX_KEYS_PER_WALLET = 10  # revoked keys do not count [ours]

# What a client may set (the create body; PUT changes any subset [ours]), in the
# order the SpendKey object lists them.
SETTINGS_FIELDS = (
    "name",
    "status",
    "request_shape",
    "allowed_models",
    "allowed_providers",
    "spend_limit",
    "request_limit",
    "rate_limit",
    "expires_at",
)
ACTIVE, PAUSED = "active", "paused"
STATUSES = (ACTIVE, PAUSED)  # what a client may set; the default is the first
REVOKED = "revoked"  # a deleted key's status: it vanishes from the API [ours]
SHAPES = ("openai", "anthropic")  # request_shape; the default is the first
SHAPE_ENDPOINTS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}
CYCLES = calendar.CYCLES  # calendar-aligned in UTC [ours]; the one calendar both sides use
TOTAL = "total"  # the cycle that never resets

MAX_NAME = 255  # a key's name, and each allow-list entry
MAX_LIST_ITEMS = 100  # entries in an allow-list [ours]
MAX_COUNT = 5_000_000  # request_limit.count, rate_limit.rpm and .burst [ours]
# A spend limit: a decimal string, at most 12 digits before the point and
# AMOUNT_DECIMALS after it [ours]. [0-9], not \d: in Python \d matches every Unicode
# digit, so "١٠٠" would be $100.
AMOUNT_DECIMALS = 2
AMOUNT_PATTERN = rf"[0-9]{{1,12}}(\.[0-9]{{1,{AMOUNT_DECIMALS}}})?"

# --- amounts in answers ----------------------------------------------------------------

# Every amount the API writes is a decimal string with this many decimals at least and
# at most (money.py): costs are whole micro-dollars.
MONEY_MIN_DECIMALS = 2
MONEY_MAX_DECIMALS = 6

# --- lists -----------------------------------------------------------------------------

DEFAULT_PAGE = 10  # ?limit= when absent
MAX_PAGE = 100  # ?limit= at most
