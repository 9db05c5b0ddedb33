"""`lava env`, `lava run`, and `--format` for CI provisioning, end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import run_lava
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.process import spawn_lava


def saved_key(name: str, *extra: str) -> dict:
    result = run_lava("keys", "create", "--name", name, "--save", "--json", *extra)
    assert result.code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.slow
def test_env_claude_code_evals_in_bash(logged_in):
    key = saved_key("claude", "--shape", "anthropic")
    result = run_lava("env", "claude-code", "--key", "claude", "--shell", "bash")
    assert result.code == 0, result.output
    assert key["key"] not in result.stderr  # the secret goes only where it was asked for
    script = (
        result.stdout
        + 'printf "%s\\n%s\\n%s" "$ANTHROPIC_AUTH_TOKEN" "$ANTHROPIC_BASE_URL" "${ANTHROPIC_API_KEY-unset}"'
    )
    out = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "ANTHROPIC_API_KEY": "stale"},
        check=True,
    ).stdout.splitlines()
    assert out == [key["key"], logged_in.root_url, "unset"]


def test_env_refuses_a_key_of_the_wrong_shape(logged_in):
    saved_key("oai")  # openai shape
    result = run_lava("env", "claude-code", "--key", "oai")
    assert result.code == 2
    assert "--shape anthropic" in result.stderr


def test_env_warns_when_anthropic_api_key_would_win(logged_in, monkeypatch):
    saved_key("claude", "--shape", "anthropic")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-old")
    result = run_lava("env", "claude-code", "--key", "claude", "--format", "dotenv")
    assert result.code == 0
    assert "ANTHROPIC_API_KEY is set" in result.stderr  # a .env file cannot unset it
    exports = run_lava("env", "claude-code", "--key", "claude")
    assert exports.code == 0 and "unset ANTHROPIC_API_KEY" in exports.stdout
    assert "ANTHROPIC_API_KEY is set" not in exports.stderr  # the output unsets it


def test_env_formats_and_placeholder(logged_in, monkeypatch):
    as_json = run_lava("env", "openai-sdk", "--format", "json")
    assert as_json.code == 3 and as_json.stdout == ""  # no key: nothing for a pipe
    on_screen = run_lava("env", "openai-sdk", "--format", "json", tty=True)
    assert on_screen.code == 3
    data = json.loads(on_screen.stdout)
    assert data["placeholder_key"] is True
    assert data["env"]["OPENAI_BASE_URL"] == logged_in.base_url
    assert "placeholder" in on_screen.stderr
    monkeypatch.setenv("LAVA_SPEND_KEY", "lava_sk_" + "e" * 40)
    dotenv = run_lava("env", "openai-sdk", "--format", "dotenv")
    assert f"OPENAI_API_KEY={'lava_sk_' + 'e' * 40}" in dotenv.stdout
    fish = run_lava("env", "codex", "--shell", "fish")
    assert fish.stdout.startswith("set -gx LAVA_SPEND_KEY")
    assert "Responses API" in fish.stderr
    assert run_lava("env", "openai-sdk", "--format", "yaml").code == 2
    assert run_lava("env", "nope").code == 2
    listing = run_lava("env", "--list").stdout
    assert "claude-code\tanthropic" in listing and "cursor\topenai" in listing


def test_env_gui_tool_on_a_terminal_lays_out_the_steps(logged_in):
    saved_key("cur")
    result = run_lava("env", "cursor", "--key", "cur", tty=True)
    assert result.code == 0
    assert "Override OpenAI Base URL" in result.stdout
    assert logged_in.base_url in result.stdout
    assert "contains a secret" in result.stderr


def test_env_create_makes_a_key_of_the_right_shape(logged_in):
    result = run_lava("env", "anthropic-sdk", "--create", "--shell", "bash")
    assert result.code == 0, result.output
    keys = json.loads(run_lava("keys", "list", "--json").stdout)
    assert [(k["name"], k["request_shape"]) for k in keys] == [("anthropic-sdk", "anthropic")]


def test_format_env_dotenv_json(logged_in):
    env_line = run_lava(
        "keys", "create", "--name", "a", "--format", "env", "--var", "MY_KEY"
    ).stdout
    assert env_line.startswith("export MY_KEY='lava_sk_")
    dotenv = run_lava("keys", "create", "--name", "b", "--format", "dotenv").stdout
    assert dotenv.startswith("LAVA_SPEND_KEY=lava_sk_")
    as_json = json.loads(run_lava("keys", "rotate", "b", "--format", "json").stdout)
    assert as_json["key"].startswith("lava_sk_")
    assert run_lava("keys", "create", "--name", "c", "--format", "xml").code == 2
    assert run_lava("keys", "create", "--name", "c", "--format", "env", "--var", "1BAD").code == 2


def test_format_github_masks_first_and_appends_to_github_env(logged_in, tmp_path, monkeypatch):
    assert (
        run_lava("keys", "create", "--name", "gh", "--format", "github").code == 2
    )  # no $GITHUB_ENV
    github_env = tmp_path / "github_env"
    github_env.write_text("EXISTING=1\n")
    monkeypatch.setenv("GITHUB_ENV", str(github_env))
    result = run_lava("keys", "create", "--name", "gh", "--format", "github", "--var", "AI_KEY")
    assert result.code == 0, result.output
    raw = result.stdout.removeprefix("::add-mask::").strip()
    assert result.stdout == f"::add-mask::{raw}\n"
    assert github_env.read_text() == f"EXISTING=1\nAI_KEY={raw}\n"
    assert raw not in result.stderr


CHILD = textwrap.dedent(
    """
    import os, sys
    from openai import OpenAI
    client = OpenAI()  # reads OPENAI_API_KEY and OPENAI_BASE_URL from the environment
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )
    print(reply.choices[0].message.content[:10])
    sys.exit(int(sys.argv[1]))
    """
)


@pytest.mark.slow
def test_run_gives_the_child_a_key_and_revokes_it(logged_in, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    result = run_lava("run", "--spend-limit", "2/total", "--", sys.executable, str(script), "3")
    assert result.code == 3, result.output  # the command's exit code
    assert "revoked" in result.stderr and "requests 1, spend $0.0" in result.stderr
    assert json.loads(run_lava("keys", "list", "--json").stdout) == []


@pytest.mark.slow
def test_run_revokes_when_the_command_is_missing(logged_in):
    result = run_lava("run", "--", "definitely-not-a-command-xyz")
    assert result.code == 127  # as a shell says
    assert json.loads(run_lava("keys", "list", "--json").stdout) == []


@pytest.mark.slow
def test_run_keep_keeps_the_key(logged_in):
    result = run_lava("run", "--keep", "--name", "kept", "--", sys.executable, "-c", "pass")
    assert result.code == 0
    assert [k["name"] for k in json.loads(run_lava("keys", "list", "--json").stdout)] == ["kept"]


@pytest.mark.slow
def test_run_tool_variables(logged_in, tmp_path):
    out = tmp_path / "env.json"
    code = (
        "import json, os, sys; json.dump({k: os.environ.get(k) for k in "
        "('ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY')}, open(sys.argv[1], 'w'))"
    )
    result = run_lava("run", "--tool", "claude-code", "--", sys.executable, "-c", code, str(out))
    assert result.code == 0, result.output
    seen = json.loads(out.read_text())
    assert seen["ANTHROPIC_AUTH_TOKEN"].startswith("lava_sk_")
    assert seen["ANTHROPIC_BASE_URL"] == logged_in.root_url
    assert seen["ANTHROPIC_API_KEY"] is None


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_passes_signals_and_still_revokes(logged_in, tmp_path, sig):
    marker = tmp_path / "got"
    child = textwrap.dedent(
        f"""
        import signal, sys, time, pathlib
        def bye(n, f):
            pathlib.Path({str(marker)!r}).write_text(str(n)); sys.exit(7)
        signal.signal(signal.SIGINT, bye); signal.signal(signal.SIGTERM, bye)
        pathlib.Path({str(marker)!r} + ".ready").write_text("1")
        time.sleep(30)
        """
    )
    env = clean_env(
        LAVA_SECRET_KEY=logged_in.secrets[0],
        LAVA_BASE_URL=logged_in.base_url,
        LAVA_CONFIG_DIR=str(tmp_path / "cfg"),
        PYTHON_KEYRING_BACKEND=NULL_KEYRING,
    )
    proc = spawn_lava(["run", "--", sys.executable, "-c", child], env)
    ready = Path(str(marker) + ".ready")
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert marker.read_text() == str(int(sig))  # the child got the signal
    assert proc.returncode == 7, err  # and lava exits with the child's code
    assert "revoked" in err
    assert json.loads(run_lava("keys", "list", "--json").stdout) == []


@pytest.mark.slow
def test_run_revokes_when_the_child_is_killed(logged_in):
    code = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    result = run_lava("run", "--", sys.executable, "-c", code)
    assert result.code == 128 + signal.SIGKILL  # as a shell reports it
    assert "revoked" in result.stderr
    assert json.loads(run_lava("keys", "list", "--json").stdout) == []
