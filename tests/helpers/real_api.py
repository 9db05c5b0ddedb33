"""Opt-in settings for running the contract tests (tests/contract) against a real Lava
endpoint instead of only the emulator.

    LAVA_TEST_BASE_URL      the API, e.g. https://sandbox-api.lavapayments.com/v1
    LAVA_TEST_SECRET_KEY    a merchant secret for that API (aks_test_… for the sandbox)
    LAVA_TEST_SPEND_BUDGET  optional: dollars the run may spend on gateway prompts, e.g.
                            0.05. Unset: no prompt is sent. The prompting key is created
                            with this as its total spend limit, so Lava itself holds it.
    LAVA_TEST_MODEL         optional: the model for that prompt (default gpt-4o-mini)

Read once at import: the autouse `isolated` fixture clears every LAVA_* variable before
each test, and the CLI under test must not see these (it reads LAVA_SECRET_KEY and
LAVA_BASE_URL, set per test). Children started by tests never get them either
(tests/helpers/env.py drops LAVA_*).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

BASE_URL = os.environ.get("LAVA_TEST_BASE_URL", "").strip()
SECRET_KEY = os.environ.get("LAVA_TEST_SECRET_KEY", "").strip()
MODEL = os.environ.get("LAVA_TEST_MODEL", "").strip() or "gpt-4o-mini"
_BUDGET = os.environ.get("LAVA_TEST_SPEND_BUDGET", "").strip()

SKIP_REASON = (
    "no real Lava endpoint: set LAVA_TEST_BASE_URL and LAVA_TEST_SECRET_KEY to run the "
    "contract against one (tests/helpers/real_api.py)"
)
# Every key a run makes is named RUN_PREFIX + something: unique per run, so two runs
# (or a person's own keys) in the same wallet never meet, and cleanup touches only ours.
RUN_PREFIX = f"lava-cli-test-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(3)}-"


def spend_budget() -> Decimal | None:
    """LAVA_TEST_SPEND_BUDGET as dollars (None: unset, so no prompt is sent)."""
    if not _BUDGET:
        return None
    try:
        budget = Decimal(_BUDGET)
    except InvalidOperation:
        raise ValueError(
            f"LAVA_TEST_SPEND_BUDGET={_BUDGET!r} is not an amount of dollars"
        ) from None
    if not budget.is_finite() or budget <= 0:
        raise ValueError(f"LAVA_TEST_SPEND_BUDGET={_BUDGET!r} must be more than 0")
    return budget


def configured() -> bool:
    return bool(BASE_URL and SECRET_KEY)


@dataclass(frozen=True)
class Endpoint:
    """Where a contract test runs: the emulator, or the real endpoint configured above."""

    name: str  # "emulator" or "real"
    base_url: str
    secret: str = field(repr=False)  # never in a failure report
    spend_budget: Decimal | None  # dollars a test may spend on prompts (None: none)
    model: str
