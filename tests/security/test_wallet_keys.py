"""`lava_wk_…` (the wallet-key prefix some of Lava's pages use) is a management secret:
redacted, scrubbed and refused on the command line exactly like `aks_…`."""

from __future__ import annotations

from pathlib import Path

import pytest

from lava_cli.credentials import redact, scrub, secret_in_argv
from tests.helpers.env import clean_env
from tests.helpers.process import lava

WALLET = "lava_wk_" + "w1x2y3z4" + "K" * 32
PREVIEW = "lava_wk_w1x2y3z4****"


def test_redact_gives_the_preview_form():
    assert redact(WALLET) == PREVIEW
    assert redact("lava_wk_short") == "lava_wk_****"


@pytest.mark.parametrize(
    "text",
    [
        f"token {WALLET} end",
        f"Authorization: Bearer {WALLET}",
        f'{{"key":"{WALLET}"}}',
        f"{WALLET}{WALLET}",
    ],
)
def test_scrub_hides_wallet_keys_inside_text(text):
    out = scrub(text)
    assert "K" * 8 not in out
    assert PREVIEW in out


def test_scrub_and_argv_leave_previews_alone():
    from lava_cli.credentials import raw_secrets

    assert scrub(f"key {PREVIEW}") == f"key {PREVIEW}"
    assert secret_in_argv(["keys", "show", PREVIEW]) is None
    assert secret_in_argv(["keys", "show", "aks_test_abcdefgh****"]) is None
    assert raw_secrets(f"{PREVIEW} lava_wk_abc") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "show", WALLET],
        ["keys", "create", f"--name={WALLET}"],
        ["prompt", f"use {WALLET} please"],
        ["login", WALLET],
    ],
)
def test_wallet_keys_in_argv_are_found(argv):
    assert secret_in_argv(argv) == WALLET


@pytest.mark.slow
def test_the_cli_refuses_a_wallet_key_in_argv(tmp_path: Path):
    """A real process: exit 2, one error line naming only the preview, nothing sent."""
    env = clean_env(LAVA_CONFIG_DIR=str(tmp_path / "cfg"), LAVA_SECRET_KEY="aks_test_" + "a" * 32)
    # A base URL nothing listens on: had the secret passed, the request would fail with 6.
    env["LAVA_BASE_URL"] = "http://127.0.0.1:9/v1"
    result = lava(["keys", "show", WALLET], env, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "command line" in result.stderr and PREVIEW in result.stderr
    assert "K" * 8 not in result.stdout + result.stderr
    assert not (tmp_path / "cfg").exists()


@pytest.mark.parametrize("prefix", ["lava_sk_", "aks_live_", "lava_wk_"])
def test_scrub_hides_a_whole_key_that_happens_to_end_in_stars(prefix):
    # A preview holds exactly 8 characters before `****`; a longer run is a key.
    raw = prefix + "abcdefghijklmnopqrstu"
    scrubbed = scrub(f"got {raw}**** from the server")
    assert raw not in scrubbed
    assert prefix + "abcdefgh****" in scrubbed


# --- accepted as a management credential, where aks_ is -------------------------------------


def test_login_formats_accept_a_wallet_key():
    from lava_cli.credentials import check_secret_format, looks_like_secret

    assert check_secret_format(WALLET + "\n") == WALLET
    assert looks_like_secret(WALLET) and not looks_like_secret("lava_wk_short")


def test_a_wallet_key_says_no_mode_and_goes_to_the_live_host():
    from lava_cli.config import LIVE_BASE_URL, default_base_url
    from lava_cli.credentials import Secret

    assert Secret(WALLET, "env", "LAVA_SECRET_KEY").mode == "unknown"
    assert default_base_url(WALLET) == LIVE_BASE_URL


def test_the_emulators_secrets_file_takes_a_wallet_key(tmp_path: Path):
    from lava_cli.ops.emulator import read_secrets_file

    listed = tmp_path / "secrets.txt"
    listed.write_text(f"# comment\n{WALLET}\naks_test_{'a' * 32}\n")
    assert read_secrets_file(listed) == [WALLET, "aks_test_" + "a" * 32]


def test_lava_secret_key_may_be_a_wallet_key(logged_in, monkeypatch):
    from tests.conftest import run_lava

    alias = "lava_wk_" + logged_in.secrets[0].removeprefix("aks_test_")
    monkeypatch.setenv("LAVA_SECRET_KEY", alias)
    result = run_lava("keys", "list", "--json")
    assert result.code == 0, result.output
    status = run_lava("auth", "status", "--json")
    assert '"mode": "unknown"' in status.stdout and alias not in status.stdout
