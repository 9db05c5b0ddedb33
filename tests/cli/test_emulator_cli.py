"""`lava emulator serve` as a real process: exports, flags, and gateway options."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers.emulators import serve_emulator
from tests.helpers.env import clean_env
from tests.helpers.process import lava

pytestmark = pytest.mark.slow


def serve(
    tmp_path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    served = serve_emulator(
        ["--db", str(tmp_path / "emu.sqlite3"), *args], clean_env(**(env or {}))
    )
    return served.proc, served.base_url


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    return err


def test_serve_prints_exports_and_a_generated_secret_only(tmp_path):
    proc, base = serve(tmp_path)
    try:
        models = httpx.get(base + "/models", timeout=5).json()
        assert models["object"] == "list"
    finally:
        err = stop(proc)
    assert "Traceback" not in err
    given = "aks_test_" + "g" * 32
    proc, base = serve(tmp_path, env={"LAVA_SECRET_KEY": given})
    try:
        assert (
            httpx.get(
                base + "/spend_keys", headers={"Authorization": f"Bearer {given}"}
            ).status_code
            == 200
        )
    finally:
        stop(proc)


def test_serve_reply_tokens_and_faults(tmp_path):
    secret = "aks_test_" + "h" * 32
    proc, base = serve(
        tmp_path, "--reply-tokens", "7", "--fault", "500:1", "--fault-seed", "1",
        env={"LAVA_SECRET_KEY": secret},
    )  # fmt: skip
    try:
        auth = {"Authorization": f"Bearer {secret}"}
        raw = httpx.post(base + "/spend_keys", json={"name": "f"}, headers=auth).json()["key"]
        answer = httpx.post(
            base + "/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {raw}"},
        )
        assert answer.status_code == 500  # the injected fault, at rate 1
    finally:
        stop(proc)
    proc, base = serve(tmp_path, "--reply-tokens", "7", env={"LAVA_SECRET_KEY": secret})
    try:
        auth = {"Authorization": f"Bearer {secret}"}
        raw = httpx.post(base + "/spend_keys", json={"name": "g"}, headers=auth).json()["key"]
        answer = httpx.post(
            base + "/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {raw}"},
        ).json()
        assert answer["usage"]["completion_tokens"] == 7
    finally:
        stop(proc)


def test_bad_serve_flags_are_usage_errors(tmp_path):
    for args in (["--fault", "boom"], ["--upstream", "gpt-4o=openai:https://x/v1"]):
        out = lava(["emulator", "serve", "--port", "0", *args], clean_env(), timeout=30)
        assert out.returncode == 2, out.stderr
        assert out.stderr.startswith("error: ")


def test_the_export_line_means_the_port_already_accepts_connections(tmp_path):
    """A script acts on ``export LAVA_BASE_URL=…`` the moment it reads it: the socket
    must listen by then. Before the fix the line came before uvicorn listened, and a
    connection made right away was refused (a flaky test, every time by hand)."""
    for attempt in range(5):
        proc, base = serve(tmp_path / str(attempt))
        try:
            url = urlsplit(base)
            assert url.hostname is not None and url.port is not None
            with socket.create_connection((url.hostname, url.port), timeout=5):
                pass  # refused if nothing listens yet
            assert httpx.get(base + "/models", timeout=10).status_code == 200
        finally:
            err = stop(proc)
        assert proc.returncode == 0, err
        assert "Traceback" not in err


# --- a database it cannot use: exit 2 at start, naming the file -------------------------


def _without_dac_override() -> None:
    """preexec_fn: drop CAP_DAC_OVERRIDE, so a root child is refused a 0444 file as
    anyone else is (root passes permission checks otherwise). Linux only."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(24, 1, 0, 0, 0) != 0:  # PR_CAPBSET_DROP, CAP_DAC_OVERRIDE
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _read_only_db(tmp_path: Path, secret: str) -> Path:
    """An emulator database that knows `secret`'s wallet, made read-only: starting on
    it writes nothing, so only a write probe notices."""
    from lava_cli.emulator.store import Store

    db = tmp_path / "ro.sqlite3"
    store = Store(db)
    store.create_wallet(secret)
    store.close()
    db.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    return db


@pytest.mark.parametrize("kind", ["not-sqlite", "directory", "read-only", "under-a-file"])
def test_a_database_it_cannot_use_is_a_usage_error_at_start(tmp_path, kind):
    secret = "aks_test_" + "r" * 32
    preexec = None
    if kind == "not-sqlite":
        db = tmp_path / "notes.txt"
        db.write_text("these are my notes, not a database\n" * 100)
    elif kind == "directory":
        db = tmp_path / "a-directory"
        db.mkdir()
    elif kind == "under-a-file":
        (tmp_path / "file").write_text("x")
        db = tmp_path / "file" / "emu.sqlite3"
    else:
        if not sys.platform.startswith("linux"):
            pytest.skip("dropping root's permission override needs Linux")
        db = _read_only_db(tmp_path, secret)
        preexec = _without_dac_override if os.geteuid() == 0 else None
    env = clean_env(LAVA_SECRET_KEY=secret)
    before = db.read_bytes() if db.is_file() else None
    out = lava(["emulator", "serve", "--port", "0", "--db", str(db)], env, timeout=30,
               preexec_fn=preexec)  # fmt: skip
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == ""  # no export line for a server that never served
    lines = out.stderr.splitlines()
    assert lines[0].startswith("error: ") and str(db) in lines[0], out.stderr
    assert lines[1].startswith("hint: ") and len(lines) == 2, out.stderr
    assert "bug" not in out.stderr and "Traceback" not in out.stderr
    if before is not None:
        assert db.read_bytes() == before  # refused, not "repaired"


def _secret_line(proc: subprocess.Popen[str]) -> str:
    """The `export LAVA_SECRET_KEY=…` line, printed right after the base URL's."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("export LAVA_SECRET_KEY="), line
    return line.strip().partition("=")[2]


def test_restarted_on_the_same_database_the_cli_finds_its_keys(tmp_path):
    """`lava emulator serve --db X` twice, driven through the CLI: the second start
    prints the same secret, and the spend key and secret key made before are there."""
    proc, base = serve(tmp_path)
    try:
        secret = _secret_line(proc)
        env = clean_env(LAVA_BASE_URL=base, LAVA_SECRET_KEY=secret, LAVA_CONFIG_DIR=str(tmp_path))
        made = lava(["keys", "create", "--name", "kept", "-q"], env)
        assert made.returncode == 0, made.stderr
        ci = lava(["secret-keys", "create", "--name", "ci", "-q"], env)
        assert ci.returncode == 0, ci.stderr
    finally:
        stop(proc)
    proc, base = serve(tmp_path)
    try:
        assert _secret_line(proc) == secret
        env = clean_env(LAVA_BASE_URL=base, LAVA_SECRET_KEY=secret, LAVA_CONFIG_DIR=str(tmp_path))
        keys = lava(["keys", "list", "--json"], env)
        assert keys.returncode == 0, keys.stderr
        assert [k["name"] for k in json.loads(keys.stdout)] == ["kept"]
        secrets = lava(["secret-keys", "list", "--json"], env)
        assert [k["name"] for k in json.loads(secrets.stdout)] == ["ci", "started with"]
        as_ci = lava(["keys", "list", "-q"], {**env, "LAVA_SECRET_KEY": ci.stdout.strip()})
        assert as_ci.returncode == 0, as_ci.stderr  # the CI secret survived the restart too
    finally:
        stop(proc)


def test_a_wallet_key_in_the_secrets_file_is_a_wallet(tmp_path):
    wallet_key = "lava_wk_" + "w" * 32
    listed = tmp_path / "secrets.txt"
    listed.write_text(f"# one wallet\n{wallet_key}\n")
    proc, base = serve(tmp_path, "--secrets-file", str(listed))
    try:
        env = clean_env(
            LAVA_BASE_URL=base, LAVA_SECRET_KEY=wallet_key, LAVA_CONFIG_DIR=str(tmp_path)
        )
        result = lava(["keys", "list", "--json"], env)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == []
    finally:
        stop(proc)


def test_serve_help_says_where_the_generated_secret_is_kept():
    from tests.conftest import run_lava

    result = run_lava("emulator", "serve", "--help")
    text = " ".join(result.stdout.split())
    # FILE is the --db placeholder (one placeholder style: tests/cli/test_invocation.py)
    assert "in FILE.secret (mode 0600)" in text and "every start prints it" in text
    assert "a test secret is generated and printed" not in text
    assert "(aks_… or lava_wk_…)" in text
