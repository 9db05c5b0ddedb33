"""A config directory other users can write to never receives a secret, and `doctor`
fails on it. Real directories with real modes; the emulator for the API side."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_lava

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")


@pytest.fixture
def open_dir(tmp_path: Path) -> Path:
    """The test's config dir, made writable by every user (as a careless umask or
    `chmod -R 777` leaves it)."""
    directory = tmp_path / "config"
    directory.mkdir(mode=0o700)
    directory.chmod(0o777)
    return directory


def login_file(emulator: object) -> object:
    return run_lava(
        "--base-url", emulator.base_url,  # type: ignore[attr-defined]
        "login", "--with-token", "--insecure-storage",
        input=emulator.secrets[0],  # type: ignore[attr-defined]
    )  # fmt: skip


def test_login_to_the_file_store_refuses_a_world_writable_dir(emulator, open_dir):
    result = login_file(emulator)
    assert result.code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and str(open_dir) in lines[0]
    assert "writable by every user" in lines[0]
    assert lines[1] == f"hint: chmod 700 {open_dir}"
    assert not (open_dir / "secrets.json").exists()
    assert emulator.secrets[0] not in result.output


def test_save_to_the_file_store_refuses_before_creating_a_key(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    assert login_file(emulator).code == 0  # a private dir: fine
    directory = tmp_path / "config"
    directory.chmod(0o777)
    for args in (["keys", "create", "--name", "k", "--save"], ["prompt", "hello"]):
        result = run_lava(*args)
        assert result.code == 2, (args, result.output)
        assert f"chmod 700 {directory}" in result.stderr
    wallet = emulator.store.wallet_for_secret(emulator.secrets[0])
    assert emulator.store.list_keys(wallet.wallet_id).data == []  # no key made, none lost
    directory.chmod(0o700)
    made = run_lava("keys", "create", "--name", "k", "--save", "-q")
    assert made.code == 0
    # Rotating a saved key would kill the value it cannot then save: refused first.
    directory.chmod(0o777)
    rotated = run_lava("keys", "rotate", "k")
    assert rotated.code == 2 and f"chmod 700 {directory}" in rotated.stderr
    assert emulator.store.key_for_raw(made.stdout.strip()) is not None  # still the live value


def test_a_world_writable_parent_without_the_sticky_bit_is_refused(emulator, tmp_path):
    tmp_path.chmod(0o777)  # the parent of LAVA_CONFIG_DIR (tmp_path / "config")
    try:
        result = login_file(emulator)
    finally:
        tmp_path.chmod(0o700)
    assert result.code == 2, result.output
    assert "anyone could swap the directory" in result.stderr
    assert f"chmod o-w {tmp_path}" in result.stderr


def test_a_sticky_world_writable_parent_is_fine(emulator, tmp_path):
    tmp_path.chmod(0o1777)  # like /tmp: others cannot rename our directory away
    try:
        result = login_file(emulator)
    finally:
        tmp_path.chmod(0o700)
    assert result.code == 0, result.output
    assert (tmp_path / "config" / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_doctor_fails_on_a_world_writable_config_dir(logged_in, open_dir, monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = run_lava("doctor", "--json")
    assert result.code == 1
    checks = {c["check"]: c for c in json.loads(result.stdout)}
    assert checks["config dir"]["status"] == "fail"
    assert str(open_dir) in checks["config dir"]["detail"]
    assert checks["config dir"]["fix"] == f"chmod 700 {open_dir}"
    open_dir.chmod(0o700)
    fixed = run_lava("doctor", "--json")
    assert fixed.code == 0, fixed.stdout
