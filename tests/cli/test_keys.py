"""`lava keys …` end to end: the in-process CLI against the emulator on a real port."""

from __future__ import annotations

import json

import keyring as keyring_mod
import pytest

from tests.conftest import run_lava
from tests.helpers.keyrings import BrokenKeyring


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def test_create_with_every_flag_sends_what_was_asked(logged_in):
    key = create(
        "--name", "agent", "--model", "gpt-4o-mini", "--model", "claude-haiku-4-5",
        "--provider", "anthropic", "--shape", "anthropic", "--spend-limit", "25/monthly",
        "--request-limit", "1000/daily", "--rate-limit", "60/10", "--expires-in", "7d", "--paused",
    )  # fmt: skip
    assert key["key"].startswith("lava_sk_")
    assert key["key_preview"] == key["key"][:16] + "****"
    assert key["name"] == "agent"
    assert key["status"] == "paused"
    assert key["request_shape"] == "anthropic"
    assert key["allowed_models"] == ["gpt-4o-mini", "claude-haiku-4-5"]
    assert key["allowed_providers"] == ["anthropic"]
    assert key["spend_limit"] == {"amount": "25.00", "cycle": "monthly"}
    assert key["request_limit"] == {"count": 1000, "cycle": "daily"}
    assert key["rate_limit"] == {"rpm": 60, "burst": 10}
    assert key["expires_at"].endswith("Z")


def test_create_quiet_prints_only_the_raw_key(logged_in):
    result = run_lava("keys", "create", "--name", "q", "-q")
    assert result.code == 0
    assert result.stdout.count("\n") == 1
    raw = result.stdout.strip()
    assert raw.startswith("lava_sk_") and len(raw) == len("lava_sk_") + 40
    assert logged_in.store.key_for_raw(raw) is not None


def test_create_on_a_terminal_shows_the_key_once_with_a_note(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("keys", "create", "--name", "tty", tty=True)
    assert result.code == 0
    assert "shown once" in result.stdout
    raw_line = next(line for line in result.stdout.splitlines() if "lava_sk_" in line)
    assert raw_line.strip().startswith("lava_sk_") and "[" not in raw_line
    assert "\x1b[" not in result.stdout  # NO_COLOR


def test_create_piped_prints_a_tab_separated_row_with_the_key(logged_in):
    result = run_lava("keys", "create", "--name", "piped")
    assert result.code == 0
    row = result.stdout.rstrip("\n").split("\t")
    assert row[1:4] == ["piped", "active", "openai"]
    assert row[4].startswith("lava_sk_")
    assert "\x1b[" not in result.stdout


def test_list_json_and_tsv_and_quiet(logged_in):
    first = create("--name", "one")
    second = create("--name", "two", "--paused")
    listed = json.loads(run_lava("keys", "list", "--json").stdout)
    assert {k["spend_key_id"] for k in listed} == {first["spend_key_id"], second["spend_key_id"]}
    assert all("key" not in k for k in listed)
    active = json.loads(run_lava("keys", "list", "--status", "active", "--json").stdout)
    assert [k["name"] for k in active] == ["one"]
    rows = run_lava("keys", "list").stdout.splitlines()
    assert len(rows) == 2 and all(len(r.split("\t")) == 10 for r in rows)  # 10th: default
    ids = run_lava("keys", "list", "-q").stdout.split()
    assert set(ids) == {first["spend_key_id"], second["spend_key_id"]}


def test_list_on_a_terminal_is_a_table(logged_in, monkeypatch):
    key = create("--name", "tabled", "--spend-limit", "5/daily", "--model", "gpt-4o")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    wide = run_lava("keys", "list", tty=True)
    assert wide.code == 0
    assert "tabled" in wide.stdout and "$0.00/$5.00 daily" in wide.stdout
    assert "gpt-4o" in wide.stdout and key["spend_key_id"] in wide.stdout
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_lava("keys", "list", tty=True).stdout
    assert key["spend_key_id"] in narrow and "gpt-4o" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80


def test_client_follows_cursor_past_one_page(logged_in):
    from lava_cli.api.client import LavaClient

    made = {create("--name", f"k{i}")["spend_key_id"] for i in range(7)}
    with LavaClient(logged_in.base_url, logged_in.secrets[0]) as client:
        pages = [client.list_spend_keys_page(limit=3)]
        assert pages[0].has_more and len(pages[0].data) == 3
        seen = [k.spend_key_id for k in client.iter_spend_keys(page_size=3)]
    assert len(seen) == 7 and set(seen) == made


def test_show_by_id_name_and_preview(logged_in):
    key = create("--name", "findme")
    for ref in (key["spend_key_id"], "findme", key["key_preview"]):
        result = run_lava("keys", "show", ref, "--json")
        assert result.code == 0, (ref, result.output)
        assert json.loads(result.stdout)["spend_key_id"] == key["spend_key_id"]
    detail = run_lava("keys", "show", "findme").stdout
    assert "name\tfindme" in detail


def test_ambiguous_and_unknown_names(logged_in):
    a = create("--name", "twin")
    b = create("--name", "twin", "--allow-duplicate-name")  # refused without it
    result = run_lava("keys", "show", "twin")
    assert result.code == 2
    assert a["spend_key_id"] in result.stderr and b["spend_key_id"] in result.stderr
    missing = run_lava("keys", "show", "nobody")
    assert missing.code == 4
    assert "no spend key" in missing.stderr
    assert run_lava("keys", "show", "sk_" + "0" * 24).code == 4


def test_update_sends_only_what_changed(logged_in):
    key = create(
        "--name", "u", "--model", "gpt-4o", "--spend-limit", "5/daily", "--rate-limit", "10"
    )
    result = run_lava("keys", "update", "u", "--request-limit", "50/weekly", "--json")
    assert result.code == 0, result.output
    after = json.loads(result.stdout)
    assert after["request_limit"] == {"count": 50, "cycle": "weekly"}
    assert after["spend_limit"] == key["spend_limit"]
    assert after["allowed_models"] == ["gpt-4o"]
    cleared = json.loads(
        run_lava(
            "keys", "update", "u", "--no-spend-limit", "--all-models", "--no-rate-limit",
            "--name", "renamed", "--no-expiry", "--json",
        ).stdout
    )  # fmt: skip
    assert cleared["spend_limit"] is None
    assert cleared["allowed_models"] is None
    assert cleared["rate_limit"] is None
    assert cleared["name"] == "renamed"


def test_pause_and_resume(logged_in):
    key = create("--name", "p")
    assert run_lava("keys", "pause", "p", "-q").stdout.strip() == key["spend_key_id"]
    assert json.loads(run_lava("keys", "show", "p", "--json").stdout)["status"] == "paused"
    assert run_lava("keys", "resume", "p").code == 0
    assert json.loads(run_lava("keys", "show", "p", "--json").stdout)["status"] == "active"


def test_rotate_kills_the_old_value(logged_in):
    key = create("--name", "r")
    result = run_lava("keys", "rotate", "r", "-q")
    assert result.code == 0
    new = result.stdout.strip()
    assert new != key["key"] and new.startswith("lava_sk_")
    assert logged_in.store.key_for_raw(key["key"]) is None
    assert logged_in.store.key_for_raw(new) is not None


def test_revoke_needs_yes_without_a_terminal(logged_in):
    create("--name", "victim")
    refused = run_lava("keys", "revoke", "victim")
    assert refused.code == 2 and "--yes" in refused.stderr
    assert run_lava("keys", "show", "victim").code == 0
    done = run_lava("keys", "revoke", "victim", "--yes")
    assert done.code == 0
    assert run_lava("keys", "show", "victim").code == 4


def test_revoke_asks_on_a_terminal(logged_in):
    create("--name", "asked")
    no = run_lava("keys", "revoke", "asked", input="n\n", tty=True)
    assert no.code == 2 and "[y/N]" in no.stderr
    assert run_lava("keys", "show", "asked").code == 0
    yes = run_lava("keys", "revoke", "asked", input="y\n", tty=True)
    assert yes.code == 0
    assert run_lava("keys", "show", "asked").code == 4


def test_save_keeps_the_key_in_the_keyring_not_in_config(logged_in, memory_keyring, tmp_path):
    result = run_lava("keys", "create", "--name", "saved", "--save", "--json")
    assert result.code == 0
    key = json.loads(result.stdout)
    entry = ("lava-cli", f"spend_key:{key['spend_key_id']}")
    assert memory_keyring.entries[entry] == key["key"]
    config_text = (tmp_path / "config" / "config.json").read_text()
    assert key["key"] not in config_text and "saved" in config_text
    rotated = run_lava("keys", "rotate", "saved", "-q").stdout.strip()
    assert memory_keyring.entries[entry] == rotated  # a saved key stays current
    assert run_lava("keys", "revoke", "saved", "--yes").code == 0
    assert entry not in memory_keyring.entries


def test_a_failed_save_never_swallows_the_key(logged_in):
    keyring_mod.set_keyring(BrokenKeyring("locked"))
    result = run_lava("keys", "create", "--name", "kept", "--save", "-q")
    assert result.code == 1
    raw = result.stdout.strip()
    assert raw.startswith("lava_sk_")
    assert logged_in.store.key_for_raw(raw) is not None
    assert "printed above" in result.stderr


def test_eleventh_key_is_refused_with_exit_5(logged_in):
    for i in range(10):
        create("--name", f"n{i}")
    result = run_lava("keys", "create", "--name", "eleven")
    assert result.code == 5
    assert "revoke" in result.stderr


def test_wrong_secret_is_exit_3(logged_in, monkeypatch):
    monkeypatch.setenv("LAVA_SECRET_KEY", "aks_test_" + "z" * 32)
    result = run_lava("keys", "list")
    assert result.code == 3
    assert "lava login" in result.stderr


@pytest.mark.parametrize("flag", ["--json", "-q", ""])
def test_verbose_never_shows_a_secret(logged_in, flag):
    secret = logged_in.secrets[0]
    args = ["--verbose", "keys", "create", "--name", "v"] + ([flag] if flag else [])
    result = run_lava(*args)
    assert result.code == 0
    raw = json.loads(result.stdout)["key"] if flag == "--json" else None
    assert secret not in result.output
    assert "> POST" in result.stderr
    if raw:
        assert raw not in result.stderr
