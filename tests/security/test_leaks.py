"""Canary hunt: a canary secret and canary spend keys go through every command and flag
combination, every error path and Ctrl-C; then every place output can land is searched.

Sinks: stdout, stderr, log records, every file under the sandbox (config dir, data dir,
HOME, the emulator's database and WAL) and the argv of the child `lava run` starts.
A leak is any occurrence of the part of a canary that its preview hides (so the full
value is caught too). The only intended places: the stdout of `keys create`, `keys
rotate` and `env` (raw spend keys, shown once), `$GITHUB_ENV` for `--format github`,
the child's environment for `lava run`, the stdin of a `keys rotate --deliver`
command, and the store the user chose for secrets
(the keyring, or the 0600 file of `--insecure-storage`). Figure: 0 elsewhere.

Also here: interrupted writes of the config and the insecure file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lava_cli import config as config_module
from lava_cli.credentials import redact, scrub
from lava_cli.emulator import ids
from lava_cli.emulator.server import start_in_thread
from tests.conftest import run_lava, wait_for
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.fuzz import fuzz_settings, report
from tests.helpers.process import spawn_lava
from tests.helpers.servers import RawServer, reply

pytestmark = pytest.mark.slow  # the canary hunt: every command and error path, real processes

ROOT = Path(__file__).resolve().parents[2]
CANARY_SECRET = "aks_test_CANARYsecret" + secrets.token_hex(12)
CANARY_SPEND = "lava_sk_CANARYspend" + secrets.token_hex(16)
MINTED: list[str] = []  # every raw key the canary emulator handed out
INTENDED_STDOUT = (("keys", "create"), ("keys", "rotate"), ("keys", "apply"), ("env",))
CHILD = (
    "import json, sys\n"
    "cmdline = open('/proc/self/cmdline', 'rb').read().decode('utf-8', 'replace')\n"
    "open(sys.argv[1], 'w').write(json.dumps({'argv': sys.argv, 'cmdline': cmdline}))\n"
)


def hidden(value: str) -> str:
    """What the preview of `value` hides: finding it anywhere is a leak."""
    prefix = "lava_sk_" if value.startswith("lava_sk_") else value[:9]
    return value[len(prefix) + 8 :]


def set_env(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    """Set `name`, or unset it when `value` is empty."""
    if value:
        monkeypatch.setenv(name, value)
    else:
        monkeypatch.delenv(name, raising=False)


def canaries() -> list[str]:
    return [CANARY_SECRET, CANARY_SPEND, *MINTED]


def count(text: str | bytes, values: list[str] | None = None) -> int:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return sum(text.count(hidden(v)) for v in (values or canaries()))


class Hunt:
    """Tallies runs and occurrences per sink."""

    def __init__(self) -> None:
        self.runs = 0
        self.leaks: dict[str, int] = {}
        self.intended = 0
        self.examples: list[str] = []

    def leak(self, sink: str, n: int, what: str) -> None:
        if n:
            self.leaks[sink] = self.leaks.get(sink, 0) + n
            self.examples.append(f"{sink}: {what}")

    def run(self, *argv: str, input: str | None = None, tty: bool = False) -> Any:
        result = run_lava(*argv, input=input, tty=tty)
        self.runs += 1
        words = tuple(a for a in argv if not a.startswith("-"))
        intended = any(words[: len(p)] == p for p in INTENDED_STDOUT)
        if intended:
            self.intended += count(
                result.stdout, [v for v in canaries() if v.startswith("lava_sk_")]
            )
            self.leak(
                "stdout", count(result.stdout, [CANARY_SECRET]), f"{argv} {result.stdout[:200]}"
            )
        else:
            self.leak("stdout", count(result.stdout), f"{argv} {result.stdout[:200]}")
        self.leak("stderr", count(result.stderr), f"{argv} {result.stderr[:300]}")
        assert "Traceback" not in result.stderr or os.environ.get("LAVA_DEBUG"), result.stderr
        return result

    def files(self, root: Path, allowed: set[Path]) -> int:
        scanned = 0
        for path in root.rglob("*"):
            if path.is_file() and path not in allowed:
                scanned += 1
                self.leak("files", count(path.read_bytes()), str(path))
        return scanned

    def summary(self, name: str) -> str:
        total = sum(self.leaks.values())
        return (
            f"canary hunt ({name}): {total} canary occurrences outside intended places "
            f"across {self.runs} runs"
        )


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and XDG dirs inside tmp_path, so every file the tool writes is found."""
    home = tmp_path / "home"
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):  # fmt: skip
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("GITHUB_ENV", str(tmp_path / "github_env"))
    return tmp_path


@pytest.fixture
def canary_emulator(sandbox: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An emulator on a file database whose wallet secret and minted keys are canaries."""
    real = ids.new_raw_key

    def minted() -> str:
        value = "lava_sk_CANARY" + real().removeprefix("lava_sk_")[6:]
        MINTED.append(value)
        return value

    monkeypatch.setattr(ids, "new_raw_key", minted)
    db = sandbox / "emulator" / "emu.sqlite3"
    with start_in_thread(db_path=str(db), secrets=[CANARY_SECRET]) as emu:
        monkeypatch.setenv("LAVA_SECRET_KEY", CANARY_SECRET)
        monkeypatch.setenv("LAVA_BASE_URL", emu.base_url)
        yield emu


def _child(sandbox: Path) -> list[str]:
    return [sys.executable, "-c", CHILD, str(sandbox / f"child-{secrets.token_hex(4)}.json")]


def _deliver(sandbox: Path) -> str:
    """A `keys rotate --deliver` command that keeps what its stdin brings (an intended place)."""
    code = "import sys; open(sys.argv[1], 'w').write(sys.stdin.read())"
    return shlex.join([sys.executable, "-c", code, str(sandbox / "delivered.txt")])


def _emulator_runs(sandbox: Path) -> list[tuple[tuple[str, ...], str | None, dict[str, str]]]:
    """(argv, stdin, extra env) for every command and flag combination we know."""
    no_secret = {"LAVA_SECRET_KEY": ""}
    declared = sandbox / "keys.toml"
    declared.write_text('[keys.a1]\nspend_limit = "5/total"\n[keys.a2]\nshape = "anthropic"\n')
    one_more = sandbox / "more.toml"
    one_more.write_text(declared.read_text() + "[keys.a3]\n")
    keys_file, more = str(declared), str(one_more)
    runs: list[tuple[tuple[str, ...], str | None, dict[str, str]]] = [
        (("login", "--with-token"), CANARY_SECRET + "\n", no_secret),
        (("auth", "status"), None, no_secret),
        (("auth", "status", "--json"), None, no_secret),
        (("keys", "list"), None, no_secret),
        (("logout",), None, no_secret),
        (("login", "--with-token", "--insecure-storage"), CANARY_SECRET + "\n", no_secret),
        (("auth", "status", "--json"), None, no_secret),
        (("doctor",), None, no_secret),
        (("doctor", "--json"), None, {}),
        (("keys", "create", "--name", "ci", "--save"), None, {}),
        (("keys", "create", "--name", "other", "--json", "--spend-limit", "5/daily"), None, {}),
        (("keys", "create", "--name", "q", "--quiet", "--shape", "anthropic", "--save"), None, {}),
        (("keys", "create", "--name", "e1", "--format", "env"), None, {}),
        (("keys", "create", "--name", "e2", "--format", "dotenv", "--var", "X"), None, {}),
        (("keys", "create", "--name", "e3", "--format", "json"), None, {}),
        (("keys", "create", "--name", "e4", "--format", "github"), None, {}),
        (("keys", "list",), None, {}),
        (("keys", "list", "--json"), None, {}),
        (("keys", "list", "-q"), None, {}),
        (("keys", "show", "ci"), None, {}),
        (("keys", "show", "ci", "--json"), None, {}),
        (("keys", "update", "ci", "--spend-limit", "9/monthly", "--model", "gpt-4o-mini"), None, {}),
        (("keys", "update", "ci", "--all-models", "--json"), None, {}),
        (("keys", "pause", "ci"), None, {}),
        (("prompt", "hi", "--key", "ci"), None, {}),  # paused: 401 path
        (("keys", "resume", "ci", "--json"), None, {}),
        (("keys", "check", "ci"), None, {}),
        (("keys", "check", "ci", "--json", "--min-remaining", "1"), None, {}),
        (("prompt", "hi", "--key", "ci"), None, {}),
        (("prompt", "hi", "--key", "ci", "--no-stream", "--json"), None, {}),
        (("prompt", "hi", "--key", "q", "--usage"), None, {}),
        (("prompt", "hi", "--key", "ci", "--model", "nope"), None, {}),
        (("prompt", "hi", "--key", "ci", "--shape", "anthropic"), None, {}),
        (("models",), None, {}),
        (("models", "--key", "ci", "--json"), None, {}),
        (("usage",), None, {}),
        (("usage", "ci"), None, {}),
        (("usage", "--wallet", "--since", "7d", "--json"), None, {}),
        (("env", "openai-sdk", "--key", "ci"), None, {}),
        (("env", "claude-code", "--key", "q", "--format", "json"), None, {}),
        (("env", "codex", "--key", "ci", "--format", "dotenv"), None, {}),
        (("env", "cursor", "--key", "ci"), None, {}),
        (("env", "langchain", "--create", "--name", "lc"), None, {}),
        (("keys", "rotate", "ci"), None, {}),
        (("keys", "rotate", "ci", "--json"), None, {}),
        (("keys", "rotate", "q", "--quiet", "--save"), None, {}),
        (("keys", "rotate", "other", "--format", "env"), None, {}),
        (("keys", "rotate", "ci", "--deliver", _deliver(sandbox)), None, {}),  # printed nowhere
        (("keys", "rotate", "ci", "--deliver", "false", "--json"), None, {}),  # on stdout only
        (("keys", "check", "ci", "--max-used", "80%", "--json"), None, {}),
        (("usage", "--format", "csv"), None, {}),
        (("usage", "ci", "--by", "day", "--format", "json"), None, {}),
        (("run", "--", *_child(sandbox)), None, {}),
        (("run", "--tool", "claude-code", "--", *_child(sandbox)), None, {}),
        (("run", "--keep", "--name", "kept", "--", *_child(sandbox)), None, {}),
        (("keys", "revoke", "kept", "--yes"), None, {}),
        (("keys", "revoke", "e1", "--yes", "--json"), None, {}),
        (("keys", "revoke", "ci", "--yes"), None, {}),
        (("keys", "apply", "-f", keys_file, "--dry-run"), None, {}),
        (("keys", "apply", "-f", keys_file, "--yes"), None, {}),
        (("keys", "apply", "-f", keys_file, "--check"), None, {}),
        (("keys", "export"), None, {}),
        (("keys", "export", "--json"), None, {}),
        (("keys", "apply", "-f", more, "--yes", "--format", "env"), None, {}),
        (("keys", "apply", "-f", "-", "--yes", "--save"), "[keys.a4]\n", {}),
        (("prompt", "hi"), None, {"LAVA_SPEND_KEY": CANARY_SPEND}),  # unknown key: 401
        (("env", "openai-sdk"), None, {"LAVA_SPEND_KEY": CANARY_SPEND}),
        (("keys", "create", "--name", "x", "--spend-limit", CANARY_SPEND), None, {}),  # refused
        (("keys", "show", CANARY_SECRET), None, {}),  # a secret in argv: refused, redacted
    ]  # fmt: skip
    return runs


def test_canaries_through_every_command_against_the_emulator(
    canary_emulator, sandbox, monkeypatch, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    hunt = Hunt()
    argvs: list[list[str]] = []
    real_popen = subprocess.Popen

    def spy(args: Any, *a: Any, **kw: Any) -> Any:
        argvs.append([str(x) for x in args])
        return real_popen(args, *a, **kw)

    monkeypatch.setattr(subprocess, "Popen", spy)
    for mode in ({}, {"--verbose": ""}, {"LAVA_DEBUG": "1"}):
        canary_emulator.reset()
        for argv, stdin, env in _emulator_runs(sandbox):
            for name, value in {
                **env,
                **{k: v for k, v in mode.items() if k != "--verbose"},
            }.items():
                set_env(monkeypatch, name, value)
            full = ("--verbose", *argv) if "--verbose" in mode else argv
            hunt.run(*full, input=stdin, tty=argv[:2] == ("keys", "list") and not env)
            monkeypatch.setenv("LAVA_SECRET_KEY", CANARY_SECRET)
            monkeypatch.delenv("LAVA_SPEND_KEY", raising=False)
            monkeypatch.delenv("LAVA_DEBUG", raising=False)
    monkeypatch.setattr(subprocess, "Popen", real_popen)
    children = sorted(sandbox.glob("child-*.json"))
    assert len(children) == 9, "every `lava run` child reported its argv"
    for path in children:
        hunt.leak("child argv", count(path.read_text()), path.name)
    for argv in argvs:
        hunt.leak("child argv", count(" ".join(argv)), " ".join(argv))
    hunt.leak("log records", count(caplog.text), caplog.text[:300])
    secrets_file = sandbox / "config" / "secrets.json"
    delivered = sandbox / "delivered.txt"
    assert count(delivered.read_text()) == 1, "rotate --deliver handed the command its key"
    allowed = {sandbox / "github_env", secrets_file, delivered, *children}
    scanned = hunt.files(sandbox, allowed)
    # The insecure file is where the user asked the secret to go: 0600, and nothing else.
    if secrets_file.exists():
        assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    github_env = (sandbox / "github_env").read_text()
    assert count(github_env) >= 1 and "LAVA_SPEND_KEY=lava_sk_CANARY" in github_env
    report(capsys, hunt.summary("emulator") + f", {scanned} files, {len(MINTED)} minted keys")
    assert hunt.leaks == {}, "\n".join(hunt.examples[:10])
    assert hunt.intended > 0, "raw keys should have been shown where intended (the hunt sees them)"


# --- every error path, over a stand-in server that echoes the credentials back ----------


def _echo(status: str, kind: str) -> Any:
    """Answers `status` with a body that repeats the request's credentials."""

    def handler(conn: socket.socket, head: bytes, n: int) -> None:
        creds = " ".join(
            line.split(b":", 1)[1].strip().decode()
            for line in head.split(b"\r\n")
            if line.lower().startswith((b"authorization:", b"x-api-key:"))
        )
        if kind == "timeout":
            time.sleep(0.6)
            return
        if kind == "reset":
            conn.close()
            return
        if kind == "html":
            reply(conn, status, f"<html>bad key {creds}</html>".encode(), "text/html")
        elif kind == "malformed":
            reply(conn, status, f'{{"error": "{creds}'.encode(), "application/json")
        elif kind == "sse":
            body = f'data: {{"error": {{"message": "key {creds} refused"}}}}\n\n'.encode()
            reply(conn, status, body, "text/event-stream")
        else:
            body = json.dumps({"error": {"message": f"Invalid API key {creds}", "code": "x"}})
            reply(conn, status, body.encode(), "application/json")

    return handler


ERRORS = [
    ("401 Unauthorized", "json"), ("403 Forbidden", "json"), ("500 Internal Server Error", "json"),
    ("502 Bad Gateway", "html"), ("200 OK", "malformed"), ("200 OK", "sse"),
    ("200 OK", "timeout"), ("200 OK", "reset"), ("429 Too Many Requests", "json"),
]  # fmt: skip
ERROR_COMMANDS = [
    ("keys", "list"), ("keys", "create", "--name", "ci"), ("keys", "rotate", "sk_" + "a" * 24),
    ("keys", "show", "ci", "--json"), ("prompt", "hi"), ("prompt", "hi", "--no-stream"),
    ("prompt", "hi", "--shape", "anthropic"), ("models", "--json"), ("usage", "--wallet"),
    ("login", "--with-token"), ("doctor",), ("env", "openai-sdk", "--create"),
]  # fmt: skip


def test_canaries_through_every_error_path(sandbox, monkeypatch, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    hunt = Hunt()
    monkeypatch.setenv("LAVA_SECRET_KEY", CANARY_SECRET)
    monkeypatch.setenv("LAVA_SPEND_KEY", CANARY_SPEND)
    monkeypatch.setenv("LAVA_MAX_RETRIES", "0")
    monkeypatch.setenv("LAVA_TIMEOUT", "0.2")
    for status, kind in ERRORS:
        server = RawServer(_echo(status, kind))
        monkeypatch.setenv("LAVA_BASE_URL", server.base_url)
        for argv in ERROR_COMMANDS:
            for debug in ("", "1"):
                set_env(monkeypatch, "LAVA_DEBUG", debug)
                result = hunt.run("--verbose", *argv, input=CANARY_SECRET + "\n")
                assert result.code != 0, (status, kind, argv)
        server.close()
    hunt.leak("log records", count(caplog.text), caplog.text[:300])
    scanned = hunt.files(sandbox, set())
    report(
        capsys,
        hunt.summary("error paths: 401/403/429/5xx/timeout/reset/malformed/HTML/SSE")
        + f", {scanned} files",
    )
    assert hunt.leaks == {}, "\n".join(hunt.examples[:10])


def test_an_unexpected_crash_with_lava_debug_does_not_print_secrets(sandbox, monkeypatch, capsys):
    """LAVA_DEBUG=1 prints the traceback: the exception text must still be scrubbed."""
    from lava_cli.api import client

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"state was {CANARY_SECRET} / {CANARY_SPEND}")

    monkeypatch.setattr(client.LavaClient, "list_spend_keys_page", boom)
    monkeypatch.setenv("LAVA_SECRET_KEY", CANARY_SECRET)
    monkeypatch.setenv("LAVA_BASE_URL", "http://127.0.0.1:9/v1")
    hunt = Hunt()
    for debug in ("", "1"):
        set_env(monkeypatch, "LAVA_DEBUG", debug)
        result = hunt.run("keys", "list")
        assert result.code == 1
        assert ("Traceback" in result.stderr) == bool(debug)
    report(capsys, hunt.summary("unexpected crash, LAVA_DEBUG=0/1"))
    assert hunt.leaks == {}, "\n".join(hunt.examples)


# --- Ctrl-C: real processes, real SIGINT -------------------------------------------------


def _stalls(kind: str, stalled: threading.Event) -> Any:
    """A server that answers part of a stream (or nothing) and then hangs; `stalled`
    is set once the client is left waiting (the ready signal for Ctrl-C)."""

    def handler(conn: socket.socket, head: bytes, n: int) -> None:
        if kind == "stream":
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            frame = b'data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n'
            conn.sendall(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
        stalled.set()
        time.sleep(30)

    return handler


def _interrupt(
    argv: list[str], env: dict[str, str], ready: Callable[[], object], what: str
) -> tuple[int, str, str]:
    """Run lava, wait for `ready` (the request is in flight), then press Ctrl-C."""
    proc = spawn_lava(argv, env, text=False)
    try:
        wait_for(ready, what)
    except AssertionError:
        proc.kill()
        _, err = proc.communicate(timeout=20)
        raise AssertionError(f"{argv}: {err.decode('utf-8', 'replace')}") from None
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def test_canaries_through_ctrl_c(sandbox, capsys):
    hunt = Hunt()
    base = clean_env(LAVA_SECRET_KEY=CANARY_SECRET, LAVA_SPEND_KEY=CANARY_SPEND, LAVA_DEBUG="1",
                     LAVA_CONFIG_DIR=str(sandbox / "config"), PYTHONPATH=str(ROOT),
                     PYTHON_KEYRING_BACKEND=NULL_KEYRING)  # fmt: skip
    stalled = threading.Event()
    stream, hang = RawServer(_stalls("stream", stalled)), RawServer(_stalls("hang", stalled))
    cases = [
        (["--verbose", "prompt", "hi"], stream),
        (["prompt", "hi", "--no-stream"], hang),
        (["--verbose", "keys", "list"], hang),
        (["keys", "create", "--name", "ci"], hang),
    ]
    codes = []
    for argv, server in cases:
        stalled.clear()
        code, out, err = _interrupt(
            argv, {**base, "LAVA_BASE_URL": server.base_url}, stalled.is_set, "the request"
        )
        hunt.runs += 1
        codes.append(code)
        hunt.leak("stdout", count(out), f"{argv} {out[:200]}")
        hunt.leak("stderr", count(err), f"{argv} {err[:300]}")
        assert code == 130, (argv, code, err)
        assert "interrupted" in err
    stream.close()
    hang.close()
    scanned = hunt.files(sandbox, set())
    report(
        capsys,
        hunt.summary("Ctrl-C (SIGINT) mid-stream and mid-request, LAVA_DEBUG=1")
        + f", exit codes {codes}, {scanned} files",
    )
    assert hunt.leaks == {}, "\n".join(hunt.examples)


def test_ctrl_c_during_lava_run_reaches_the_child_and_revokes(canary_emulator, sandbox, capsys):
    report_file = sandbox / "child.json"
    child = (
        "import json, sys, time\n"
        "cmdline = open('/proc/self/cmdline', 'rb').read().decode('utf-8', 'replace')\n"
        f"open({str(report_file)!r}, 'w').write(json.dumps({{'argv': sys.argv, 'cmdline': cmdline}}))\n"
        "time.sleep(30)\n"
    )
    env = clean_env(LAVA_SECRET_KEY=CANARY_SECRET, LAVA_BASE_URL=canary_emulator.base_url,
                    LAVA_CONFIG_DIR=str(sandbox / "config"), PYTHONPATH=str(ROOT), LAVA_DEBUG="1")  # fmt: skip
    code, out, err = _interrupt(
        ["run", "--", sys.executable, "-c", child], env, report_file.exists, "the child to start"
    )
    assert report_file.exists()
    leaks = count(out) + count(err) + count(report_file.read_text())
    live = canary_emulator.store.list_keys(
        canary_emulator.store.wallet_for_secret(CANARY_SECRET).wallet_id
    ).data
    report(
        capsys,
        f"canary hunt (Ctrl-C during lava run): {leaks} occurrences in stdout, stderr, child argv; exit {code}; keys left {len(live)}",
    )
    assert leaks == 0
    assert code == 130 and live == []


# --- redaction never raises -----------------------------------------------------------


# The characters `scrub` takes as part of a secret token (credentials._SECRET_RE).
KEY_CHARS = re.compile(r"[A-Za-z0-9_\-]*")


@fuzz_settings(200)
@given(
    st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")), st.integers(), st.none())
)
@example("0000000:0000")  # once called a leak: the ":0000" was never part of the token
@example("abcdefghijklmnopqrstuvwxyz")
def test_redact_and_scrub_never_raise(value):
    shown = redact(value)
    assert isinstance(shown, str) and shown.endswith("****")
    if isinstance(value, str):
        for prefix in ("lava_sk_", "aks_test_", "aks_live_"):
            text = f"x {prefix}{value} y"
            cleaned = scrub(text)
            assert isinstance(cleaned, str)
            # The secret is the run of key characters after the prefix; whatever follows
            # (":0000" in "0000000:0000") is ordinary text and stays.
            body = KEY_CHARS.match(value).group(0)  # type: ignore[union-attr]
            rest = value[len(body) :]
            if not body:
                continue
            preview = redact(prefix + body)
            assert cleaned.startswith("x " + preview)
            hidden = body[len(preview) - len(prefix) - len("****") :]
            # What the preview hides must not be in the output. Only a judge of the
            # hidden part that cannot be there by coincidence: not inside what may show
            # (a `*`-free piece of `cleaned` is always a piece of this text).
            allowed = f"x {preview}{rest} y"
            if hidden and hidden not in allowed:
                assert hidden not in cleaned, (text, cleaned)


# --- interrupted writes -----------------------------------------------------------------


def _stored(path: Path) -> str:
    return path.read_text() if path.exists() else ""


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
@pytest.mark.parametrize("target", ["config.json", "secrets.json"])
def test_an_interrupted_save_keeps_the_old_file_0600_and_the_key(
    target, failure, sandbox, monkeypatch, canary_emulator
):
    """The rename fails (disk full) or Ctrl-C lands between fsync and rename: the old
    file stays whole, the temp file was 0600 before its first byte, and the shown-once
    key is still printed."""
    login = run_lava("login", "--with-token", "--insecure-storage", input=CANARY_SECRET + "\n")
    assert login.code == 0
    path = sandbox / "config" / target
    before = _stored(path)
    assert before
    modes: list[int] = []
    real_fdopen, real_replace = os.fdopen, os.replace

    def watch(fd: int, *args: Any, **kwargs: Any) -> Any:
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))  # the temp file, before any byte
        return real_fdopen(fd, *args, **kwargs)

    def crash(src: Any, dst: Any) -> None:
        if Path(dst).name == target:
            raise failure
        real_replace(src, dst)

    monkeypatch.setattr(config_module.os, "fdopen", watch)
    monkeypatch.setattr(config_module.os, "replace", crash)
    result = run_lava("keys", "create", "--name", "ci", "--save")
    assert result.code == (130 if isinstance(failure, KeyboardInterrupt) else 1), result.output
    assert _stored(path) == before, "the old file must survive"
    assert modes and all(m == 0o600 for m in modes)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
    assert "lava_sk_CANARY" in result.stdout, "the key was created: it must not be lost"


def test_a_killed_writer_leaves_the_old_file(tmp_path):
    """SIGKILL a process in the middle of rewriting a file in a loop: always old or new."""
    target = tmp_path / "config.json"
    target.write_text(json.dumps({"v": 0, "pad": "x" * 200_000}))
    script = (
        "import json, sys\nfrom pathlib import Path\nfrom lava_cli.config import atomic_write\n"
        "p = Path(sys.argv[1])\nfor i in range(1, 10**6):\n"
        "    atomic_write(p, json.dumps({'v': i, 'pad': 'x' * 200_000}))\n"
        "    if i == 1:\n        print('writing', flush=True)\n"
    )
    intact = 0
    for delay in (0.0, 0.05, 0.1, 0.2, 0.3):
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(target)],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"writing\n"  # ready: the loop is rewriting
        time.sleep(delay)  # then the kill lands at a different point of a rewrite each time
        proc.kill()
        proc.wait()
        data = json.loads(target.read_text())  # never half a file
        assert len(data["pad"]) == 200_000
        assert stat.S_IMODE(target.stat().st_mode) == 0o600 or data["v"] == 0
        intact += 1
    assert intact == 5
