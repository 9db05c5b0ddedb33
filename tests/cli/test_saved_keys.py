"""Saved spend keys stay in step with the server: rename, shape, rotate, revoke
elsewhere, `keys forget`, and `doctor`'s advice. The in-process CLI against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_lava
from tests.helpers.servers import closed_port


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def saved_entries(tmp_path: Path) -> dict:
    config = json.loads((tmp_path / "config" / "config.json").read_text())
    return config["profiles"]["default"].get("saved_keys", {})


def env_key(tool: str, ref: str) -> str:
    """The raw key `lava env TOOL --key REF` hands out (what users eval)."""
    result = run_lava("env", tool, "--key", ref, "--format", "json")
    assert result.code == 0, result.output
    env = json.loads(result.stdout)["env"]
    return next(v for v in env.values() if v.startswith("lava_sk_"))


def revoke_elsewhere(emulator, spend_key_id: str, secret: str | None = None) -> None:
    """Revoke behind the CLI's back, as the dashboard or another machine would."""
    httpx.delete(
        f"{emulator.base_url}/spend_keys/{spend_key_id}",
        headers={"Authorization": f"Bearer {secret or emulator.secrets[0]}"},
    ).raise_for_status()


def test_a_renamed_saved_key_is_found_by_its_new_name(logged_in):
    key = create("--name", "before", "--save")
    assert run_lava("keys", "update", "before", "--name", "after", "-q").code == 0
    assert env_key("openai-sdk", "after") == key["key"]
    gone = run_lava("env", "openai-sdk", "--key", "before")
    assert gone.code == 4 and "no saved spend key 'before'" in gone.stderr


def test_a_shape_change_reaches_the_saved_record(logged_in):
    key = create("--name", "shaped", "--save")  # openai shape
    refused = run_lava("env", "claude-code", "--key", "shaped")
    assert refused.code == 2 and "anthropic-shape" in refused.stderr
    assert run_lava("keys", "update", "shaped", "--shape", "anthropic", "-q").code == 0
    assert env_key("claude-code", "shaped") == key["key"]
    # `prompt --key` now speaks the key's new shape: the gateway accepts it.
    reply = run_lava("prompt", "--key", "shaped", "hi", "--json", "--max-tokens", "5")
    assert reply.code == 0, reply.output
    assert json.loads(reply.stdout)["response"]["type"] == "message"  # Anthropic's shape


def test_rotate_keeps_a_renamed_saved_key_current(logged_in):
    create("--name", "r1", "--save")
    assert run_lava("keys", "update", "r1", "--name", "r2", "-q").code == 0
    rotated = run_lava("keys", "rotate", "r2", "-q")
    assert rotated.code == 0, rotated.output
    assert env_key("openai-sdk", "r2") == rotated.stdout.strip()


def test_revoke_of_a_saved_key_gone_on_the_server_removes_the_copy(
    logged_in, memory_keyring, tmp_path
):
    key = create("--name", "ghost", "--save")
    kid = key["spend_key_id"]
    revoke_elsewhere(logged_in, kid)
    result = run_lava("keys", "revoke", "ghost", "--yes", "--json")
    assert result.code == 0, result.output
    assert json.loads(result.stdout) == {
        "spend_key_id": kid, "name": "ghost", "success": True, "already_revoked": True,
    }  # fmt: skip
    assert "no longer has the saved key 'ghost'" in result.stderr
    assert "removed its saved copy" in result.stderr
    assert kid not in saved_entries(tmp_path)
    assert ("lava-cli", f"spend_key:{kid}") not in memory_keyring.entries
    # The end state holds, so doing it again is a plain "not found" now.
    assert run_lava("keys", "revoke", "ghost", "--yes").code == 4


def test_revoke_by_saved_id_and_piped_output(logged_in, tmp_path):
    key = create("--name", "ghost2", "--save")
    kid = key["spend_key_id"]
    revoke_elsewhere(logged_in, kid)
    result = run_lava("keys", "revoke", kid, "--yes")
    assert result.code == 0, result.output
    assert result.stdout == f"{kid}\tghost2\trevoked\n"
    assert saved_entries(tmp_path) == {}


def test_other_commands_drop_a_gone_saved_key_and_exit_4(logged_in, tmp_path):
    kid = create("--name", "stale", "--save")["spend_key_id"]
    keep = create("--name", "alive", "--save")["spend_key_id"]
    revoke_elsewhere(logged_in, kid)
    result = run_lava("keys", "show", "stale")
    assert result.code == 4
    assert "no longer exists" in result.stderr and "removed its saved copy" in result.stderr
    assert set(saved_entries(tmp_path)) == {keep}


def test_a_404_under_another_wallets_secret_keeps_the_copy(logged_in, monkeypatch, tmp_path):
    kid = create("--name", "mine", "--save")["spend_key_id"]
    monkeypatch.setenv("LAVA_SECRET_KEY", logged_in.secrets[1])  # another wallet
    result = run_lava("keys", "revoke", "mine", "--yes")
    assert result.code == 4
    assert "belongs to wallet" in result.stderr and "lava keys forget" in result.stderr
    assert kid in saved_entries(tmp_path)  # its only copy of a live key: kept


def test_prompt_with_a_revoked_saved_key_drops_it(logged_in, tmp_path):
    kid = create("--name", "used", "--save")["spend_key_id"]
    revoke_elsewhere(logged_in, kid)
    result = run_lava("prompt", "--key", "used", "hi", "--no-stream")
    assert result.code == 3
    assert "removed its saved copy" in result.stderr
    assert saved_entries(tmp_path) == {}
    # With the stale default gone, the next run makes and saves a fresh key.
    again = run_lava("prompt", "hi", "--no-stream")
    assert again.code == 0, again.output
    assert [m["name"] for m in saved_entries(tmp_path).values()] == ["lava-cli"]


def test_forget_is_local_and_works_offline(logged_in, memory_keyring, monkeypatch, tmp_path):
    key = create("--name", "local", "--save")
    kid = key["spend_key_id"]
    # No server and no secret: forget must not need either.
    monkeypatch.setenv("LAVA_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    monkeypatch.delenv("LAVA_SECRET_KEY")
    result = run_lava("keys", "forget", "local")
    assert result.code == 0, result.output
    assert "Forgot the saved key 'local'" in result.stderr
    assert saved_entries(tmp_path) == {}
    assert ("lava-cli", f"spend_key:{kid}") not in memory_keyring.entries
    assert logged_in.store.key_for_raw(key["key"]) is not None  # still alive on the server
    missing = run_lava("keys", "forget", "local")
    assert missing.code == 4 and "no saved spend key 'local'" in missing.stderr
    assert "hint: no key is saved here" in missing.stderr


@pytest.mark.parametrize("ref", ["id", "name"])
def test_forget_json_and_quiet(logged_in, tmp_path, ref):
    kid = create("--name", "fj", "--save")["spend_key_id"]
    create("--name", "other", "--save")
    target = kid if ref == "id" else "fj"
    result = run_lava("keys", "forget", target, "--json")
    assert result.code == 0
    assert json.loads(result.stdout) == {"spend_key_id": kid, "name": "fj", "forgotten": True}
    assert [m["name"] for m in saved_entries(tmp_path).values()] == ["other"]
    typo = run_lava("keys", "forget", "othr")
    assert typo.code == 4 and "saved here: other (sk_" in typo.stderr
    assert run_lava("keys", "forget", "other", "-q").stdout.strip().startswith("sk_")


def test_forget_in_a_file_store_profile(emulator, monkeypatch, tmp_path):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    login = run_lava("login", "--with-token", "--insecure-storage", input=emulator.secrets[0])
    assert login.code == 0, login.output
    kid = create("--name", "filed", "--save")["spend_key_id"]
    secrets_file = tmp_path / "config" / "secrets.json"
    assert f"spend_key:{kid}" in json.loads(secrets_file.read_text())
    assert run_lava("keys", "forget", "filed").code == 0
    assert f"spend_key:{kid}" not in json.loads(secrets_file.read_text())
    assert "profile:default" in json.loads(secrets_file.read_text())  # the login stays


def test_doctor_suggests_forget_for_a_gone_saved_key(logged_in, monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # the developer's own tool settings
    kid = create("--name", "dead", "--save")["spend_key_id"]
    revoke_elsewhere(logged_in, kid)
    result = run_lava("doctor", "--json")
    assert result.code == 1
    check = next(c for c in json.loads(result.stdout) if c["check"] == "saved key dead")
    assert check["status"] == "fail"
    assert f"lava keys forget {kid}" in check["fix"]
    assert run_lava("keys", "forget", kid).code == 0
    assert run_lava("doctor").code == 0  # cleared for good
