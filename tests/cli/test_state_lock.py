"""Local state under a lock: real `python -m lava_cli` processes racing on one config dir.

Each test starts its processes together and against the session emulator (a real
loopback port), so what they race on is exactly what users race on: config.json and
the 0600 secrets file of a profile with `--insecure-storage`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_lava
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import spawn_lava

pytestmark = pytest.mark.slow

PROCESS_TIMEOUT_S = 120  # generous: 2 shared cores, 8 Python start-ups at once


def lava_env(tmp_path: Path, emulator: object, **extra: str) -> dict[str, str]:
    """A child environment: this test's config dir, the emulator, no usable keyring."""
    return clean_env(
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
        LAVA_BASE_URL=emulator.base_url,  # type: ignore[attr-defined]
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        NO_COLOR="1",
        **extra,
    )


def lava(args: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.Popen[str]:
    """Started, not awaited (several run at once); `stdin` (given to finish()) or none."""
    return spawn_lava(args, env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)


def finish(procs: list[subprocess.Popen[str]], stdin: str | None = None) -> list[tuple[int, str]]:
    """Wait for every process (never forever); (exit code, stdout + stderr) each."""
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(stdin, timeout=PROCESS_TIMEOUT_S)
        out.append((proc.returncode, stdout + stderr))
    return out


def login_file_storage(tmp_path: Path, emulator: object) -> dict[str, str]:
    env = lava_env(tmp_path, emulator)
    secret = emulator.secrets[0]  # type: ignore[attr-defined]
    [(code, output)] = finish(
        [lava(["login", "--with-token", "--insecure-storage"], env, "")], secret
    )
    assert code == 0, output
    return env


def test_parallel_saves_keep_every_key(emulator, tmp_path, monkeypatch):
    env = login_file_storage(tmp_path, emulator)
    names = [f"par{i}" for i in range(8)]
    procs = [lava(["keys", "create", "--name", n, "--save", "-q"], env) for n in names]
    results = finish(procs)
    assert all(code == 0 for code, _ in results), results
    raws = {out.strip() for _, out in results}
    assert len(raws) == 8

    # Every one of them is usable by name afterwards, with the value the server minted.
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    for name in names:
        result = run_lava("env", "openai-sdk", "--key", name, "--format", "json")
        assert result.code == 0, (name, result.output)
        value = json.loads(result.stdout)["env"]["OPENAI_API_KEY"]
        assert value in raws
        assert emulator.store.key_for_raw(value) is not None
    saved = json.loads((tmp_path / "config" / "config.json").read_text())
    assert len(saved["profiles"]["default"]["saved_keys"]) == 8
    secrets = json.loads((tmp_path / "config" / "secrets.json").read_text())
    assert len([e for e in secrets if e.startswith("spend_key:")]) == 8


def test_parallel_first_prompts_provision_exactly_one_key(emulator, tmp_path):
    env = login_file_storage(tmp_path, emulator)
    procs = [lava(["prompt", f"hello {i}", "--no-stream"], env) for i in range(6)]
    results = finish(procs)
    assert all(code == 0 for code, _ in results), results
    wallet = emulator.store.wallet_for_secret(emulator.secrets[0])
    keys = emulator.store.list_keys(wallet.wallet_id, limit=100).data
    assert [k.settings.name for k in keys] == ["lava-cli"]
    # Exactly one process says it created the key; the others used the saved one.
    assert sum("Created spend key 'lava-cli'" in out for _, out in results) == 1


HOLDER = """
import sys, time
from lava_cli.config import state_lock
with state_lock():
    print("held", flush=True)
    sys.stdin.read()  # hold until the test closes our stdin
"""


def test_a_held_lock_times_out_with_exit_6_naming_the_file(emulator, tmp_path):
    env = login_file_storage(tmp_path, emulator)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"  # ready signal, no sleep
        started = time.monotonic()
        [(code, output)] = finish([lava(["logout"], {**env, "LAVA_LOCK_TIMEOUT": "1"})])
        elapsed = time.monotonic() - started
    finally:
        holder.communicate("", timeout=PROCESS_TIMEOUT_S)
    assert code == 6, output
    lock_file = str(tmp_path / "config" / "lava.lock")
    assert lock_file in output
    assert "LAVA_LOCK_TIMEOUT" in output
    assert "Traceback" not in output
    assert elapsed < 30  # 1 s deadline plus a loaded machine's start-up, never a hang
    # Nothing changed while the lock was held elsewhere: still logged in.
    [(code, output)] = finish([lava(["auth", "status", "--json"], env)])
    assert code == 0 and json.loads(output)["secret_source"] == "file"


def test_lock_problems_are_one_error_line(emulator, tmp_path, monkeypatch):
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    login = run_lava("login", "--with-token", "--insecure-storage", input=emulator.secrets[0])
    assert login.code == 0, login.output
    monkeypatch.setenv("LAVA_LOCK_TIMEOUT", "soon")
    bad = run_lava("logout")
    assert bad.code == 2 and "LAVA_LOCK_TIMEOUT" in bad.stderr
    monkeypatch.delenv("LAVA_LOCK_TIMEOUT")
    lock = tmp_path / "config" / "lava.lock"
    lock.unlink()
    lock.mkdir()  # something in the lock's place that cannot be locked
    result = run_lava("logout")
    assert result.code == 1
    assert result.stderr.startswith(f"error: cannot lock {lock}")
    assert "this is a bug" not in result.stderr
