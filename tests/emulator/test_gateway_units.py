"""The gateway's pure parts: tokenizer and replies, cost, checks, token bucket, faults."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from lava_cli.emulator import wire
from lava_cli.emulator.catalogue import get_model, price
from lava_cli.emulator.faults import FaultRule, Faults, parse_fault
from lava_cli.emulator.limits import (
    TokenBuckets,
    check_allowed,
    check_key_state,
    check_request_limit,
    check_shape,
    check_spend_limit,
)
from lava_cli.emulator.money import decimal_text
from lava_cli.emulator.replies import count_input_tokens, count_tokens, make_reply

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)


def test_tokenizer_counts_words_and_symbols() -> None:
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("  ") == 0
    assert count_tokens("don't") == 3


def test_input_tokens_count_system_and_text_parts_only() -> None:
    messages = [
        {"role": "user", "content": "one two"},
        {"role": "assistant", "content": [{"type": "text", "text": "three"}]},
    ]
    assert count_input_tokens("sys tem", messages) == 5
    assert count_input_tokens(None, [{"role": "user", "content": ""}]) == 1


@pytest.mark.parametrize("max_tokens", [1, 2, 5, 63, 64, 65, 500, None])
def test_reply_is_deterministic_and_counts_its_own_tokens(max_tokens: int | None) -> None:
    reply = make_reply("gpt-4o", ["user: hi"], max_tokens)
    assert reply == make_reply("gpt-4o", ["user: hi"], max_tokens)
    assert count_tokens(reply.text) == reply.output_tokens == min(max_tokens or 64, 64)
    assert reply.truncated == (max_tokens is not None and max_tokens < 64)


def test_reply_depends_on_prompt_and_model() -> None:
    a = make_reply("gpt-4o", ["user: hi"], None).text
    assert a != make_reply("gpt-4o", ["user: ho"], None).text
    assert a != make_reply("gpt-4.1", ["user: hi"], None).text


def test_long_reply_follows_reply_tokens() -> None:
    reply = make_reply("m", ["x"], 20_000, reply_tokens=20_000)
    assert reply.output_tokens == 20_000 and not reply.truncated


def test_cost_is_exact_and_rounded_to_micro_dollars() -> None:
    gpt_4o, gpt_4o_mini = get_model("gpt-4o"), get_model("gpt-4o-mini")  # $2.50/$10, $0.15/$0.60
    assert gpt_4o is not None and gpt_4o_mini is not None
    assert price(gpt_4o, 1000, 1000).total == Decimal("0.0125")
    # 0.0000015 rounds half-up to 0.000002
    assert price(gpt_4o_mini, 10, 0).total == Decimal("0.000002")


def test_decimal_text_has_two_to_six_decimals() -> None:
    assert decimal_text(1_500_000) == "1.50"
    assert decimal_text(123) == "0.000123"
    assert decimal_text(0) == "0.00"


def test_key_state_refusals_are_401() -> None:
    assert check_key_state(None, None, NOW).status == 401  # type: ignore[union-attr]
    paused = check_key_state("paused", None, NOW)
    assert paused is not None and "paused" in paused.message
    expired = check_key_state("active", NOW, NOW)
    assert expired is not None and expired.code == "invalid_api_key"
    assert check_key_state("active", NOW + timedelta(seconds=1), NOW) is None


def test_shape_refusal_names_both_endpoints() -> None:
    refusal = check_shape("anthropic", "openai")
    assert refusal is not None and refusal.status == 403
    assert refusal.code == "wrong_request_shape"
    assert "/v1/messages" in refusal.message and "anthropic" in refusal.message
    assert check_shape("openai", "openai") is None


def test_allow_lists() -> None:
    assert check_allowed("gpt-4o", "openai", None, None) is None
    model = check_allowed("gpt-4o", "openai", ["gpt-4o-mini"], None)
    assert model is not None and model.code == "model_not_allowed"
    provider = check_allowed("gpt-4o", "openai", None, ["anthropic"])
    assert provider is not None and provider.code == "provider_not_allowed"


def test_request_limit_retry_after_points_at_reset() -> None:
    reset = NOW + timedelta(hours=12)
    assert check_request_limit(3, "daily", 2, reset, NOW) is None
    refusal = check_request_limit(3, "daily", 3, reset, NOW)
    assert refusal is not None and refusal.status == 429
    assert refusal.retry_after == 12 * 3600
    assert "2025-01-16T00:00:00Z" in refusal.message
    total = check_request_limit(3, "total", 3, None, NOW)
    assert total is not None and total.retry_after is None and "never" in total.message


def test_spend_limit_accepts_exactly_up_to_the_limit() -> None:
    limit = Decimal("1.00")
    assert check_spend_limit(limit, "daily", Decimal("0.97"), Decimal("0.03"), None) is None
    refusal = check_spend_limit(limit, "monthly", Decimal("0.98"), Decimal("0.03"), NOW)
    assert refusal is not None and refusal.status == 402
    assert refusal.code == "spend_limit_exceeded"
    assert "$1.00" in refusal.message and "2025-01-15T12:00:00Z" in refusal.message


def test_token_bucket_burst_then_refill_at_rpm() -> None:
    buckets = TokenBuckets()
    assert buckets.take("k", 60, 2, NOW) is None
    assert buckets.take("k", 60, 2, NOW) is None
    refusal = buckets.take("k", 60, 2, NOW)
    assert refusal is not None and refusal.retry_after == 1
    assert buckets.take("k", 60, 2, NOW + timedelta(seconds=1)) is None
    # capacity is rpm when burst is None; refill never exceeds capacity
    later = NOW + timedelta(hours=1)
    assert all(buckets.take("j", 3, None, later) is None for _ in range(3))
    slow = buckets.take("j", 3, None, later)
    assert slow is not None and slow.retry_after == 20


def test_parse_fault() -> None:
    assert parse_fault("500") == FaultRule("500", 1.0)
    assert parse_fault("drop-mid-stream:0.25") == FaultRule("drop-mid-stream", 0.25)
    with pytest.raises(ValueError, match="unknown fault kind"):
        parse_fault("503")
    with pytest.raises(ValueError, match="not a number"):
        parse_fault("500:often")
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_fault("429:1.5")


def test_fault_rolls_are_seeded() -> None:
    rolls = [Faults(["500:0.5"], seed=7).roll("500") for _ in range(1)]
    a = Faults(["500:0.5"], seed=7)
    b = Faults(["500:0.5"], seed=7)
    assert [a.roll("500") for _ in range(50)] == [b.roll("500") for _ in range(50)]
    assert rolls and not Faults([]) and not Faults(["500:0"]).roll("500")


def test_request_validation_names_the_field() -> None:
    with pytest.raises(wire.InvalidRequest, match="model"):
        wire.parse_openai_request({"messages": [{"role": "user", "content": "x"}]})
    with pytest.raises(wire.InvalidRequest, match="messages"):
        wire.parse_openai_request({"model": "gpt-4o", "messages": "hi"})
    with pytest.raises(wire.InvalidRequest, match="max_tokens"):
        wire.parse_anthropic_request({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    with pytest.raises(wire.InvalidRequest, match=r"messages\[0\].role"):
        wire.parse_anthropic_request(
            {"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}
        )
    ok = wire.parse_openai_request(
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "x"}],
            "max_completion_tokens": 7,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    assert ok.max_tokens == 7 and ok.stream and ok.include_usage
