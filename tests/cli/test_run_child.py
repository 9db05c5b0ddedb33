"""`lava run` and `lava env --create` as real processes: what the child sees, exit codes
as a shell gives them, a revoke that fails, `--keep`, and no key left that nobody holds."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lava_cli.emulator.server import start_in_thread
from tests.conftest import run_lava
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import lava, spawn_lava

pytestmark = pytest.mark.slow

PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"
SPEND_RE = re.compile(r"lava_sk_[A-Za-z0-9_\-]+")


def lava_env(tmp_path: Path, emulator: object, **extra: str) -> dict[str, str]:
    """The README's CI recipe: the secret in LAVA_SECRET_KEY, no keyring."""
    return clean_env(
        HOME=str(tmp_path / "home"),
        LAVA_CONFIG_DIR=str(tmp_path / "cfg"),
        LAVA_SECRET_KEY=emulator.secrets[0],  # type: ignore[attr-defined]
        LAVA_BASE_URL=emulator.base_url,  # type: ignore[attr-defined]
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        **extra,
    )


def wallet_keys(env: dict[str, str]) -> list[dict]:
    listed = lava(["keys", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


# --- item: the child's environment holds no credential but the run's key ----------------


@pytest.mark.parametrize("tool", [None, "claude-code"])
def test_the_child_sees_only_the_runs_key(emulator, tmp_path, tool):
    wallet = "lava_wk_" + "W" * 32
    other_secret = "aks_live_" + "L" * 32
    stale = "lava_sk_" + "s" * 40
    preview = "lava_sk_abcdefgh****"
    env = lava_env(
        tmp_path,
        emulator,
        LAVA_WALLET=wallet,
        DEPLOY_HEADER=f"Authorization: Bearer {other_secret}",
        OPENAI_API_KEY=stale,
        ANTHROPIC_API_KEY=stale,
        MY_OLD_KEY=stale,
        KEY_PREVIEW=preview,
        UNRELATED="kept as is",
    )
    args = ["run", *(["--tool", tool] if tool else []), "--", sys.executable, "-c", PRINT_ENV]
    result = lava(args, env)
    assert result.returncode == 0, result.stderr
    seen: dict[str, str] = json.loads(result.stdout)
    raw = seen["LAVA_SPEND_KEY"]
    assert raw.startswith("lava_sk_") and raw != stale
    for gone in ("LAVA_SECRET_KEY", "LAVA_WALLET", "DEPLOY_HEADER", "MY_OLD_KEY"):
        assert gone not in seen
    blob = json.dumps(seen)
    for secret in (emulator.secrets[0], wallet, other_secret, stale):
        assert secret not in blob
    assert "aks_" not in blob and "lava_wk_" not in blob
    spend_keys = {
        m for m in SPEND_RE.findall(blob) if not blob.startswith("****", blob.find(m) + len(m))
    }
    assert spend_keys == {raw}  # the run's key is the only spend key the child holds
    if tool == "claude-code":
        assert seen["ANTHROPIC_AUTH_TOKEN"] == raw
        assert "ANTHROPIC_API_KEY" not in seen and "OPENAI_API_KEY" not in seen
    else:
        assert seen["OPENAI_API_KEY"] == raw
        assert "ANTHROPIC_API_KEY" not in seen
    assert seen["KEY_PREVIEW"] == preview and seen["UNRELATED"] == "kept as is"
    assert "revoked" in result.stderr
    assert wallet_keys(env) == []


# --- item: a command that cannot run exits as a shell would, and the key is revoked -------


def _shell_code(argv0: str, cwd: Path) -> int:
    return subprocess.run(["bash", "-c", '"$0"', argv0], cwd=cwd, capture_output=True).returncode


@pytest.mark.parametrize(
    ("case", "expected"),
    [("missing", 127), ("missing-path", 127), ("bad-interpreter", 127),
     ("not-executable", 126), ("directory", 126), ("not-a-program", 126)],
)  # fmt: skip
def test_a_command_that_cannot_run_exits_as_a_shell_would(emulator, tmp_path, case, expected):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")  # not executable
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/definitely/not/an/interpreter\n")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x7fELF\x00 not really")
    for path in (bad, garbage):
        path.chmod(0o755)
    argv0 = {
        "missing": "definitely-not-a-command-xyz",
        "missing-path": str(tmp_path / "nope" / "tool"),
        "bad-interpreter": str(bad),
        "not-executable": str(script),
        "directory": str(tmp_path),
        "not-a-program": str(garbage),
    }[case]
    assert _shell_code(argv0, tmp_path) == expected  # what bash says for the same command
    env = lava_env(tmp_path, emulator)
    result = lava(["run", "--", argv0], env)
    assert result.returncode == expected, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and argv0 in errors[0], result.stderr
    assert "hint:" in result.stderr
    assert wallet_keys(env) == []  # revoked all the same


def test_a_mistyped_option_is_a_usage_error_not_a_missing_command(logged_in):
    result = run_lava("run", "--bogus", "--", "true")
    assert result.code == 2, result.output
    assert "no such option: --bogus" in result.stderr
    assert json.loads(run_lava("keys", "list", "--json").stdout) == []  # none was created


# --- later issue: a revoke that fails keeps the child's exit code and says what to do -----


def test_a_failed_revoke_keeps_the_childs_code_and_warns(tmp_path, monkeypatch):
    secret = "aks_test_" + "r" * 32
    ready, go = tmp_path / "ready", tmp_path / "go"
    child = (
        "import pathlib, sys, time\n"
        f"pathlib.Path({str(ready)!r}).write_text('1')\n"
        f"while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.02)\n"
        "sys.exit(5)\n"
    )
    emu = start_in_thread(secrets=[secret])
    try:
        env = lava_env(tmp_path, emu, LAVA_MAX_RETRIES="0", LAVA_TIMEOUT="10")
        proc = spawn_lava(["run", "--name", "doomed", "--", sys.executable, "-c", child], env)
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), proc.communicate(timeout=30)
        monkeypatch.setenv("LAVA_SECRET_KEY", secret)
        monkeypatch.setenv("LAVA_BASE_URL", emu.base_url)
        keys = json.loads(run_lava("keys", "list", "--json").stdout)
        assert [k["name"] for k in keys] == ["doomed"]
        kid = keys[0]["spend_key_id"]
    finally:
        emu.stop()  # the API goes away while the child runs: the revoke cannot happen
    go.write_text("1")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 5, err  # the child's code, not lava's trouble
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warning and kid in warning[0] and "NOT revoked" in warning[0], err
    assert f"lava keys revoke {kid} --yes" in err
    assert "Traceback" not in err


# --- later issue: --keep keeps the key where it can be found again ---------------------


def test_keep_saves_the_key_so_it_can_be_used_again(logged_in):
    result = run_lava(
        "run", "--keep", "--name", "kept", "--", sys.executable, "-c", "print('child ran')"
    )
    assert result.code == 0, result.output
    assert "kept key kept" in result.stderr and "--key kept" in result.stderr
    [key] = json.loads(run_lava("keys", "list", "--json").stdout)
    env = json.loads(run_lava("env", "openai-sdk", "--key", "kept", "--format", "json").stdout)
    raw = env["env"]["OPENAI_API_KEY"]
    assert raw.startswith("lava_sk_") and raw[:16] + "****" == key["key_preview"]
    assert raw not in result.stdout + result.stderr  # kept in the store, never printed
    prompt = run_lava("prompt", "hi", "--key", "kept", "--no-stream")
    assert prompt.code == 0, prompt.output


def test_keep_without_a_store_refuses_before_the_child_runs(emulator, tmp_path):
    marker = tmp_path / "ran"
    env = lava_env(tmp_path, emulator)
    code = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('1')"
    result = lava(["run", "--keep", "--", sys.executable, "-c", code], env)
    assert result.returncode == 1, result.stderr
    assert "revoked" in result.stderr and "keyring" in result.stderr
    assert not marker.exists()  # nothing ran with a key that could not be kept
    assert result.stdout == ""
    assert wallet_keys(env) == []


# --- item: `env --create` that cannot save leaves no key nobody holds ----------------------


def test_env_create_without_a_keyring_revokes_the_key(emulator, tmp_path):
    env = lava_env(tmp_path, emulator)
    result = lava(["env", "openai-sdk", "--create"], env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # `eval "$(lava env …)"` gets nothing to run
    assert "revoked" in result.stderr and "lava_sk_" not in result.stderr
    assert wallet_keys(env) == []


# --- item: --shape is read the same way, whatever the case, by every command ---------------


@pytest.mark.parametrize("tool", [None, "claude-code"])
def test_run_takes_the_shape_in_any_case(emulator, tmp_path, tool):
    env = lava_env(tmp_path, emulator)
    picked = ["--tool", tool] if tool else []
    args = ["run", "--shape", "Anthropic", *picked, "--", sys.executable, "-c", PRINT_ENV]
    result = lava(args, env)
    assert result.returncode == 0, result.stderr
    seen: dict[str, str] = json.loads(result.stdout)
    token = "ANTHROPIC_AUTH_TOKEN" if tool else "ANTHROPIC_API_KEY"
    assert seen[token] == seen["LAVA_SPEND_KEY"]
    assert "OPENAI_API_KEY" not in seen
    assert wallet_keys(env) == []
