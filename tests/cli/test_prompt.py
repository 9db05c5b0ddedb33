"""`lava prompt` and `lava models` end to end through the emulator's gateway."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_lava


def make_key(*args: str) -> dict:
    result = run_lava("keys", "create", "--json", *args)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def spend_key(logged_in, monkeypatch):
    key = make_key("--name", "p")
    monkeypatch.setenv("LAVA_SPEND_KEY", key["key"])
    return key


def test_prompt_streams_the_reply_with_a_newline(spend_key):
    result = run_lava("prompt", "hello there", "--usage")
    assert result.code == 0, result.output
    assert result.stdout.endswith("\n") and len(result.stdout.strip()) > 0
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("gpt-4o-mini · ")
    assert " in / " in line and "out tokens" in line and "$0.0" in line


def test_same_prompt_same_reply_streamed_or_not(spend_key):
    streamed = run_lava("prompt", "deterministic please")
    whole = run_lava("prompt", "deterministic please", "--no-stream")
    assert streamed.code == whole.code == 0
    assert streamed.stdout == whole.stdout


def test_stdin_is_appended_as_context(spend_key):
    alone = run_lava("prompt", "summarise").stdout
    both = run_lava("prompt", "summarise", input="a long document\n").stdout
    piped = run_lava("prompt", input="a long document\n")
    assert piped.code == 0
    assert alone != both  # the context changed the (deterministic) reply
    assert run_lava("prompt").code == 2  # nothing to send


def test_prompt_json_has_usage_and_cost(spend_key):
    result = run_lava("prompt", "hi", "--json", "--max-tokens", "5")
    assert result.code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "gpt-4o-mini"
    assert data["usage"]["output_tokens"] <= 5
    assert data["usage"]["input_tokens"] > 0
    assert float(data["cost"]) > 0
    assert data["response"]["object"] == "chat.completion"
    assert data["text"] == data["response"]["choices"][0]["message"]["content"]


def test_anthropic_shape_from_a_saved_key(logged_in):
    assert (
        run_lava("keys", "create", "--name", "claude", "--shape", "anthropic", "--save").code == 0
    )
    result = run_lava("prompt", "hello", "--key", "claude", "--json")
    assert result.code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "claude-haiku-4-5"
    assert data["response"]["type"] == "message"
    streamed = run_lava("prompt", "hello", "--key", "claude", "--usage")
    assert streamed.code == 0
    assert "key $0.0" in streamed.stderr  # the key's spend, since the secret is at hand


@pytest.mark.parametrize("shape", ["Anthropic", " ANTHROPIC "])
def test_the_shape_is_read_in_any_case(logged_in, shape):
    assert run_lava("keys", "create", "--name", "c", "--shape", shape, "--save").code == 0
    result = run_lava("prompt", "hello", "--key", "c", "--shape", shape, "--json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["response"]["type"] == "message"


def test_revoked_key_is_exit_3_with_advice(spend_key):
    assert run_lava("keys", "revoke", spend_key["spend_key_id"], "--yes").code == 0
    result = run_lava("prompt", "hi")
    assert result.code == 3
    # The wallet has no key with this value's preview any more: said, not guessed at.
    assert "hint: no key of this wallet has this value's preview: it was revoked" in result.stderr


def test_a_preview_in_lava_spend_key_is_caught(logged_in, monkeypatch):
    monkeypatch.setenv("LAVA_SPEND_KEY", "lava_sk_a1b2c3d4****")
    result = run_lava("prompt", "hi")
    assert result.code == 3
    assert "preview" in result.stderr


def test_model_not_allowed_names_the_allowed_models(logged_in):
    make_key("--name", "narrow", "--model", "gpt-4o", "--save")
    result = run_lava("prompt", "hi", "--key", "narrow", "--model", "gpt-4o-mini")
    assert result.code == 5
    assert "gpt-4o" in result.stderr and "this key allows" in result.stderr


def test_wrong_shape_suggests_the_other_shape(spend_key):
    result = run_lava("prompt", "hi", "--shape", "anthropic", "--model", "claude-haiku-4-5")
    assert result.code == 5
    assert "--shape openai" in result.stderr


def test_spend_limit_reached_is_exit_5_with_the_reset(logged_in, monkeypatch):
    key = make_key("--name", "tight", "--spend-limit", "0.01/daily", "--model", "claude-opus-4-6")
    monkeypatch.setenv("LAVA_SPEND_KEY", key["key"])
    codes = []
    for _ in range(40):
        result = run_lava("prompt", "x " * 400, "--model", "claude-opus-4-6", "--no-stream")
        codes.append(result.code)
        if result.code:
            break
    assert codes[-1] == 5, result.output
    assert "spend limit" in result.stderr.lower()
    assert "UTC" in result.stderr or "reset" in result.stderr.lower()


def test_rate_limit_is_exit_5_with_retry_advice(logged_in, monkeypatch):
    key = make_key("--name", "slow", "--rate-limit", "1/1")
    monkeypatch.setenv("LAVA_SPEND_KEY", key["key"])
    assert run_lava("prompt", "one").code == 0
    result = run_lava("prompt", "two")
    assert result.code == 5
    assert "retry after" in result.stderr


def test_auto_provisions_one_key_and_reuses_it(logged_in, memory_keyring):
    first = run_lava("prompt", "hi")
    assert first.code == 0, first.output
    assert "Created spend key 'lava-cli'" in first.stderr
    second = run_lava("prompt", "again")
    assert second.code == 0 and "Created" not in second.stderr
    keys = json.loads(run_lava("keys", "list", "--json").stdout)
    assert [k["name"] for k in keys] == ["lava-cli"]
    assert any(user.startswith("spend_key:") for _, user in memory_keyring.entries)


def test_no_secret_and_no_key_is_exit_3(emulator, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    result = run_lava("prompt", "hi")
    assert result.code == 3
    assert "LAVA_SPEND_KEY" in result.stderr


def test_models_table_json_and_key_filter(logged_in):
    listed = json.loads(run_lava("models", "--json").stdout)
    providers = {row["provider"] for row in listed}
    assert {"openai", "anthropic", "google"} <= providers
    assert all(row["input_per_1m"] is not None for row in listed)
    only = json.loads(run_lava("models", "--provider", "anthropic", "--json").stdout)
    assert only and {row["provider"] for row in only} == {"anthropic"}
    make_key("--name", "narrow", "--model", "gpt-4o", "--save")
    narrow = json.loads(run_lava("models", "--key", "narrow", "--json").stdout)
    assert [row["id"] for row in narrow] == ["gpt-4o"]
    table = run_lava("models").stdout
    assert "gpt-4o\topenai\t$" in table


def test_models_prices_are_the_catalogues_exact_decimals(logged_in):
    listed = {row["id"]: row for row in json.loads(run_lava("models", "--json").stdout)}
    mini = listed["gpt-4o-mini"]
    assert (mini["provider"], mini["input_per_1m"], mini["output_per_1m"]) == (
        "openai",
        "0.15",
        "0.6",
    )


def test_models_without_a_secret_logs_its_requests_with_verbose(emulator, monkeypatch):
    # The public endpoints need no login; --verbose must show them all the same.
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    result = run_lava("--verbose", "models", "--json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout)
    assert f"> GET {emulator.base_url}/models" in result.stderr
    assert f"> GET {emulator.base_url}/services" in result.stderr


@pytest.mark.parametrize("model", ["", " "])
def test_an_empty_model_is_refused_before_a_key_is_made(logged_in, memory_keyring, model):
    # Without a saved key, `prompt` creates one: a usage error must come before that.
    result = run_lava("prompt", "hi", "--model", model)
    assert result.code == 2, result.output
    assert "--model cannot be empty" in result.stderr
    assert json.loads(run_lava("keys", "list", "--json").stdout) == []
