"""Redaction, argv refusal, base-URL policy, keyring bounds and the file store."""

from __future__ import annotations

import os
import stat
import threading
import time

import keyring
import pytest
from hypothesis import given
from hypothesis import strategies as st
from keyring.backend import KeyringBackend

from lava_cli.config import atomic_write, check_base_url, default_base_url
from lava_cli.credentials import redact, scrub, secret_in_argv
from lava_cli.errors import KeyringError, UsageError
from tests.conftest import run_lava
from tests.helpers.keyrings import BrokenKeyring

SPEND = "lava_sk_" + "a1b2c3d4" + "Z" * 32
SECRET = "aks_live_" + "q" * 32


def test_redact_documented_form():
    assert redact(SPEND) == "lava_sk_a1b2c3d4****"
    assert redact(SECRET) == "aks_live_qqqqqqqq****"
    assert redact("lava_sk_short") == "lava_sk_****"
    assert redact("") == "****"
    assert redact("something else") == "****"
    assert redact(None) == "****"


@given(st.one_of(st.text(), st.binary(), st.integers(), st.none()))
def test_redact_never_raises_and_never_returns_the_tail(value):
    out = redact(value)
    assert out.endswith("****")
    if isinstance(value, str) and len(value) > 30:
        assert value not in out


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
def test_scrub_removes_embedded_secrets(noise):
    text = f"{noise} {SPEND} {noise} {SECRET}"
    out = scrub(text)
    assert SPEND not in out and SECRET not in out


def test_scrub_keeps_previews():
    assert scrub("key lava_sk_a1b2c3d4****") == "key lava_sk_a1b2c3d4****"


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "show", SPEND],
        ["--base-url", "https://x", "keys", "list", f"--name={SECRET}"],
        ["prompt", f"hello {SPEND}"],
        ["login", SECRET],
    ],
)
def test_secrets_in_argv_are_refused(argv):
    assert secret_in_argv(argv) is not None
    result = run_lava(*argv)
    assert result.code == 2
    assert "command line" in result.stderr
    assert SPEND not in result.output and SECRET not in result.output


def test_previews_in_argv_are_fine():
    assert secret_in_argv(["keys", "show", "lava_sk_a1b2c3d4****"]) is None


def test_the_cheap_argv_look_covers_every_prefix():
    # cli/app.py looks closer (imports credentials) only at words holding a marker.
    from lava_cli.cli.app import ARGV_MARKERS
    from lava_cli.credentials import MANAGEMENT_PREFIXES, SPEND_KEY_PREFIX

    for prefix in (SPEND_KEY_PREFIX, *MANAGEMENT_PREFIXES):
        assert prefix.startswith(ARGV_MARKERS), prefix


@pytest.mark.parametrize(
    "url",
    ["http://api.lava.so/v1", "http://10.0.0.5:8787/v1", "ftp://x", "api.lava.so", "http://"],
)
def test_base_url_refused(url):
    with pytest.raises(UsageError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.lava.so/v1",
        "http://127.0.0.1:8787/v1",
        "http://localhost/v1",
        "http://[::1]:9/v1",
    ],
)
def test_base_url_allowed(url):
    assert check_base_url(url + "/") == url


def test_http_to_a_remote_host_is_refused_by_the_cli(monkeypatch):
    monkeypatch.setenv("LAVA_SECRET_KEY", SECRET)
    result = run_lava("--base-url", "http://api.example.com/v1", "keys", "list")
    assert result.code == 2
    assert "refusing plain http://" in result.stderr


def test_test_keys_default_to_the_sandbox():
    assert default_base_url("aks_test_x").startswith("https://sandbox-api.lavapayments.com")
    assert default_base_url("aks_live_x") == "https://api.lava.so/v1"


def test_atomic_write_is_0600_and_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "c" / "f.json"
    atomic_write(path, "old")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700

    with pytest.raises(TypeError):
        atomic_write(path, 123)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in path.parent.iterdir()] == ["f.json"]


class HangingKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service, username):
        self.release.wait(10)
        return None

    def set_password(self, service, username, password):
        self.release.wait(10)

    def delete_password(self, service, username):
        self.release.wait(10)


def _write_profile(storage: str) -> None:
    from lava_cli.config import Config

    config = Config.load()
    config.set_profile("default", {"secret_storage": storage})
    config.save()


@pytest.mark.slow
def test_hanging_keyring_is_cut_off_by_the_timeout(monkeypatch):
    backend = HangingKeyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("LAVA_KEYRING_TIMEOUT", "0.3")
    _write_profile("keyring")
    started = time.monotonic()
    result = run_lava("keys", "list")
    backend.release.set()
    assert time.monotonic() - started < 2
    assert result.code == 1
    assert "did not answer within 0.3 s" in result.stderr
    assert "--insecure-storage" in result.stderr


def test_broken_keyring_is_one_clear_line():
    keyring.set_keyring(BrokenKeyring())
    _write_profile("keyring")
    result = run_lava("keys", "list")
    assert result.code == 1
    assert result.stderr.startswith("error: the OS keyring failed")
    assert "Traceback" not in result.output
    with pytest.raises(KeyringError):
        from lava_cli.credentials import keyring_get

        keyring_get("x")
