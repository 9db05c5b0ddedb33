"""The profile's default key (`lava keys default`, the marker in `keys list`, `lava env`
using it, nothing emitted for `eval` without one), the spend limit of the keys lava
creates itself, the key named in gateway errors, and `prompt`'s default model. End to
end against the emulator."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_lava


def create(*args: str) -> dict:
    result = run_lava("keys", "create", "--json", *args)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def listed() -> dict[str, dict]:
    return {k["name"]: k for k in json.loads(run_lava("keys", "list", "--json").stdout)}


def test_keys_default_sets_and_prints_the_default(logged_in):
    first = create("--name", "first", "--save")
    second = create("--name", "second", "--save", "--shape", "anthropic")
    shown = run_lava("keys", "default")
    assert shown.code == 0, shown.output
    assert shown.stdout == f"{first['spend_key_id']}\tfirst\topenai\n"  # the first saved
    assert run_lava("keys", "default", "second").code == 0
    assert run_lava("keys", "default", "-q").stdout == second["spend_key_id"] + "\n"
    as_json = json.loads(run_lava("keys", "default", "--json").stdout)
    assert as_json["name"] == "second" and as_json["request_shape"] == "anthropic"
    assert as_json["auto_key_limit"] == {"amount": "10.00", "cycle": "monthly"}
    by_preview = run_lava("keys", "default", first["key_preview"].removesuffix("****"))
    assert by_preview.code == 0, by_preview.output
    assert by_preview.stdout.startswith(first["spend_key_id"])


def test_keys_default_refuses_a_key_not_saved_here_and_says_when_there_is_none(logged_in):
    none = run_lava("keys", "default")
    assert none.code == 4 and none.stdout == ""
    assert "has no default key" in none.stderr
    create("--name", "remote")  # on the server, its value not saved here
    refused = run_lava("keys", "default", "remote")
    assert refused.code == 4
    assert "is not a key saved in profile 'default'" in refused.stderr
    assert "--save" in refused.stderr


def test_keys_list_marks_the_default(logged_in, monkeypatch):
    create("--name", "one", "--save")
    create("--name", "two", "--save")
    run_lava("keys", "default", "two")
    rows = {r.split("\t")[1]: r.split("\t") for r in run_lava("keys", "list").stdout.splitlines()}
    assert rows["two"][-1] == "default" and rows["one"][-1] == "-"
    monkeypatch.setenv("NO_COLOR", "1")
    table = run_lava("keys", "list", tty=True).stdout.splitlines()
    marked = [line for line in table[:-1] if line.startswith("*")]
    assert len(marked) == 1 and " two " in marked[0]
    assert table[-1].startswith("* the default key")
    api_objects = json.loads(run_lava("keys", "list", "--json").stdout)
    assert all("default" not in k for k in api_objects)  # --json stays the API's objects


def test_env_uses_the_default_saved_key(logged_in):
    key = create("--name", "claude", "--shape", "anthropic", "--save")
    result = run_lava("env", "claude-code", "--shell", "bash")
    assert result.code == 0, result.output
    assert f"export ANTHROPIC_AUTH_TOKEN='{key['key']}'" in result.stdout.splitlines()


def test_env_without_any_key_prints_nothing_for_eval(logged_in, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-the-users-own")
    result = run_lava("env", "claude-code", "--shell", "bash")
    assert result.code == 3, result.output
    assert result.stdout == ""  # no placeholder, no `unset ANTHROPIC_API_KEY`
    assert "no spend key for Claude Code: nothing was printed" in result.stderr
    assert "an anthropic-shape key" in result.stderr  # not "a anthropic"


def test_env_without_a_key_on_a_terminal_shows_a_plain_placeholder_and_fails(logged_in):
    result = run_lava("env", "openai-sdk", tty=True)
    assert result.code == 3
    assert "REPLACE_WITH_YOUR_LAVA_SPEND_KEY" in result.stdout
    assert "lava_sk_" not in result.stdout  # nothing that looks like a key
    assert "the settings above hold a placeholder" in result.stderr


def test_env_refuses_a_default_key_of_the_wrong_shape_naming_a_fitting_one(logged_in):
    create("--name", "oai", "--save")  # the default: openai shape
    create("--name", "claude", "--shape", "anthropic", "--save")
    result = run_lava("env", "claude-code")
    assert result.code == 2 and result.stdout == ""
    assert "the profile's default key 'oai' is openai" in result.stderr
    assert "--key claude" in result.stderr


def test_env_create_takes_limit_flags_and_states_the_default_limit(logged_in):
    plain = run_lava("env", "openai-sdk", "--create", "--shell", "bash")
    assert plain.code == 0, plain.output
    assert "It has a spend limit of $10.00 monthly (the default)" in plain.stderr
    made = listed()["openai-sdk"]
    assert made["spend_limit"] == {"amount": "10.00", "cycle": "monthly"}
    assert made["expires_at"] is None
    limited = run_lava(
        "env", "claude-code", "--create", "--spend-limit", "3/daily", "--request-limit",
        "100/daily", "--rate-limit", "10", "--expires-in", "7d", "--allow-model",
        "claude-haiku-4-5", "--shell", "bash",
    )  # fmt: skip
    assert limited.code == 0, limited.output
    assert "It has a spend limit of $3.00 daily." in limited.stderr
    key = listed()["claude-code"]
    assert key["spend_limit"] == {"amount": "3.00", "cycle": "daily"}
    assert key["request_limit"] == {"count": 100, "cycle": "daily"}
    assert key["rate_limit"]["rpm"] == 10 and key["expires_at"] is not None
    assert key["allowed_models"] == ["claude-haiku-4-5"]


def test_limit_flags_without_create_are_a_usage_error(logged_in):
    result = run_lava("env", "openai-sdk", "--spend-limit", "5/daily")
    assert result.code == 2 and "needs --create" in result.stderr
    bad = run_lava("env", "openai-sdk", "--create", "--spend-limit", "5")
    assert bad.code == 2 and "--spend-limit needs a cycle" in bad.stderr
    assert listed() == {}


def test_the_auto_limit_comes_from_the_env_then_the_profile(logged_in, monkeypatch):
    assert run_lava("keys", "default", "--auto-limit", "2/weekly").code == 0
    assert run_lava("prompt", "hi").code == 0
    assert listed()["lava-cli"]["spend_limit"] == {"amount": "2.00", "cycle": "weekly"}
    monkeypatch.setenv("LAVA_AUTO_KEY_LIMIT", "none")
    made = run_lava("env", "openai-sdk", "--create", "--shell", "bash")
    assert made.code == 0 and "It has no spend limit (from LAVA_AUTO_KEY_LIMIT)" in made.stderr
    assert listed()["openai-sdk"]["spend_limit"] is None
    monkeypatch.setenv("LAVA_AUTO_KEY_LIMIT", "lots")
    bad = run_lava("env", "langchain", "--create")
    assert bad.code == 2 and bad.stderr.startswith("error: LAVA_AUTO_KEY_LIMIT needs a cycle")
    assert run_lava("keys", "default", "--auto-limit", "x/daily").code == 2


def test_prompt_provisions_a_limited_key_with_a_free_name(logged_in):
    create("--name", "lava-cli")  # another machine's key
    first = run_lava("prompt", "hi")
    assert first.code == 0, first.output
    assert "Created spend key 'lava-cli-2'" in first.stderr
    assert "It has a spend limit of $10.00 monthly (the default)" in first.stderr
    keys = listed()
    assert keys["lava-cli-2"]["spend_limit"] == {"amount": "10.00", "cycle": "monthly"}
    assert run_lava("keys", "show", "lava-cli").code == 0  # both names still resolve


def test_prompt_picks_a_model_the_key_allows(logged_in):
    create("--name", "narrow", "--model", "gpt-4o", "--save")
    result = run_lava("prompt", "hi", "--usage")
    assert result.code == 0, result.output
    assert "does not allow gpt-4o-mini: using gpt-4o" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("gpt-4o · ")
    anthropic = create("--name", "claude", "--shape", "anthropic", "--save")
    run_lava("keys", "update", "claude", "--provider", "anthropic", "--model", "claude-opus-4-6")
    chosen = run_lava("prompt", "hi", "--key", "claude", "--usage")
    assert chosen.code == 0, chosen.output
    assert "using claude-opus-4-6" in chosen.stderr
    assert anthropic["key"] not in chosen.output
    asked = run_lava("prompt", "hi", "--model", "gpt-4o-mini")  # asked for: not replaced
    assert asked.code == 5 and "Model not allowed" in asked.stderr


@pytest.mark.parametrize(
    ("how", "named"),
    [
        ("--key", "key 'paused' ({id}, from --key)"),
        ("default", "key 'paused' ({id}, the profile's default key)"),
        ("env", "the key in LAVA_SPEND_KEY ({preview})"),
    ],
)
def test_gateway_errors_name_the_key_used(logged_in, monkeypatch, how, named):
    key = create("--name", "paused", "--save")
    run_lava("keys", "pause", "paused")
    args = ["prompt", "hi"]
    if how == "--key":
        args += ["--key", "paused"]
    elif how == "env":
        monkeypatch.setenv("LAVA_SPEND_KEY", key["key"])
    result = run_lava(*args)
    assert result.code == 5, result.output  # a paused key is a policy refusal
    error = result.stderr.splitlines()[0]
    expected = named.format(id=key["spend_key_id"], preview=key["key_preview"])
    assert error.endswith(f"; sent with {expected}"), error
    assert key["key"] not in result.output
