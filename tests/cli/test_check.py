"""`lava keys check`: the CI gate's exit codes against the emulator's real state."""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
from hypothesis import given
from hypothesis import strategies as st

from lava_cli.emulator.cycles import stored_time
from lava_cli.errors import UsageError
from lava_cli.parsing import parse_share
from tests.conftest import run_lava


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def charge(emulator, key: dict, cost: str, n: int = 1) -> None:
    """Record spend straight in the emulator's ledger (what the gateway does per request)."""
    row = emulator.store.get_key(key["wallet_id"], key["spend_key_id"])
    for _ in range(n):
        emulator.store.record_request(
            row, provider="openai", model="gpt-4o-mini", endpoint="/v1/chat/completions",
            input_tokens=10, output_tokens=10, cost=Decimal(cost),
        )  # fmt: skip


def test_an_active_key_with_budget_passes(logged_in):
    key = create("--name", "ci", "--spend-limit", "5/daily", "--expires-in", "30d")
    result = run_lava("keys", "check", "ci")
    assert result.code == 0, result.output
    assert result.stdout.split("\t")[:3] == ["ok", key["spend_key_id"], "ci"]
    assert "$5.00 left" in result.stdout
    verdict = json.loads(run_lava("keys", "check", key["spend_key_id"], "--json").stdout)
    assert verdict["ok"] is True and verdict["remaining"] == "5.00" and verdict["reasons"] == []


def test_a_key_without_limits_passes(logged_in):
    create("--name", "open")
    result = run_lava("keys", "check", "open", "--min-remaining", "100")
    assert result.code == 0, result.output
    assert "no spend limit" in result.stdout


def test_a_paused_key_exits_5_with_the_reason_and_fix(logged_in):
    key = create("--name", "held", "--paused")
    result = run_lava("keys", "check", "held")
    assert result.code == 5
    assert "the key is paused" in result.stderr
    assert f"lava keys resume {key['spend_key_id']}" in result.stderr


def test_an_expired_key_exits_5(logged_in):
    key = create("--name", "old", "--expires-in", "1h")
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    emulator = logged_in
    emulator.store.update_key(
        key["wallet_id"], key["spend_key_id"], {"expires_at": stored_time(past)}
    )
    result = run_lava("keys", "check", "old", "--json")
    assert result.code == 5
    verdict = json.loads(result.stdout)
    assert verdict["ok"] is False and verdict["codes"] == ["expired"]
    assert "expired" in result.stderr


def test_expires_within_window(logged_in):
    create("--name", "soon", "--expires-in", "2d")
    assert run_lava("keys", "check", "soon", "--expires-within", "1d").code == 0
    late = run_lava("keys", "check", "soon", "--expires-within", "7d")
    assert late.code == 5
    assert "within 7d" in late.stderr


def test_an_exhausted_budget_exits_5(logged_in):
    key = create("--name", "spent", "--spend-limit", "1/monthly")
    charge(logged_in, key, "0.60")
    assert run_lava("keys", "check", "spent").code == 0
    charge(logged_in, key, "0.40")
    result = run_lava("keys", "check", "spent", "--json")
    assert result.code == 5
    verdict = json.loads(result.stdout)
    assert verdict["remaining"] == "0.00" and verdict["codes"] == ["budget"]
    assert "spend limit is used up" in result.stderr and "resets" in result.stderr


def test_min_remaining_is_a_floor(logged_in):
    key = create("--name", "floor", "--spend-limit", "10/total")
    charge(logged_in, key, "7.50")
    assert run_lava("keys", "check", "floor", "--min-remaining", "2.50").code == 0
    result = run_lava("keys", "check", "floor", "--min-remaining", "2.51")
    assert result.code == 5
    assert "$2.50 left of $10.00 total, less than the $2.51 required" in result.stderr
    assert "never resets" in result.stderr


def test_an_exhausted_request_limit_exits_5(logged_in):
    key = create("--name", "counted", "--request-limit", "2/daily")
    charge(logged_in, key, "0.001", n=2)
    result = run_lava("keys", "check", "counted")
    assert result.code == 5
    assert "all 2 daily requests are used" in result.stderr


def test_after_real_gateway_traffic_the_gate_closes(logged_in):
    """A key spent to its limit through the gateway itself fails the check."""
    key = create("--name", "real", "--spend-limit", "0.01/daily")
    url = logged_in.base_url + "/chat/completions"
    headers = {"Authorization": f"Bearer {key['key']}"}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi " * 400}]}
    statuses = []
    with httpx.Client(timeout=10) as http:
        for _ in range(20):
            statuses.append(http.post(url, headers=headers, json=body).status_code)
            if statuses[-1] != 200:
                break
    assert statuses[0] == 200 and statuses[-1] == 402, statuses
    # The gateway refuses the request that would overshoot, so a little may be left:
    # a floor of one more request's worth closes the gate.
    verdict = json.loads(run_lava("keys", "check", "real", "--json").stdout)
    remaining = Decimal(verdict["remaining"])
    assert Decimal(0) <= remaining < Decimal("0.01")
    floor = run_lava("keys", "check", "real", "--min-remaining", "0.01")
    assert floor.code == 5


def test_bad_flags_and_unknown_keys(logged_in):
    create("--name", "k")
    assert run_lava("keys", "check", "k", "--min-remaining", "lots").code == 2
    assert run_lava("keys", "check", "k", "--expires-within", "soon").code == 2
    assert run_lava("keys", "check", "nobody").code == 4


# --- budget alarms: --max-used ----------------------------------------------------------


def test_max_used_on_the_spend_limit(logged_in):
    key = create("--name", "alarm", "--spend-limit", "10/monthly")
    charge(logged_in, key, "7.99")
    assert run_lava("keys", "check", "alarm", "--max-used", "80%").code == 0
    charge(logged_in, key, "0.01")
    for share in ("80%", "0.80"):
        result = run_lava("keys", "check", "alarm", "--max-used", share, "--json")
        assert result.code == 5, result.output
        verdict = json.loads(result.stdout)
        assert verdict["codes"] == ["spend-used"]
        assert (verdict["spend_used"], verdict["max_used"]) == ("0.8000", "0.8000")
        assert verdict["current_spend"] == "8.00"
        assert verdict["spend_limit"] == {"amount": "10.00", "cycle": "monthly"}
        assert "80% of the $10.00 monthly spend limit is used ($8.00)" in result.stderr
        assert "at or over the 80% allowed (resets " in result.stderr
        assert "is past the threshold" in result.stderr  # it can still spend
        assert "--spend-limit AMOUNT/CYCLE" in result.stderr
        assert "--request-limit" not in result.stderr


def test_max_used_on_the_request_limit_through_the_gateway(logged_in):
    key = create("--name", "counted", "--spend-limit", "50/monthly", "--request-limit", "5/daily")
    url = logged_in.base_url + "/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(timeout=10) as http:
        for _ in range(3):
            sent = http.post(url, headers={"Authorization": f"Bearer {key['key']}"}, json=body)
            assert sent.status_code == 200
    assert run_lava("keys", "check", "counted", "--max-used", "61%").code == 0
    result = run_lava("keys", "check", "counted", "--max-used", "60%", "--json")
    assert result.code == 5, result.output
    verdict = json.loads(result.stdout)
    assert verdict["codes"] == ["requests-used"]
    assert verdict["requests_used"] == "0.6000" and verdict["current_requests"] == 3
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d 00:00")
    assert "60% of the 5 daily requests are used (3), at or over the 60% allowed" in (result.stderr)
    assert f"(resets {tomorrow} UTC)" in result.stderr  # the daily limit's own reset
    assert "--request-limit COUNT/CYCLE" in result.stderr
    assert "--spend-limit" not in result.stderr


def test_a_used_up_request_limit_names_the_request_limit_flag(logged_in):
    """#12: the hint said to raise --spend-limit whatever the reason."""
    key = create("--name", "counted", "--spend-limit", "5/monthly", "--request-limit", "2/daily")
    charge(logged_in, key, "0.001", n=2)
    result = run_lava("keys", "check", "counted")
    assert result.code == 5
    assert "all 2 daily requests are used" in result.stderr
    hint = result.stderr.split("hint:", 1)[1]
    assert "--request-limit COUNT/CYCLE" in hint and "--spend-limit" not in hint
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%d 00:00")
    assert f"(resets {tomorrow} UTC)" in result.stderr


def test_both_limits_used_up_name_both_flags(logged_in):
    key = create("--name", "both", "--spend-limit", "1/monthly", "--request-limit", "2/daily")
    charge(logged_in, key, "0.50", n=2)
    result = run_lava("keys", "check", "both")
    assert result.code == 5
    verdict = json.loads(run_lava("keys", "check", "both", "--json").stdout)
    assert verdict["codes"] == ["budget", "requests"]
    assert "--spend-limit AMOUNT/CYCLE --request-limit COUNT/CYCLE" in result.stderr


def test_max_used_passes_a_key_without_limits(logged_in):
    key = create("--name", "open")
    charge(logged_in, key, "100")
    result = run_lava("keys", "check", "open", "--max-used", "1%", "--json")
    assert result.code == 0, result.output
    verdict = json.loads(result.stdout)
    assert verdict["spend_used"] is None and verdict["requests_used"] is None


def test_bad_max_used_values_are_refused(logged_in):
    create("--name", "k")
    for bad in ("80", "0%", "150%", "1.5", "lots", "-5%", "８０%"):
        result = run_lava("keys", "check", "k", "--max-used", bad)
        assert result.code == 2, (bad, result.output)
        assert "--max-used" in result.stderr


@given(st.text(max_size=12))
def test_the_share_parser_only_ever_refuses_with_a_usage_error(text):
    with contextlib.suppress(UsageError):
        assert 0 < parse_share(text, "--max-used") <= 1
