"""Rendering `lava env` output, checked by evaluating it in real shells."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lava_cli.tools.catalogue import Tool, all_tools, get_tool
from lava_cli.tools.render import (
    PLACEHOLDER_KEY,
    SHELLS,
    Shell,
    detect_shell,
    quote_powershell,
    render_dotenv,
    render_instructions,
    render_json,
    render_shell,
    render_text,
    resolve_env,
    shadowing,
    tool_base_url,
)
from tests.conftest import require_tool

TOOLS = all_tools()
REAL = "https://api.lava.so/v1"
EMULATOR = "http://127.0.0.1:8787/v1"
# Not a real-format secret: a hostile value for the quoting tests.
HOSTILE = "lava_sk_" + "x'y\"$z`w \\n \\\\ \\' $(id) ;|&*?~#!%{a,b}\u2019\u2018\\"
KEYS = ["lava_sk_" + "A" * 40, HOSTILE]
STALE = {"ANTHROPIC_API_KEY": "stale-anthropic", "OPENAI_API_BASE": "http://stale"}
ids = [t.id for t in TOOLS]


def shell_argv(shell: str) -> list[str]:
    """argv that evaluates $LAVA_OUT the way the user's docs say, then dumps env."""
    if shell == "bash":
        return ["bash", "--norc", "--noprofile", "-c", 'eval "$LAVA_OUT" && exec env -0']
    if shell == "zsh":
        return ["zsh", "-f", "-c", 'eval "$LAVA_OUT" && exec env -0']
    if shell == "fish":
        return ["fish", "--no-config", "-c", "printf '%s' $LAVA_OUT | source; and exec env -0"]
    raise AssertionError(shell)


def require(shell: str) -> None:
    """The shell must be installed: a skip locally, a failure under CI=true."""
    require_tool(shell)


def evaluate(shell: str, output: str, home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local"),
        "LANG": "C.UTF-8",
        "LAVA_OUT": output,
        **STALE,
    }
    proc = subprocess.run(shell_argv(shell), env=env, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b"", proc.stderr.decode()
    pairs = (item.split("=", 1) for item in proc.stdout.decode().split("\0") if item)
    return {k: v for k, v in pairs}


def check_env(tool: Tool, key: str, api: str, got: dict[str, str]) -> None:
    expected = resolve_env(tool, key, api)
    for name, value in expected.items():
        assert got.get(name) == value, name
    for gone in tool.unset:
        assert gone.name not in got
    # Stale variables the tool does not care about are left alone.
    for name in set(STALE) - {g.name for g in tool.unset} - set(expected):
        assert got[name] == STALE[name]


# ---------------------------------------------------------------- base URLs


@pytest.mark.parametrize(
    ("api", "root"),
    [
        (REAL, "https://api.lava.so"),
        ("https://api.lava.so/v1/", "https://api.lava.so"),
        ("https://api.lava.so", "https://api.lava.so"),
        ("https://api.lava.so/", "https://api.lava.so"),
        (EMULATOR, "http://127.0.0.1:8787"),
        ("http://localhost:8787/v1//", "http://localhost:8787"),
        ("https://sandbox-api.lavapayments.com/v1", "https://sandbox-api.lavapayments.com"),
        ("https://proxy.example/lava/v1", "https://proxy.example/lava"),
    ],
)
def test_base_url_forms(api: str, root: str) -> None:
    assert tool_base_url(get_tool("claude-code"), api) == root
    assert tool_base_url(get_tool("anthropic-sdk"), api) == root
    assert tool_base_url(get_tool("openai-sdk"), api) == root + "/v1"
    assert tool_base_url(get_tool("codex"), api) == root + "/v1"


def test_env_values_follow_the_profile() -> None:
    assert resolve_env(get_tool("claude-code"), "lava_sk_k", EMULATOR) == {
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:8787",
        "ANTHROPIC_AUTH_TOKEN": "lava_sk_k",
    }
    assert resolve_env(get_tool("openai-sdk"), "lava_sk_k", REAL) == {
        "OPENAI_API_KEY": "lava_sk_k",
        "OPENAI_BASE_URL": "https://api.lava.so/v1",
    }


# ---------------------------------------------------------------- real shells


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("key", KEYS, ids=["plain", "hostile"])
@pytest.mark.parametrize("tool", TOOLS, ids=ids)
def test_eval_in_real_shell(tool: Tool, key: str, shell: Shell, tmp_path: Path) -> None:
    require(shell)
    for api in (REAL, EMULATOR):
        output = render_shell(tool, key, api, shell)
        check_env(tool, key, api, evaluate(shell, output, tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("tool", TOOLS, ids=ids)
def test_dotenv_sourced_by_bash(tool: Tool, tmp_path: Path) -> None:
    # bash's reading of bare and single-quoted words is what dotenv parsers share.
    key = 'lava_sk_with space$and`ticks"'
    out = render_dotenv(tool, key, EMULATOR)
    got = evaluate("bash", "set -a\n" + out, tmp_path)
    expected = resolve_env(tool, key, EMULATOR)
    assert {k: got[k] for k in expected} == expected


SAFE_CHARS = st.one_of(
    st.sampled_from(list("'\"$`\\ !*?{}[]~#;&|<>()%^=,\u2018\u2019\u201a\u201b")),
    st.characters(blacklist_categories=("Cs", "Cc")),
)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(SAFE_CHARS, min_size=1, max_size=40))
@example(value="'")
@example(value="a\\'b\\")
def test_quoting_round_trips_through_bash(
    value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    tool = get_tool("claude-code")
    got = evaluate("bash", render_shell(tool, value, REAL, "bash"), home)
    assert got["ANTHROPIC_AUTH_TOKEN"] == value
    assert "ANTHROPIC_API_KEY" not in got


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(SAFE_CHARS, min_size=1, max_size=40))
@example(value="\\")
@example(value="a\\\\'b\\'")
def test_quoting_round_trips_through_fish(
    value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require("fish")
    home = tmp_path_factory.mktemp("home")
    got = evaluate("fish", render_shell(get_tool("openai-sdk"), value, REAL, "fish"), home)
    assert got["OPENAI_API_KEY"] == value


def unquote_powershell(text: str) -> str:
    """A reference reader for one PowerShell verbatim (single-quoted) string."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert text[0] in quotes
    out, i = [], 1
    while True:
        c = text[i]
        if c in quotes:
            if i + 1 < len(text) and text[i + 1] in quotes:
                out.append(c)
                i += 2
                continue
            assert i == len(text) - 1, "string ended early"
            return "".join(out)
        out.append(c)
        i += 1


@given(value=st.text(SAFE_CHARS, max_size=40))
def test_powershell_quoting_round_trips(value: str) -> None:
    assert unquote_powershell(quote_powershell(value)) == value


@pytest.mark.parametrize("tool", TOOLS, ids=ids)
def test_powershell_lines(tool: Tool) -> None:
    out = render_shell(tool, HOSTILE, REAL, "powershell").splitlines()
    unsets = [f"Remove-Item Env:{u.name} -ErrorAction SilentlyContinue" for u in tool.unset]
    assert out[: len(unsets)] == unsets
    got = {}
    for line in out[len(unsets) :]:
        name, _, quoted = line.partition(" = ")
        assert name.startswith("$Env:")
        got[name.removeprefix("$Env:")] = unquote_powershell(quoted)
    assert got == resolve_env(tool, HOSTILE, REAL)


@pytest.mark.slow
def test_powershell_eval(tmp_path: Path) -> None:
    # Not require_tool: pwsh is not installable on the CI image (see require_tool), so
    # this stays a skip everywhere and the reference reader above checks the quoting.
    pwsh = shutil.which("pwsh")
    if pwsh is None:
        pytest.skip("pwsh is not installed; quoting is checked by a reference reader")
    out = render_shell(get_tool("claude-code"), HOSTILE, REAL, "powershell")
    script = tmp_path / "env.ps1"
    script.write_text(out + "\n[Console]::Out.Write($Env:ANTHROPIC_AUTH_TOKEN)\n", "utf-8")
    proc = subprocess.run(
        [pwsh, "-NoProfile", "-File", str(script)], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout == HOSTILE


# ---------------------------------------------------------------- text formats


def test_claude_code_unsets_api_key_in_every_shell() -> None:
    tool = get_tool("claude-code")
    expected = {
        "bash": "unset ANTHROPIC_API_KEY",
        "zsh": "unset ANTHROPIC_API_KEY",
        "fish": "set -e -g ANTHROPIC_API_KEY",
        "powershell": "Remove-Item Env:ANTHROPIC_API_KEY -ErrorAction SilentlyContinue",
    }
    for shell in SHELLS:
        assert render_shell(tool, "lava_sk_k", REAL, shell).splitlines()[0] == expected[shell]
    assert render_dotenv(tool, "lava_sk_k", REAL).startswith("# unset ANTHROPIC_API_KEY: ")


def test_exact_bash_output() -> None:
    assert render_shell(get_tool("claude-code"), "lava_sk_k", EMULATOR, "bash") == (
        "unset ANTHROPIC_API_KEY\n"
        "export ANTHROPIC_BASE_URL='http://127.0.0.1:8787'\n"
        "export ANTHROPIC_AUTH_TOKEN='lava_sk_k'\n"
    )
    assert render_dotenv(get_tool("openai-sdk"), "lava_sk_k", REAL) == (
        "OPENAI_API_KEY=lava_sk_k\nOPENAI_BASE_URL=https://api.lava.so/v1\n"
    )


def test_no_comments_in_shell_output() -> None:
    # Interactive zsh without INTERACTIVE_COMMENTS would run a `#` line as a command.
    for tool in TOOLS:
        for shell in SHELLS:
            assert "#" not in render_shell(tool, "lava_sk_k", REAL, shell)


def test_render_text_dispatches() -> None:
    tool = get_tool("openai-sdk")
    assert render_text(tool, "lava_sk_k", REAL, "fish") == render_shell(
        tool, "lava_sk_k", REAL, "fish"
    )
    assert render_text(tool, "lava_sk_k", REAL, "dotenv") == render_dotenv(tool, "lava_sk_k", REAL)
    with pytest.raises(ValueError, match="unknown format"):
        render_text(tool, "lava_sk_k", REAL, "cmd")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown shell"):
        render_shell(tool, "lava_sk_k", REAL, "cmd")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "bad", ["lava_sk_a\nexport X=1", "lava_sk_a\rb", "lava_sk_\x00", "a\x1b[2J", "a\x7f"]
)
def test_control_characters_are_refused(bad: str) -> None:
    tool = get_tool("claude-code")
    for shell in SHELLS:
        with pytest.raises(ValueError, match="control character"):
            render_shell(tool, bad, REAL, shell)
    with pytest.raises(ValueError):
        render_dotenv(tool, bad, REAL)
    with pytest.raises(ValueError):
        render_json(tool, bad, REAL)
    with pytest.raises(ValueError):
        render_instructions(tool, bad, REAL)
    with pytest.raises(ValueError, match="control character"):
        render_shell(tool, "lava_sk_k", "https://api.lava.so/x\ny/v1", "bash")


def test_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="PLACEHOLDER_KEY"):
        render_shell(get_tool("cursor"), "", REAL, "bash")


def test_dotenv_quoting() -> None:
    tool = get_tool("cursor")
    assert render_dotenv(tool, "lava_sk_a b", REAL) == "LAVA_SPEND_KEY='lava_sk_a b'\n"
    assert render_dotenv(tool, "lava_sk_$x", REAL) == "LAVA_SPEND_KEY='lava_sk_$x'\n"
    for bad in ("lava_sk_'", "lava_sk_\\"):
        with pytest.raises(ValueError, match="--format json"):
            render_dotenv(tool, bad, REAL)


# ---------------------------------------------------------------- JSON


JSON_KEYS = [
    "tool",
    "label",
    "request_shape",
    "base_url_form",
    "base_url",
    "setup",
    "env",
    "unset",
    "config",
    "fields",
    "steps",
    "warnings",
    "placeholder_key",
]


@pytest.mark.parametrize("tool", TOOLS, ids=ids)
def test_json_shape_is_stable(tool: Tool) -> None:
    data = render_json(tool, HOSTILE, EMULATOR)
    assert list(data) == JSON_KEYS
    assert json.loads(json.dumps(data)) == data
    assert data["tool"] == tool.id
    assert data["request_shape"] == tool.request_shape
    assert data["base_url"] == tool_base_url(tool, EMULATOR)
    assert data["env"] == resolve_env(tool, HOSTILE, EMULATOR)
    assert data["unset"] == [u.name for u in tool.unset]
    assert data["placeholder_key"] is False
    for snippet in data["config"]:  # type: ignore[attr-defined]
        assert list(snippet) == ["title", "path", "language", "text"]
    for field in data["fields"]:  # type: ignore[attr-defined]
        assert list(field) == ["label", "value"]
    assert render_json(tool, PLACEHOLDER_KEY, REAL)["placeholder_key"] is True


def snippets(tool_id: str, key: str = HOSTILE) -> dict[str, str]:
    data = render_json(get_tool(tool_id), key, EMULATOR)
    return {s["language"]: s["text"] for s in data["config"]}  # type: ignore[attr-defined]


def test_claude_settings_snippet_holds_exact_values() -> None:
    settings_json = json.loads(snippets("claude-code")["json"])
    assert settings_json == {
        "env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8787", "ANTHROPIC_AUTH_TOKEN": HOSTILE}
    }


def test_openclaw_entry() -> None:
    entry = json.loads(snippets("openclaw")["json"])
    provider = entry["models"]["providers"]["lava"]
    assert provider["baseUrl"] == "http://127.0.0.1:8787/v1"
    assert provider["apiKey"] == "${LAVA_SPEND_KEY}"
    assert provider["api"] == "openai-completions"
    assert entry["agents"]["defaults"]["model"]["primary"] == "lava/gpt-4o-mini"


def test_langchain_snippet_is_python() -> None:
    text = snippets("langchain")["python"]
    call = next(
        n
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "ChatOpenAI"
    )
    kwargs = {k.arg: k.value for k in call.keywords}
    assert ast.literal_eval(kwargs["base_url"]) == "http://127.0.0.1:8787/v1"
    assert "OPENAI_API_KEY" in ast.unparse(kwargs["api_key"])


@pytest.mark.slow
def test_vercel_snippet_is_javascript(tmp_path: Path) -> None:
    text = snippets("vercel-ai-sdk")["javascript"]
    assert "apiKey: process.env.LAVA_SPEND_KEY" in text
    assert 'baseURL: process.env.LAVA_OPENAI_BASE_URL ?? "http://127.0.0.1:8787/v1"' in text
    node = require_tool("node")
    path = tmp_path / "snippet.mjs"
    path.write_text(text, "utf-8")
    proc = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_codex_toml_with_hostile_url() -> None:
    url = 'https://h.example/a"b\\c/v1'
    data = render_json(get_tool("codex"), "lava_sk_k", url)
    conf = pytest.importorskip("tomllib").loads(data["config"][0]["text"])  # type: ignore[index]
    assert conf["model_providers"]["lava"]["base_url"] == url


# ---------------------------------------------------------------- instructions


def test_gui_instructions_carry_the_values() -> None:
    sections = render_instructions(get_tool("cursor"), "lava_sk_k", EMULATOR, shell="zsh")
    kinds = [s.kind for s in sections]
    assert kinds == ["steps", "fields", "env"]
    fields = dict(sections[1].fields)
    assert fields["OpenAI API Key"] == "lava_sk_k"
    assert fields["Override OpenAI Base URL"] == "http://127.0.0.1:8787/v1"
    assert any("http://127.0.0.1:8787/v1" in line for line in sections[0].lines)
    assert all("lava_sk_k" not in line for line in sections[0].lines)
    assert sections[2].snippet == render_shell(get_tool("cursor"), "lava_sk_k", EMULATOR, "zsh")


def test_codex_instructions_warn_first() -> None:
    sections = render_instructions(get_tool("codex"), PLACEHOLDER_KEY, REAL)
    assert sections[0].kind == "warning"
    assert "Responses API" in sections[0].lines[0]
    snippet = next(s for s in sections if s.kind == "snippet")
    assert snippet.path == "~/.codex/config.toml"
    assert snippet.language == "toml"


@pytest.mark.parametrize("tool", TOOLS, ids=ids)
def test_every_tool_has_instructions(tool: Tool) -> None:
    sections = render_instructions(tool, PLACEHOLDER_KEY, REAL, model="m-1")
    assert any(s.kind == "steps" for s in sections)
    for s in sections:
        for text in (*s.lines, s.snippet or "", *(v for _, v in s.fields)):
            assert "$base_url" not in text and "$model" not in text


# ---------------------------------------------------------------- environment


def test_shadowing() -> None:
    tool = get_tool("claude-code")
    assert [u.name for u in shadowing(tool, {"ANTHROPIC_API_KEY": "x"})] == ["ANTHROPIC_API_KEY"]
    assert shadowing(tool, {}) == []
    assert shadowing(get_tool("openai-sdk"), {"ANTHROPIC_API_KEY": "x"}) == []


@pytest.mark.parametrize(
    ("env", "shell"),
    [
        ({}, "bash"),
        ({"SHELL": "/bin/bash"}, "bash"),
        ({"SHELL": "/usr/bin/zsh"}, "zsh"),
        ({"SHELL": "/opt/homebrew/bin/fish"}, "fish"),
        ({"SHELL": "-zsh"}, "zsh"),
        ({"SHELL": "/bin/sh"}, "bash"),
        ({"SHELL": "/bin/dash"}, "bash"),
        ({"SHELL": "/usr/local/bin/pwsh"}, "powershell"),
        ({"PSModulePath": "C:\\Program Files\\PowerShell\\Modules"}, "powershell"),
        ({"SHELL": "C:\\Program Files\\Git\\bin\\bash.exe", "PSModulePath": "x"}, "bash"),
    ],
)
def test_detect_shell(env: dict[str, str], shell: str) -> None:
    assert detect_shell(env) == shell
