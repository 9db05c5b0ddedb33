"""The documented contract end to end, through the CLI: what a user's session does.

Each test runs twice (tests/contract/conftest.py): against the emulator, always, and
against a real Lava endpoint when one is configured (marked `real_api`, skipped here):

    LAVA_TEST_BASE_URL=https://sandbox-api.lavapayments.com/v1 \\
    LAVA_TEST_SECRET_KEY=aks_test_… [LAVA_TEST_SPEND_BUDGET=0.05] pytest -m real_api

Keys are named with a prefix unique to the run and revoked afterwards, pass or fail.
Assertions stay inside what docs/lava-api.md says Lava does (amounts compared as
numbers, not strings; no emulator-only endpoint or field).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import run_lava
from tests.helpers import real_api
from tests.helpers.real_api import Endpoint

RAW_KEY_PREFIX = "lava_sk_"


def amount(limit: dict[str, Any] | None) -> Decimal | None:
    return None if limit is None else Decimal(str(limit["amount"]))


def by_name(lava: Any, name: str) -> dict[str, Any] | None:
    return next((k for k in lava.ok("keys", "list") if k["name"] == name), None)


def test_create_with_limits_then_list_and_show(lava):
    name = lava.name("limits")
    made = lava.ok(
        "keys", "create", "--name", name, "--spend-limit", "5/monthly",
        "--request-limit", "100/daily", "--rate-limit", "60/10", "--expires-in", "2h",
    )  # fmt: skip
    assert made["key"].startswith(RAW_KEY_PREFIX)  # the raw value, shown once
    assert made["name"] == name and made["status"] == "active"
    key_id = made["spend_key_id"]

    listed = by_name(lava, name)
    assert listed is not None and listed["spend_key_id"] == key_id
    assert "key" not in listed  # never the raw value again

    shown = lava.ok("keys", "show", key_id)
    assert "key" not in shown
    assert made["key"] not in lava("keys", "show", name).output
    assert amount(shown["spend_limit"]) == Decimal(5)
    assert shown["spend_limit"]["cycle"] == "monthly"
    assert shown["request_limit"] == {"count": 100, "cycle": "daily"}
    assert shown["rate_limit"]["rpm"] == 60 and shown["rate_limit"]["burst"] == 10
    assert shown["expires_at"]


def test_update_then_pause_and_resume(lava):
    name, renamed = lava.name("update"), lava.name("renamed")
    key_id = lava.ok("keys", "create", "--name", name)["spend_key_id"]

    updated = lava.ok("keys", "update", key_id, "--name", renamed, "--spend-limit", "2.50/total")
    assert updated["name"] == renamed
    assert amount(updated["spend_limit"]) == Decimal("2.50")
    assert updated["spend_limit"]["cycle"] == "total"

    assert lava.ok("keys", "pause", renamed)["status"] == "paused"
    assert lava.ok("keys", "show", key_id)["status"] == "paused"
    assert lava("keys", "check", renamed).code == 5  # paused: the CI gate says no
    assert lava.ok("keys", "resume", renamed)["status"] == "active"
    assert lava.ok("keys", "show", key_id)["status"] == "active"


def test_rotate_gives_a_new_value_and_keeps_the_settings(lava):
    name = lava.name("rotate")
    made = lava.ok("keys", "create", "--name", name, "--spend-limit", "3/weekly")
    rotated = lava.ok("keys", "rotate", made["spend_key_id"])
    assert rotated["key"].startswith(RAW_KEY_PREFIX) and rotated["key"] != made["key"]
    assert rotated["spend_key_id"] == made["spend_key_id"]
    assert rotated["key_preview"] != made["key_preview"]
    assert amount(rotated["spend_limit"]) == Decimal(3)  # settings kept


def test_keys_check_gates_on_budget_and_requests(lava):
    name = lava.name("check")
    lava.ok("keys", "create", "--name", name, "--spend-limit", "5/monthly")
    verdict = lava.ok("keys", "check", name)
    assert verdict["ok"] is True and Decimal(verdict["remaining"]) == Decimal(5)
    short = lava("keys", "check", name, "--min-remaining", "10")
    assert short.code == 5, short.output
    assert short.stderr.startswith("error: ")


def test_revoke_makes_the_key_vanish(lava):
    name = lava.name("revoke")
    key_id = lava.ok("keys", "create", "--name", name)["spend_key_id"]
    assert lava("keys", "revoke", key_id, "--yes").code == 0
    assert lava("keys", "show", key_id).code == 4
    assert by_name(lava, name) is None


def test_a_prompt_within_the_spend_budget(lava):
    budget = lava.endpoint.spend_budget
    if budget is None:
        pytest.skip("no LAVA_TEST_SPEND_BUDGET: this run may not spend on a prompt")
    name = lava.name("prompt")
    made = lava.ok(
        "keys", "create", "--name", name, "--spend-limit", f"{budget}/total",
        "--request-limit", "2/total", "--model", lava.endpoint.model,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAVA_SPEND_KEY", made["key"])
        reply = lava(
            "prompt", "Reply with the single word: ok", "--model", lava.endpoint.model,
            "--max-tokens", "5", "--no-stream",
        )  # fmt: skip
    assert reply.code == 0, reply.output
    assert reply.stdout.strip()
    # Lava counts the request on the key (dollars "show up afterwards": poll a while).
    deadline = time.monotonic() + 60
    while (shown := lava.ok("keys", "show", made["spend_key_id"]))["total_requests"] < 1:
        assert time.monotonic() < deadline, shown
        time.sleep(1)
    assert Decimal(str(shown["total_spend"])) <= budget


def test_cleanup_revokes_every_key_of_the_run_and_nothing_else(
    emulator, monkeypatch, sweep: Callable[..., list[str]]
):
    """The cleanup the `lava` fixture runs, on the emulator: a key of another run (or
    the user's own) in the same wallet is never touched."""
    monkeypatch.setenv("LAVA_SECRET_KEY", emulator.secrets[0])
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    for name in (f"{real_api.RUN_PREFIX}a", f"{real_api.RUN_PREFIX}b", "someone-elses"):
        assert run_lava("keys", "create", "--name", name, "-q").code == 0
    endpoint = Endpoint("emulator", emulator.base_url, emulator.secrets[0], None, "m")
    assert len(sweep(endpoint)) == 2
    left = run_lava("keys", "list", "-q").stdout.split()
    assert len(left) == 1
    assert run_lava("keys", "show", "someone-elses").code == 0
