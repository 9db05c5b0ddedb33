"""The `lava env` catalogue: the contract's tool table, held as data."""

from __future__ import annotations

import subprocess
import sys
from string import Template

import pytest

from lava_cli.errors import ExitCode, UsageError
from lava_cli.tools.catalogue import (
    EXAMPLE_MODELS,
    Tool,
    UnknownToolError,
    Value,
    all_tools,
    get_tool,
    tool_ids,
)
from lava_cli.tools.render import render_json

IDS = [
    "claude-code",
    "anthropic-sdk",
    "openai-sdk",
    "vercel-ai-sdk",
    "langchain",
    "cursor",
    "cline",
    "codex",
    "raycast",
    "openclaw",
]

# docs/lava-api.md, "Tools for `lava env`": (shape, exported vars, vars that must be unset).
CONTRACT: dict[str, tuple[str, list[str], list[str]]] = {
    "claude-code": (
        "anthropic",
        ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"],
        ["ANTHROPIC_API_KEY"],
    ),
    "anthropic-sdk": ("anthropic", ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"], []),
    "openai-sdk": ("openai", ["OPENAI_API_KEY", "OPENAI_BASE_URL"], []),
    "vercel-ai-sdk": ("openai", ["LAVA_SPEND_KEY", "LAVA_OPENAI_BASE_URL"], []),
    "langchain": ("openai", ["OPENAI_API_KEY", "OPENAI_BASE_URL"], ["OPENAI_API_BASE"]),
    "cursor": ("openai", ["LAVA_SPEND_KEY"], []),
    "cline": ("openai", ["LAVA_SPEND_KEY"], []),
    "codex": ("openai", ["LAVA_SPEND_KEY"], []),
    "raycast": ("openai", ["LAVA_SPEND_KEY"], []),
    "openclaw": ("openai", ["LAVA_SPEND_KEY"], []),
}

API = "https://api.lava.so/v1"


def test_ids_and_order() -> None:
    assert [t.id for t in all_tools()] == IDS
    assert list(tool_ids()) == IDS


@pytest.mark.parametrize("tool_id", IDS)
def test_matches_contract_table(tool_id: str) -> None:
    tool = get_tool(tool_id)
    shape, exported, unset = CONTRACT[tool_id]
    assert tool.request_shape == shape
    assert [v.name for v in tool.env] == exported
    assert [u.name for u in tool.unset] == unset
    # Anthropic SDK-based tools append /v1/messages themselves; OpenAI ones need /v1.
    assert tool.base_url_form == ("root" if shape == "anthropic" else "v1")
    # Every tool gets the key and (unless it is configured elsewhere) the base URL.
    assert any(v.value is Value.KEY for v in tool.env)


@pytest.mark.parametrize("tool", all_tools(), ids=lambda t: t.id)
def test_records_are_complete(tool: Tool) -> None:
    assert tool.label
    assert tool.steps, "every tool tells the user what to do next"
    for unset in tool.unset:
        assert unset.reason
    for step in tool.steps:
        # Templates only use the values steps may show (never the key).
        Template(step).substitute(base_url="U", model="M")
        assert "$key" not in step
    if tool.setup == "gui":
        kinds = {f.value for f in tool.fields}
        assert {Value.KEY, Value.BASE_URL, Value.MODEL} <= kinds
    if tool.setup == "config-file":
        assert tool.snippets and all(s.path for s in tool.snippets)


def test_gui_tools() -> None:
    gui = [t.id for t in all_tools() if t.setup == "gui"]
    assert gui == ["cursor", "cline", "raycast"]
    cursor = {f.label for f in get_tool("cursor").fields}
    assert {"OpenAI API Key", "Override OpenAI Base URL"} <= cursor
    assert ("API Provider", "OpenAI Compatible") in [
        (f.label, f.value) for f in get_tool("cline").fields
    ]
    assert any("Custom Providers" in s for s in get_tool("raycast").steps)


def test_codex_config_and_warning() -> None:
    codex = get_tool("codex")
    assert any("Responses API" in w for w in codex.warnings)
    text = render_json(codex, "lava_sk_k", API)["config"][0]["text"]  # type: ignore[index]
    conf = pytest.importorskip("tomllib").loads(text)
    assert conf["model_provider"] == "lava"
    provider = conf["model_providers"]["lava"]
    assert provider == {
        "name": "Lava",
        "base_url": API,
        "env_key": "LAVA_SPEND_KEY",
        "wire_api": "chat",
    }
    assert "lava_sk_k" not in text, "Codex reads the key from the variable, not the file"


def test_example_models_cover_each_shape() -> None:
    assert set(EXAMPLE_MODELS) == {"openai", "anthropic"}


def test_unknown_tool_lists_valid_ids() -> None:
    with pytest.raises(KeyError) as info:
        get_tool("claude")
    err = info.value
    assert isinstance(err, UnknownToolError)
    assert isinstance(err, UsageError)
    assert err.exit_code == ExitCode.USAGE
    assert str(err).startswith("unknown tool 'claude'")
    for tool_id in IDS:
        assert tool_id in str(err)
    assert err.hint and "--list" in err.hint


@pytest.mark.slow
def test_import_is_light() -> None:
    code = (
        "import sys, lava_cli.tools.render;"
        "heavy = {'rich', 'httpx', 'typer', 'keyring', 'click', 'platformdirs'};"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
