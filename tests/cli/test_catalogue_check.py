"""Models and providers are checked against the gateway's catalogue before a key is
made or changed, with the closest name suggested; settings under which a key could
never call a model are refused; the catalogue is cached for a short time. End to end
against the emulator, whose /v1/messages serves Anthropic models only."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from tests.conftest import run_lava


def keys() -> list[dict]:
    return json.loads(run_lava("keys", "list", "--json").stdout)


@pytest.mark.parametrize(
    ("args", "said", "suggested"),
    [
        (("--model", "GPT-4o"), "--model: no model 'GPT-4o' in the catalogue", "'gpt-4o'"),
        (("--model", "nonexistent"), "no model 'nonexistent'", "--allow-unknown-model"),
        (("--provider", "nope"), "no provider 'nope'", "anthropic, deepseek, google"),
        (("--provider", "Anthropic"), "no provider 'Anthropic'", "'anthropic'"),
    ],
)
def test_unknown_or_mis_cased_names_are_refused_with_the_closest(logged_in, args, said, suggested):
    result = run_lava("keys", "create", "--name", "k", *args)
    assert result.code == 2, result.output
    error, hint = result.stderr.splitlines()
    assert said in error
    assert hint.startswith("hint: ") and suggested in hint
    assert keys() == []  # nothing was created


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("--shape", "anthropic", "--model", "gpt-4o-mini"),
            "serves anthropic models only, and gpt-4o-mini is openai's",
        ),
        (("--shape", "anthropic", "--provider", "openai"), "the allowed providers are openai"),
        (("--model", "gpt-4o", "--provider", "anthropic"), "no model is in both"),
    ],
)
def test_a_key_that_could_never_call_a_model_is_refused(logged_in, args, said):
    result = run_lava("keys", "create", "--name", "never", *args)
    assert result.code == 2, result.output
    assert said in result.stderr and "could never be used" in result.stderr
    assert keys() == []


def test_the_emulator_agrees_such_a_key_can_never_work(logged_in, monkeypatch):
    """The rule is the gateway's own (not a regression test: it holds on old code too):
    an anthropic-shape key sending an OpenAI model is refused by /v1/messages."""
    raw = run_lava("keys", "create", "--name", "anthropic", "--shape", "anthropic", "-q").stdout
    monkeypatch.setenv("LAVA_SPEND_KEY", raw.strip())
    sent = run_lava("prompt", "hi", "--shape", "anthropic", "--model", "gpt-4o-mini")
    assert sent.code == 2, sent.output  # the gateway's 400
    assert "anthropic models only" in sent.stderr


def test_the_flag_accepts_a_model_the_catalogue_does_not_list_yet(logged_in):
    result = run_lava(
        "keys", "create", "--name", "early", "--model", "gpt-9-preview",
        "--allow-unknown-model", "--json",
    )  # fmt: skip
    assert result.code == 0, result.output
    assert json.loads(result.stdout)["allowed_models"] == ["gpt-9-preview"]


def test_update_checks_the_settings_the_key_will_have(logged_in):
    from lava_cli.ops import catalogue

    run_lava("keys", "create", "--name", "oai", "--model", "gpt-4o", "-q")
    switched = run_lava("keys", "update", "oai", "--shape", "anthropic")
    assert switched.code == 2 and "gpt-4o is openai's" in switched.stderr
    misspelt = run_lava("keys", "update", "oai", "--model", "claude-sonet-4-5")
    assert misspelt.code == 2 and "did you mean 'claude-sonnet-4-5'" in misspelt.stderr
    both = run_lava(
        "keys", "update", "oai", "--shape", "anthropic", "--model", "claude-sonnet-4-5", "-q"
    )
    assert both.code == 0, both.output
    # A change to nothing that decides the models (a pause) asks no catalogue.
    os.remove(catalogue.cache_path())
    assert run_lava("keys", "pause", "oai", "-q").code == 0
    assert not catalogue.cache_path().exists()


def test_the_catalogue_is_cached_for_a_short_time(logged_in, tmp_path):
    from lava_cli.ops import catalogue

    assert run_lava("keys", "create", "--name", "a", "--model", "gpt-4o", "-q").code == 0
    path = catalogue.cache_path()
    assert path == tmp_path / "config" / "cache" / "catalogue.json"  # LAVA_CONFIG_DIR's
    data = json.loads(path.read_text())
    entry = data["catalogues"][logged_in.base_url]
    assert data["version"] == 1
    assert entry["models"]["gpt-4o"] == "openai" and "anthropic" in entry["providers"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Within the TTL a second check sends no catalogue request.
    checked = run_lava("--verbose", "keys", "create", "--name", "b", "--model", "gpt-4o", "-q")
    assert checked.code == 0, checked.output
    assert "/models" not in checked.stderr
    # A name the cache lacks is looked up again before it is refused: listed since?
    entry["models"].pop("gpt-4o-mini")
    path.write_text(json.dumps(data))
    fresh = run_lava("--verbose", "keys", "create", "--name", "c", "--model", "gpt-4o-mini", "-q")
    assert fresh.code == 0, fresh.output
    assert f"GET {logged_in.base_url}/models" in fresh.stderr
    # Past the TTL the catalogue is fetched again.
    data = json.loads(path.read_text())
    data["catalogues"][logged_in.base_url]["fetched_at"] = time.time() - catalogue.CACHE_TTL_S - 1
    path.write_text(json.dumps(data))
    stale = run_lava("--verbose", "keys", "create", "--name", "d", "--model", "gpt-4o", "-q")
    assert stale.code == 0 and f"GET {logged_in.base_url}/models" in stale.stderr


def test_a_broken_cache_is_a_miss(logged_in):
    from lava_cli.ops import catalogue

    path = catalogue.cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    ok = run_lava("keys", "create", "--name", "a", "--model", "gpt-4o", "-q")
    assert ok.code == 0, ok.output
    assert json.loads(path.read_text())["version"] == 1  # rewritten
    ids = catalogue.cached_model_ids(logged_in.base_url)
    assert ids[:2] == ["claude-haiku-4-5", "claude-opus-4-6"] and "gpt-4o" in ids


def test_an_unreachable_catalogue_is_a_warning_not_a_refusal(raw_server, monkeypatch):
    """The check is a courtesy: the API still decides. A stand-in API that lists no
    models (404) but creates keys."""
    from tests.helpers.servers import EMPTY_PAGE, reply

    created = json.dumps(
        {"spend_key_id": "sk_" + "a" * 24, "key": "lava_sk_" + "k" * 40, "name": "x",
         "key_preview": "lava_sk_kkkkkkkk****", "status": "active", "request_shape": "openai",
         "allowed_models": ["gpt-4o"], "current_spend": "0", "total_spend": "0",
         "current_requests": 0, "total_requests": 0}
    ).encode()  # fmt: skip

    def handler(conn, head, n):
        if head.startswith(b"GET /v1/spend_keys"):
            reply(conn, "200 OK", EMPTY_PAGE, "application/json")
        elif head.startswith(b"POST /v1/spend_keys"):
            reply(conn, "201 Created", created, "application/json")
        else:
            reply(conn, "404 Not Found", b'{"error": {"message": "no"}}', "application/json")

    server = raw_server(handler)
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_test_" + "f" * 32)
    monkeypatch.setenv("LAVA_BASE_URL", server.base_url)
    result = run_lava("keys", "create", "--name", "x", "--model", "gpt-4o", "-q")
    assert result.code == 0, result.output
    assert "could not check the models against the catalogue" in result.stderr


def test_env_model_is_checked_and_used_for_claude_code(logged_in):
    run_lava("keys", "create", "--name", "cc", "--shape", "anthropic", "--save", "-q")
    wrong = run_lava("env", "claude-code", "--key", "cc", "--model", "gpt-4o")
    assert wrong.code == 2 and wrong.stdout == ""
    assert "Claude Code could never use it" in wrong.stderr
    typo = run_lava("env", "claude-code", "--key", "cc", "--model", "claude-haiku-4-6")
    assert typo.code == 2 and "did you mean 'claude-haiku-4-5'" in typo.stderr
    used = run_lava("env", "claude-code", "--key", "cc", "--model", "claude-sonnet-4-5")
    assert used.code == 0, used.output
    assert "export ANTHROPIC_MODEL='claude-sonnet-4-5'" in used.stdout.splitlines()
    plain = run_lava("env", "claude-code", "--key", "cc")
    assert "ANTHROPIC_MODEL" not in plain.stdout  # Claude Code's own choice stands
