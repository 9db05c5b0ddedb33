"""lava in shell scripts: prompts in a `while read` loop, what a date means as an
expiry, and what `login` keeps of the environment."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import require_tool, run_lava
from tests.helpers.env import NULL_KEYRING, clean_env

LOOP = """
printf 'one\\ntwo\\nthree\\n' > list
while read f; do
    echo "ITER $f"
    "$PY" -m lava_cli prompt "say $f" --no-stream $FLAGS > /dev/null || echo "FAILED $?"
done < list
"""


@pytest.mark.slow  # bash and three lava processes
@pytest.mark.parametrize(("flags", "iterations"), [("--no-stdin", 3), ("", 1)])
def test_a_while_read_loop_runs_once_per_line_with_no_stdin(
    flags: str, iterations: int, logged_in: Any, tmp_path: Any
) -> None:
    """Without --no-stdin the first prompt reads the rest of the loop's file (the
    pitfall the help and README describe); with it, every line gets its prompt."""
    made = run_lava("keys", "create", "-n", "loop", "--json")
    env = clean_env(
        PY=sys.executable,
        FLAGS=flags,
        LAVA_BASE_URL=logged_in.base_url,
        LAVA_SPEND_KEY=json.loads(made.stdout)["key"],
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    done = subprocess.run(
        [require_tool("bash"), "-c", LOOP],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "FAILED" not in done.stdout, done.stderr
    assert done.stdout.count("ITER ") == iterations


@pytest.mark.slow  # lava as a child process whose stdin is a socket
def test_a_prompt_argument_does_not_wait_on_stdin_held_open(logged_in: Any, tmp_path: Any) -> None:
    """stdin that a supervisor holds open and nobody writes to (a socket): with a
    prompt argument, lava answers instead of waiting for it to end."""
    made = run_lava("keys", "create", "-n", "s", "--json")
    env = clean_env(
        LAVA_BASE_URL=logged_in.base_url,
        LAVA_SPEND_KEY=json.loads(made.stdout)["key"],
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
    )
    ours, theirs = socket.socketpair()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lava_cli", "prompt", "hi", "--no-stream"],
            stdin=theirs,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,  # the old behaviour: waits on the socket until killed
        )
    finally:
        theirs.close()
        ours.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


def test_no_stdin_is_documented_in_the_help() -> None:
    text = " ".join(run_lava("prompt", "--help").stdout.split())
    assert "--no-stdin" in text and "while read" in text


@pytest.mark.parametrize("command", ["create", "update"])
def test_an_expiry_date_keeps_the_key_through_that_whole_day(command: str, logged_in: Any) -> None:
    made = run_lava("keys", "create", "-n", "d", "--json", "--expires-at", "2099-12-30")
    key = json.loads(made.stdout)
    if command == "update":
        made = run_lava("keys", "update", "d", "--json", "--expires-at", "2099-12-31")
        key = json.loads(made.stdout)
        assert key["expires_at"] == "2100-01-01T00:00:00Z"
    else:
        assert key["expires_at"] == "2099-12-31T00:00:00Z"
    # A time is taken as given.
    timed = run_lava("keys", "update", "d", "--json", "--expires-at", "2099-12-31T18:00Z")
    assert json.loads(timed.stdout)["expires_at"] == "2099-12-31T18:00:00Z"


def test_today_as_an_expiry_date_is_not_in_the_past(logged_in: Any) -> None:
    from datetime import datetime, timedelta, timezone

    today = datetime.now(timezone.utc).date()
    result = run_lava("keys", "create", "-n", "t", "--json", "--expires-at", today.isoformat())
    assert result.code == 0, result.output
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert json.loads(result.stdout)["expires_at"] == f"{tomorrow}T00:00:00Z"


def test_the_expiry_help_says_what_a_date_means() -> None:
    text = " ".join(run_lava("keys", "create", "--help").stdout.split())
    assert "A date: the key works through that whole day (UTC)" in text


def test_login_says_it_keeps_the_base_url_from_the_environment(
    emulator: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)
    result = run_lava("login", "--with-token", input=emulator.secrets[0])
    assert result.code == 0, result.output
    said = " ".join(result.stderr.split())
    assert "The base URL (from LAVA_BASE_URL) is saved in profile 'default'" in said
    monkeypatch.delenv("LAVA_BASE_URL")
    status = json.loads(run_lava("auth", "status", "--json").stdout)
    assert (status["base_url"], status["base_url_source"]) == (
        emulator.base_url,
        "profile 'default'",
    )
