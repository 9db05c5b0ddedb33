"""`lava models`: an unknown provider is a usage error, prices show cents at least, and
`--key` lists what one key can call, whatever holds the key. Against the emulator."""

from __future__ import annotations

import json

from tests.conftest import run_lava


def create(*args: str) -> dict:
    result = run_lava("keys", "create", "--json", *args)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def ids(*args: str) -> list[str]:
    result = run_lava("models", "--json", *args)
    assert result.code == 0, result.output
    return [row["id"] for row in json.loads(result.stdout)]


def test_an_unknown_provider_is_exit_2_naming_the_known_ones(logged_in):
    result = run_lava("models", "--provider", "nope")
    assert result.code == 2, result.output
    assert result.stdout == ""
    assert "no provider 'nope'" in result.stderr
    assert "anthropic, deepseek, google, mistral, openai" in result.stderr
    cased = run_lava("models", "--provider", "OpenAI")
    assert cased.code == 2 and "did you mean 'openai'" in cased.stderr


def test_prices_show_two_decimals_at_least(logged_in):
    rows = {r.split("\t")[0]: r.split("\t") for r in run_lava("models").stdout.splitlines()}
    assert rows["claude-haiku-4-5"][2:] == ["$1.00", "$5.00"]  # not $1.0
    assert rows["gpt-4o"][2:] == ["$2.50", "$10.00"]
    assert rows["gpt-4o-mini"][2:] == ["$0.15", "$0.60"]
    assert json.loads(run_lava("models", "--json").stdout)  # --json keeps the API's digits


def test_key_lists_only_what_a_saved_key_can_call(logged_in):
    create("--name", "narrow", "--model", "gpt-4o", "--model", "claude-haiku-4-5", "--save")
    assert ids("--key", "narrow") == ["claude-haiku-4-5", "gpt-4o"]
    create("--name", "claude", "--shape", "anthropic", "--save")
    claude = ids("--key", "claude")  # /v1/messages serves Anthropic models only
    assert claude and all(model.startswith("claude-") for model in claude)


def test_key_takes_a_key_of_the_wallet_not_saved_here(logged_in):
    create("--name", "remote", "--provider", "google")
    assert ids("--key", "remote") == ["gemini-2.5-flash", "gemini-2.5-pro"]


def test_key_takes_the_key_in_lava_spend_key(emulator, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    monkeypatch.setenv("LAVA_SECRET_KEY", emulator.secrets[0])
    key = create("--name", "env", "--model", "deepseek-chat")
    monkeypatch.delenv("LAVA_SECRET_KEY")  # no login: only the spend key itself
    monkeypatch.setenv("LAVA_SPEND_KEY", key["key"])
    assert ids("--key", "LAVA_SPEND_KEY") == ["deepseek-chat"]
    monkeypatch.delenv("LAVA_SPEND_KEY")
    unset = run_lava("models", "--key", "LAVA_SPEND_KEY")
    assert unset.code == 2 and "not set" in unset.stderr
    nowhere = run_lava("models", "--key", "someone")
    assert nowhere.code == 4 and "LAVA_SPEND_KEY" in nowhere.stderr


def test_a_listing_refreshes_the_cached_catalogue(logged_in):
    from lava_cli.ops.catalogue import cached_model_ids

    assert cached_model_ids() == []
    assert run_lava("models").code == 0
    assert "gpt-4o" in cached_model_ids(logged_in.base_url)


def test_a_refused_key_is_named_in_the_error(logged_in, memory_keyring):
    key = create("--name", "gone", "--save")
    # Revoked through the API behind this profile's back: the saved copy stays.
    from lava_cli.api.client import LavaClient

    with LavaClient(logged_in.base_url, logged_in.secrets[0]) as client:
        client.revoke_spend_key(key["spend_key_id"])
    result = run_lava("models", "--key", "gone")
    assert result.code == 3, result.output
    assert f"; sent with key 'gone' ({key['spend_key_id']}, from --key)" in result.stderr
    assert key["key"] not in result.output
