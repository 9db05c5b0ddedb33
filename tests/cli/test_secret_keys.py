"""`lava secret-keys list|create|revoke` end to end: the in-process CLI against the
emulator on a real port. A new secret is kept or printed, never lost (also when saving
it or writing $GITHUB_ENV fails); a revoked one is refused (401) at once; the secret
this lava uses is refused unless --force, told by its recorded id or its hint."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import keyring as keyring_mod
import pytest
from keyring.backend import KeyringBackend

from lava_cli.ops.secret_keys import hint_matches
from tests.conftest import run_lava
from tests.helpers.servers import response

SECRET_RE = r"aks_test_[A-Za-z0-9]{32}"


def listed() -> list[dict]:
    result = run_lava("secret-keys", "list", "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def create(*args: str) -> dict:
    result = run_lava("secret-keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def works(secret: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """The exit code of a management call made with `secret`."""
    with monkeypatch.context() as patch:
        patch.setenv("LAVA_SECRET_KEY", secret)
        return run_lava("keys", "list", "--json").code


def login_default(emulator, monkeypatch) -> None:
    """Log the default profile in through the store (not LAVA_SECRET_KEY)."""
    monkeypatch.delenv("LAVA_SECRET_KEY", raising=False)
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    result = run_lava("login", "--with-token", input=emulator.secrets[0])
    assert result.code == 0, result.output


# --- list -----------------------------------------------------------------------------------


def test_list_shows_hints_only_and_marks_the_secret_in_use(logged_in):
    made = create("--name", "ci")
    keys = listed()
    assert [k["name"] for k in keys] == ["ci", "started with"]
    assert all(set(k) == {"secret_key_id", "name", "secret_key_hint", "created_at"} for k in keys)
    assert keys[1]["secret_key_hint"] == "aks_test_****" + logged_in.secrets[0][-4:]
    rows = [line.split("\t") for line in run_lava("secret-keys", "list").stdout.splitlines()]
    assert [(r[0], r[1], r[4]) for r in rows] == [
        (made["secret_key_id"], "ci", "no"),
        (keys[1]["secret_key_id"], "started with", "yes"),
    ]
    ids = run_lava("secret-keys", "list", "-q").stdout.split()
    assert ids == [k["secret_key_id"] for k in keys]
    assert made["secret_key"] not in json.dumps(keys)


def test_list_on_a_terminal_marks_this_lava(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("secret-keys", "list", tty=True)
    assert result.code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "started with" in line)
    assert "← this lava" in line


# --- create: shown once, kept or printed, never lost ---------------------------------------------


def test_create_quiet_prints_only_a_secret_that_works(logged_in, monkeypatch):
    result = run_lava("secret-keys", "create", "--name", "github-ci", "-q")
    assert result.code == 0, result.output
    secret = result.stdout.strip()
    assert re.fullmatch(SECRET_RE, secret) and result.stdout.count("\n") == 1
    assert works(secret, monkeypatch) == 0


def test_create_json_is_the_api_object_with_the_secret(logged_in):
    made = create("--name", "json")
    assert set(made) == {"secret_key_id", "name", "secret_key_hint", "created_at", "secret_key"}
    assert re.fullmatch(r"sec_[A-Za-z0-9]{24}", made["secret_key_id"])
    assert made["secret_key_hint"] == "aks_test_****" + made["secret_key"][-4:]


def test_create_piped_prints_a_row_with_the_secret(logged_in):
    result = run_lava("secret-keys", "create", "--name", "piped")
    assert result.code == 0
    row = result.stdout.rstrip("\n").split("\t")
    assert row[1] == "piped" and re.fullmatch(SECRET_RE, row[3])


def test_create_on_a_terminal_shows_it_once_with_what_to_do(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("secret-keys", "create", "--name", "tty", tty=True)
    assert result.code == 0
    assert re.search(rf"^  {SECRET_RE}$", result.stdout, re.M)
    assert "This secret is shown once." in result.stdout
    assert "lava secret-keys revoke sec_" in result.stdout


@pytest.mark.parametrize(
    ("fmt", "pattern"),
    [
        ("env", rf"export CI_SECRET='{SECRET_RE}'\n"),
        ("dotenv", rf"CI_SECRET='?{SECRET_RE}'?\n"),
    ],
)
def test_create_formats_for_scripts(logged_in, fmt, pattern):
    result = run_lava("secret-keys", "create", "--name", fmt, "--format", fmt, "--var", "CI_SECRET")
    assert result.code == 0, result.output
    assert re.fullmatch(pattern, result.stdout)


def test_the_default_variable_is_lava_secret_key(logged_in):
    result = run_lava("secret-keys", "create", "--name", "env", "--format", "env")
    assert result.stdout.startswith("export LAVA_SECRET_KEY='aks_test_")


def test_format_github_masks_first_then_exports(logged_in, tmp_path, monkeypatch):
    env_file = tmp_path / "github_env"
    monkeypatch.setenv("GITHUB_ENV", str(env_file))
    result = run_lava("secret-keys", "create", "--name", "gh", "--format", "github")
    assert result.code == 0, result.output
    mask = result.stdout.splitlines()[0]
    assert re.fullmatch(rf"::add-mask::{SECRET_RE}", mask)
    secret = mask.removeprefix("::add-mask::")
    assert env_file.read_text() == f"LAVA_SECRET_KEY={secret}\n"
    assert secret not in result.stderr


def test_format_github_with_gha_env_unwritable_still_prints_the_secret(
    logged_in, tmp_path, monkeypatch
):
    monkeypatch.setenv("GITHUB_ENV", str(tmp_path))  # a directory: cannot be appended to
    result = run_lava("secret-keys", "create", "--name", "gh", "--format", "github")
    assert result.code == 1
    secret = result.stdout.splitlines()[0].removeprefix("::add-mask::")
    assert re.fullmatch(SECRET_RE, secret)  # printed (masked) before the write failed
    made = next(k for k in listed() if k["name"] == "gh")
    assert f"lava secret-keys revoke {made['secret_key_id']} --yes" in result.stderr
    assert works(secret, monkeypatch) == 0  # the printed secret is the live one


def test_format_github_without_gha_env_is_refused_before_creating(logged_in):
    before = listed()
    result = run_lava("secret-keys", "create", "--name", "gh", "--format", "github")
    assert result.code == 2
    assert listed() == before


@pytest.mark.parametrize(
    "args",
    [
        ["--name", " "],
        ["--name", "x" * 256],
        ["--name", "x", "--insecure-storage"],
        ["--name", "x", "--save-as", "no spaces"],
        ["--name", "x", "--format", "yaml"],
        ["--name", "x", "--var", "1BAD"],
    ],
)
def test_bad_flags_are_exit_2_before_anything_is_created(logged_in, args):
    before = listed()
    result = run_lava("secret-keys", "create", *args)
    assert result.code == 2, result.output
    assert listed() == before


# --- create --save-as --------------------------------------------------------------------------


def test_save_as_logs_a_profile_in_and_prints_no_secret(emulator, memory_keyring, monkeypatch):
    login_default(emulator, monkeypatch)
    result = run_lava("secret-keys", "create", "--name", "ci", "--save-as", "ci")
    assert result.code == 0, result.output
    row = result.stdout.rstrip("\n").split("\t")
    assert row[1] == "ci" and row[3] == "-"  # kept, so not printed
    secret = memory_keyring.entries[("lava-cli", "profile:ci")]
    assert re.fullmatch(SECRET_RE, secret) and secret not in result.output
    status = json.loads(run_lava("--profile", "ci", "auth", "status", "--json").stdout)
    assert status["secret_source"] == "keyring" and status["mode"] == "test"
    # The new profile lists it as its own secret: told by its recorded id.
    rows = run_lava("--profile", "ci", "secret-keys", "list").stdout.splitlines()
    assert [r.split("\t")[4] for r in rows if "\tci\t" in r] == ["yes"]


def test_save_as_insecure_storage_uses_the_0600_file(emulator, memory_keyring, monkeypatch):
    login_default(emulator, monkeypatch)
    result = run_lava(
        "secret-keys", "create", "--name", "ci", "--save-as", "ci", "--insecure-storage", "-q"
    )
    assert result.code == 0, result.output
    secret = result.stdout.strip()  # -q asks for it: printed too
    path = Path(os.environ["LAVA_CONFIG_DIR"]) / "secrets.json"
    assert json.loads(path.read_text())["profile:ci"] == secret
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert ("lava-cli", "profile:ci") not in memory_keyring.entries


def test_save_as_is_refused_before_creating_when_no_keyring_works(logged_in):
    from keyring.backends import fail

    before = listed()
    previous = keyring_mod.get_keyring()
    keyring_mod.set_keyring(fail.Keyring())
    try:
        result = run_lava("secret-keys", "create", "--name", "ci", "--save-as", "ci")
    finally:
        keyring_mod.set_keyring(previous)
    assert result.code == 1, result.output
    assert "keyring" in result.stderr
    assert listed() == before


class DroppingKeyring(KeyringBackend):
    """A backend that looks fine but fails every write (a broken D-Bus service)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("the secret service went away")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("the secret service went away")


def test_a_failed_save_prints_the_secret_instead_of_losing_it(logged_in, monkeypatch):
    previous = keyring_mod.get_keyring()
    keyring_mod.set_keyring(DroppingKeyring())
    try:
        result = run_lava("secret-keys", "create", "--name", "ci", "--save-as", "ci")
    finally:
        keyring_mod.set_keyring(previous)
    assert result.code == 1
    row = result.stdout.rstrip("\n").split("\t")
    assert re.fullmatch(SECRET_RE, row[3])  # printed, since it could not be kept
    assert "printed above, but saving it failed" in result.stderr
    assert works(row[3], monkeypatch) == 0


# --- revoke ----------------------------------------------------------------------------------------


def test_a_revoked_secret_is_refused_at_once(logged_in, monkeypatch):
    made = create("--name", "short-lived")
    assert works(made["secret_key"], monkeypatch) == 0
    result = run_lava("secret-keys", "revoke", made["secret_key_id"], "--yes")
    assert result.code == 0, result.output
    assert made["secret_key_id"] not in [k["secret_key_id"] for k in listed()]
    assert works(made["secret_key"], monkeypatch) == 3  # 401 on its next use


def test_revoke_by_name_with_json(logged_in):
    made = create("--name", "by-name")
    result = run_lava("secret-keys", "revoke", "by-name", "--yes", "--json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": made["secret_key_id"], "name": "by-name", "deleted": True,
        "already_revoked": False, "logged_out_profiles": [],
    }  # fmt: skip


def test_revoke_needs_yes_without_a_terminal_and_sends_nothing(logged_in, relay):
    made = create("--name", "keep")
    seen = relay()
    result = run_lava("secret-keys", "revoke", made["secret_key_id"])
    assert result.code == 2 and "--yes" in result.stderr
    assert seen.calls == []


def test_revoke_asks_on_a_terminal(logged_in):
    made = create("--name", "asked")
    no = run_lava("secret-keys", "revoke", "asked", tty=True, input="n\n")
    assert no.code == 2
    assert f"Revoke secret key asked ({made['secret_key_id']}, aks_test_****" in no.stderr
    assert made["secret_key_id"] in [k["secret_key_id"] for k in listed()]
    yes = run_lava("secret-keys", "revoke", "asked", tty=True, input="y\n")
    assert yes.code == 0, yes.output
    assert made["secret_key_id"] not in [k["secret_key_id"] for k in listed()]


def test_an_unknown_id_is_exit_4(logged_in):
    result = run_lava("secret-keys", "revoke", "sec_" + "x" * 24, "--yes")
    assert result.code == 4
    assert "started with" in result.stderr  # the hint names the wallet's keys


def test_the_secret_in_use_is_refused_unless_force(logged_in, monkeypatch):
    """LAVA_SECRET_KEY has no recorded id: the hint tells it."""
    started = next(k for k in listed() if k["name"] == "started with")
    result = run_lava("secret-keys", "revoke", started["secret_key_id"], "--yes")
    assert result.code == 5, result.output
    assert "is the secret key this lava uses (LAVA_SECRET_KEY)" in result.stderr
    assert "--force" in result.stderr
    assert works(logged_in.secrets[0], monkeypatch) == 0  # untouched
    create("--name", "spare")  # the wallet must keep one
    forced = run_lava("secret-keys", "revoke", started["secret_key_id"], "--yes", "--force")
    assert forced.code == 0, forced.output
    assert "log in again" in forced.stderr
    assert works(logged_in.secrets[0], monkeypatch) == 3


def test_force_cannot_revoke_the_wallets_last_secret(logged_in):
    started = listed()[0]
    result = run_lava("secret-keys", "revoke", started["secret_key_id"], "--yes", "--force")
    assert result.code == 5
    assert "hint: a wallet keeps at least one secret key" in result.stderr


def test_the_recorded_id_tells_the_profiles_own_secret(emulator, memory_keyring, monkeypatch):
    login_default(emulator, monkeypatch)
    made = json.loads(
        run_lava("secret-keys", "create", "--name", "ci", "--save-as", "ci", "--json").stdout
    )
    refused = run_lava("--profile", "ci", "secret-keys", "revoke", "ci", "--yes")
    assert refused.code == 5 and "(stored in the keyring)" in refused.stderr
    # From another profile it is not the secret in use; revoking it logs `ci` out.
    result = run_lava("secret-keys", "revoke", made["secret_key_id"], "--yes")
    assert result.code == 0, result.output
    assert "Profile 'ci' used it and is logged out." in result.stderr
    assert ("lava-cli", "profile:ci") not in memory_keyring.entries
    assert run_lava("--profile", "ci", "keys", "list").code == 3


def test_a_wallet_key_alias_logs_in_and_is_known_as_in_use(emulator, memory_keyring, monkeypatch):
    """`lava_wk_<body>` is accepted where `aks_` is; its hint is matched through the alias."""
    monkeypatch.delenv("LAVA_SECRET_KEY", raising=False)
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    alias = "lava_wk_" + emulator.secrets[0].removeprefix("aks_test_")
    login = run_lava("login", "--with-token", input=alias + "\n")
    assert login.code == 0, login.output
    assert "lava_wk_ wallet key" in login.stderr
    assert alias not in login.output
    rows = run_lava("secret-keys", "list").stdout.splitlines()
    assert [r.split("\t")[4] for r in rows] == ["yes"]
    refused = run_lava("secret-keys", "revoke", "started with", "--yes")
    assert refused.code == 5


# --- the hint -----------------------------------------------------------------------------------


SECRET = "aks_test_" + "A" * 28 + "wxYZ"


@pytest.mark.parametrize(
    ("value", "hint", "expected"),
    [
        (SECRET, "aks_test_****wxYZ", True),
        (SECRET, "aks_test_****wxYz", False),
        (SECRET, "aks_live_****wxYZ", False),  # another wallet's mode: not this secret
        ("lava_wk_" + SECRET[9:], "aks_live_****wxYZ", True),  # the alias says no mode
        ("lava_wk_" + SECRET[9:], "aks_test_****wxYZ", True),  # the alias of the secret
        (SECRET, "lava_wk_****wxYZ", True),  # a wallet started with the lava_wk_ form
        (SECRET, "aks_test_AAAA****wxYZ", True),  # a longer head is read too
        (SECRET, "aks_****", None),  # shows nothing: cannot tell
        (SECRET, "aks_test_****", None),
        (SECRET, "wxYZ", None),  # no mask: a form this client does not know
        (SECRET, "", None),
    ],
)
def test_hint_matching(value, hint, expected):
    assert hint_matches(value, hint) is expected


@pytest.mark.parametrize(
    "broken",
    [{"created_at": 5}, {"name": None}, {"secret_key_hint": ["x"]}],
    ids=["created_at", "name", "hint"],
)
def test_a_minted_secret_is_printed_when_the_rest_of_the_answer_is_unreadable(
    logged_in, relay, broken
):
    """The server made the secret and sent it; an odd field beside it must not lose it."""
    raw = "aks_test_" + "m" * 32
    minted = {
        "secret_key_id": "sec_standin1234", "name": "ci", "secret_key_hint": "aks_test_mmmm",
        "created_at": "2026-12-02T00:00:00Z", "secret_key": raw, **broken,
    }  # fmt: skip

    def answer(method: str, path: str, body: object) -> bytes | None:
        if (method, path) == ("POST", "/v1/secret_keys"):
            return response("201 Created", json.dumps(minted).encode())
        return None

    relay(intercept=answer)
    result = run_lava("secret-keys", "create", "--name", "ci")
    assert result.stdout.splitlines()[-1] == raw, result.output
    assert result.code == 1
    assert "the secret it minted was printed above" in result.stderr
    assert "lava secret-keys list" in result.stderr
