"""`lava login`, `logout`, `auth status`: where the secret goes and how it is found."""

from __future__ import annotations

import json
import os
import stat

import keyring
import pytest
from keyring.backends import fail

from tests.conftest import run_lava
from tests.helpers.keyrings import BrokenKeyring


def login(emulator, *extra: str, secret: str | None = None):
    return run_lava(
        "--base-url", emulator.base_url, "login", "--with-token", *extra,
        input=(secret or emulator.secrets[0]) + "\n",
    )  # fmt: skip


def test_login_with_token_stores_in_the_keyring(emulator, memory_keyring):
    result = login(emulator)
    assert result.code == 0, result.output
    assert memory_keyring.entries[("lava-cli", "profile:default")] == emulator.secrets[0]
    assert emulator.secrets[0] not in result.output
    # The profile remembers the base URL, so later commands need no flags.
    listed = run_lava("keys", "list", "--json")
    assert listed.code == 0, listed.output
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert status == {
        "profile": "default",
        "base_url": emulator.base_url,
        "base_url_source": "profile 'default'",
        "logged_in": True,
        "mode": "test",
        "secret_source": "keyring",
        "secret_location": "keyring service 'lava-cli'",
        "secret_preview": emulator.secrets[0][:17] + "****",
        "keyring_backend": "tests.conftest.MemoryKeyring",
    }


def test_login_refuses_a_wrong_secret_and_stores_nothing(emulator, memory_keyring):
    result = login(emulator, secret="aks_test_" + "n" * 32)
    assert result.code == 3
    assert "refused this secret key" in result.stderr
    assert memory_keyring.entries == {}


def test_login_refuses_a_spend_key_and_garbage(emulator):
    assert login(emulator, secret="lava_sk_" + "x" * 40).code == 2
    assert login(emulator, secret="hunter2").code == 2
    assert run_lava("login", "--with-token", input="").code == 2


def test_login_without_terminal_or_token_fails_with_a_hint(emulator):
    result = run_lava("--base-url", emulator.base_url, "login")
    assert result.code == 2
    assert "--with-token" in result.stderr


def test_login_reads_a_hidden_prompt_on_a_terminal(emulator, memory_keyring):
    result = run_lava(
        "--base-url", emulator.base_url, "login", input=emulator.secrets[0] + "\n", tty=True
    )
    assert result.code == 0, result.output
    assert "Paste your Lava secret key" in result.stderr
    assert emulator.secrets[0] not in result.output


def test_no_keyring_is_a_clear_error_never_a_silent_file(emulator, tmp_path):
    keyring.set_keyring(fail.Keyring())
    result = login(emulator)
    assert result.code == 1
    assert "no OS keyring" in result.stderr
    assert "--insecure-storage" in result.stderr
    assert not (tmp_path / "config" / "secrets.json").exists()


def test_insecure_storage_is_an_explicit_0600_file(emulator, tmp_path):
    keyring.set_keyring(fail.Keyring())
    result = login(emulator, "--insecure-storage")
    assert result.code == 0, result.output
    assert "plain text" in result.stderr
    path = tmp_path / "config" / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert status["secret_source"] == "file"
    assert status["secret_location"] == str(path)
    assert run_lava("keys", "list").code == 0
    assert run_lava("logout").code == 0
    assert not path.exists()
    assert run_lava("auth", "status").code == 3


def test_env_secret_wins_and_status_says_so(emulator, monkeypatch):
    monkeypatch.setenv("LAVA_SECRET_KEY", emulator.secrets[1])
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert status["secret_source"] == "env"
    assert status["base_url_source"] == "LAVA_BASE_URL"
    assert status["secret_preview"] == emulator.secrets[1][:17] + "****"


def test_status_without_a_secret_is_exit_3():
    result = run_lava("auth", "status")
    assert result.code == 3
    assert "logged_in\tFalse" in result.stdout


def test_logout_when_logged_out_is_exit_3():
    assert run_lava("logout").code == 3


def test_profiles_are_separate(emulator, memory_keyring):
    assert login(emulator).code == 0
    other = run_lava(
        "--profile", "second", "--base-url", emulator.base_url, "login", "--with-token",
        input=emulator.secrets[1],
    )  # fmt: skip
    assert other.code == 0
    assert run_lava("keys", "create", "--name", "mine", "-q").code == 0
    theirs = json.loads(run_lava("-p", "second", "keys", "list", "--json").stdout)
    assert theirs == []  # another wallet never sees the first wallet's keys
    assert run_lava("--profile", "bad name!", "keys", "list").code == 2


@pytest.mark.parametrize("bad", ["http://example.com/v1", "not a url"])
def test_login_refuses_bad_base_urls(emulator, bad):
    result = run_lava("--base-url", bad, "login", "--with-token", input=emulator.secrets[0])
    assert result.code == 2


def test_status_with_a_broken_keyring_reports_what_it_knows(emulator):
    assert login(emulator).code == 0
    keyring.set_keyring(BrokenKeyring())
    result = run_lava("auth", "status")
    assert result.code == 1, result.output  # the keyring's error, as documented
    rows = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert rows["profile"] == "default" and rows["base_url"] == emulator.base_url
    assert rows["logged_in"] == "-" and rows["secret_source"] == "keyring"
    assert "the OS keyring failed" in rows["secret_error"]
    assert result.stderr.startswith("error: the OS keyring failed (reading a secret)")
    as_json = json.loads(run_lava("auth", "status", "--json").stdout)
    assert as_json["logged_in"] is None and "keyring failed" in as_json["secret_error"]


def test_logout_with_a_broken_keyring_says_what_it_removed(emulator):
    assert login(emulator).code == 0
    keyring.set_keyring(BrokenKeyring())
    result = run_lava("logout")
    assert result.code == 1, result.output
    assert "Profile 'default' no longer uses its stored secret" in result.stderr
    assert "the secret could not be removed from the OS keyring" in result.stderr
    assert "profile:default" in result.stderr  # where to remove it by hand
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert status["logged_in"] is False  # lava no longer reads the broken keyring


def test_one_command_reads_the_stored_secret_once(emulator, memory_keyring, monkeypatch):
    """Each keyring read is a thread and up to LAVA_KEYRING_TIMEOUT (a locked keyring
    may ask the user): `prompt --usage` asks for the secret for the base URL, the
    prices and the spend line, and used to read the keyring three times."""
    assert login(emulator).code == 0
    assert run_lava("keys", "create", "--name", "counted", "--save", "-q").code == 0
    reads: list[str] = []
    read = memory_keyring.get_password

    def counting(service: str, username: str) -> str | None:
        reads.append(username)
        return read(service, username)

    monkeypatch.setattr(memory_keyring, "get_password", counting)
    result = run_lava("prompt", "hi", "--key", "counted", "--usage")
    assert result.code == 0, result.output
    assert reads.count("profile:default") == 1, reads
