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

# --- secret keys (SDK 11.2's secretKeys) -----------------------------------------------

# A wallet is a test or a live one, as the secret it was started with says; the
# secrets it mints carry its prefix.
MODES = ("test", "live")
SECRET_PREFIXES = {"test": "aks_test_", "live": "aks_live_"}
SECRET_CHARS = 32  # alphanumerics after the prefix [ours]
SECRET_KEY_ID_PREFIX = "sec_"  # noqa: S105 - an id's prefix; + ID_CHARS alphanumerics [ours]
# secret_key_hint: the prefix, HINT_MASK, then the last HINT_CHARS characters [ours]
HINT_MASK = "****"
HINT_CHARS = 4
# `lava_wk_<body>` (the "wallet key" of older Lava pages) is accepted wherever the
# secret `aks_test_<body>` / `aks_live_<body>` is: an alias with the same body [ours].
WALLET_KEY_PREFIX = "lava_wk_"
# Where a secret key came from [ours]: the secrets the emulator was started with are
# listed under STARTED_NAME; a browser login mints one under LOGIN_NAME.
ORIGINS = STARTED, CREATED, LOGIN = ("started", "created", "login")
STARTED_NAME = "started with"
LOGIN_NAME = "lava login --web"

# --- request records (SDK 11.2's RestRequest) ------------------------------------------

REQUEST_STATUSES = PENDING, COMPLETED, ERROR = ("pending", "completed", "error")
PROVIDER_KEY_TYPES = ("managed", "unmanaged", "stored")
# The gateway calls every provider with a key of its own (the offline model needs
# none; a forwarded model uses the operator's LAVA_UPSTREAM_API_KEY), never the
# caller's: Lava calls that "managed" [ours].
GATEWAY_KEY_TYPE = "managed"
RATE_TYPES = ("fixed", "percentage")
TIER_TYPES = ("tokens_1m", "characters_1m", "minutes", "requests")
# A record's charge [ours]: a fixed rate per 1M tokens, one tier for the input tokens
# and one for the output tokens (in that order), amount = cost (no fee on top).
CHARGE_RATE_TYPE = "fixed"
CHARGE_TIER_TYPE = "tokens_1m"

# Who and what a gateway call is for [Lava's cookbook: X-Lava-Metadata-<Key> headers;
# the customer and meter headers are ours]. Header names arrive lower-cased, so a
# metadata key from a header is lower-case.
METADATA_HEADER_PREFIX = "x-lava-metadata-"
CUSTOMER_HEADER = "x-lava-customer-id"
METER_HEADER = "x-lava-meter-id"
# Metadata limits: OpenAI's own for its `metadata` body field, applied to the merged
# metadata of a call [ours].
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_TAG_ID = 255  # a customer or meter id [ours]
MAX_METADATA_FILTERS = 16  # [key, value] pairs in one ?metadata_filters= [ours]

# --- the wallet: payment methods and funding -------------------------------------------

FUND_MIN = "10.00"  # [doc] $10 to $10,000, both included [ours]
FUND_MAX = "10000.00"
FUND_STATUSES = ("completed", "requires_action")
PAYMENT_STATUSES = (*FUND_STATUSES, "failed")  # a payment's life [ours]
PAYMENT_ID_PREFIX = "pay_"
PAYMENT_METHOD_ID_PREFIX = "pm_"
CONFIRM_PATH = "/wallet/confirm/{payment_id}"  # the 3-D Secure stand-in page [ours]
# A retried POST /v1/wallet/fund with the same Idempotency-Key (and body) gets the
# first answer again instead of a second payment, for this long [ours, as Stripe].
IDEMPOTENCY_HEADER = "idempotency-key"
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_TTL_S = 24 * 60 * 60
