"""`lava keys export`: the wallet as a key file, which `keys apply --check` finds in sync."""

from __future__ import annotations

import json
import sys

from tests.conftest import run_lava

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Names a server may hold that a file must quote or escape, and a terminal must not obey.
NAMES = ["plain", "two words", 'quo"te', "back\\slash", "ünïcode", "esc\x1b[31mred", "rtl\u202eed"]


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def seed() -> None:
    create("--name", NAMES[0], "--shape", "anthropic", "--model", "claude-haiku-4-5",
           "--model", "claude-sonnet-4-5", "--provider", "anthropic", "--spend-limit", "0.50/daily",
           "--request-limit", "1,000/weekly", "--rate-limit", "60", "--expires-at", "2031-06-01T12:30Z",
           "--paused")  # fmt: skip
    for name in NAMES[1:]:
        create("--name", name, "--spend-limit", "25/monthly", "--rate-limit", "30/5")


def test_export_then_apply_check_is_in_sync_and_sends_nothing(logged_in, relay, tmp_path):
    seed()
    exported = run_lava("keys", "export")
    assert exported.code == 0, exported.output
    assert "lava_sk_" not in exported.stdout.replace("lava_sk_…", "")  # no secrets
    assert "\x1b" not in exported.stdout and "\u202e" not in exported.stdout
    path = tmp_path / "keys.toml"
    path.write_text(exported.stdout, encoding="utf-8")
    counted = relay()
    check = run_lava("keys", "apply", "-f", str(path), "--check", "--prune")
    assert check.code == 0, check.output
    assert check.stdout.count("= unchanged") == len(NAMES)
    again = run_lava("keys", "apply", "-f", str(path), "--yes", "--prune")
    assert again.code == 0 and counted.writes() == []


def test_export_writes_each_setting_in_the_flags_words(logged_in):
    seed()
    declared = tomllib.loads(run_lava("keys", "export").stdout)["keys"]
    assert declared["plain"] == {
        "shape": "anthropic",
        "models": ["claude-haiku-4-5", "claude-sonnet-4-5"],
        "providers": ["anthropic"],
        "spend_limit": "0.50/daily",
        "request_limit": "1000/weekly",
        "rate_limit": "60",
        "expires_at": "2031-06-01T12:30:00Z",
        "paused": True,
    }
    assert set(declared) == set(NAMES)  # every name reads back exactly
    assert declared["esc\x1b[31mred"] == {
        "shape": "openai",
        "spend_limit": "25/monthly",
        "rate_limit": "30/5",
        "paused": False,
    }


def test_export_json_is_the_same_declaration(logged_in):
    seed()
    as_toml = tomllib.loads(run_lava("keys", "export").stdout)
    as_json = run_lava("keys", "export", "--json")
    assert as_json.code == 0
    assert json.loads(as_json.stdout) == as_toml


def test_export_of_an_empty_wallet_is_in_sync_too(logged_in, tmp_path):
    exported = run_lava("keys", "export")
    assert exported.code == 0 and tomllib.loads(exported.stdout) == {}
    path = tmp_path / "keys.toml"
    path.write_text(exported.stdout)
    assert run_lava("keys", "apply", "-f", str(path), "--check").code == 0


def test_export_refuses_a_wallet_with_two_keys_of_one_name(logged_in):
    first = create("--name", "twin")
    second = create("--name", "twin", "--allow-duplicate-name")
    result = run_lava("keys", "export")
    assert result.code == 2
    assert first["spend_key_id"] in result.stderr and second["spend_key_id"] in result.stderr
    assert result.stdout == ""
