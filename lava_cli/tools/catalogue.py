"""The tools `lava env` knows, as data: one frozen record per tool.

Adding a tool means adding a record here, never a branch in the renderer. The
variable names, base-URL forms and file locations follow the table "Tools for
`lava env`" in docs/lava-api.md; where Lava is silent they follow the tool's own
convention. Stdlib only: this module loads at start-up of `lava env`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from lava_cli.errors import UsageError

Shape = Literal["openai", "anthropic"]
# "root": https://api.lava.so, for tools built on the Anthropic SDK, which appends
# /v1/messages itself. "v1": https://api.lava.so/v1, for OpenAI-style clients,
# which append /chat/completions.
BaseUrlForm = Literal["root", "v1"]
# How the user finishes the setup: eval the exports, edit a config file, or click
# through a GUI. The CLI uses it to decide whether to show instructions by default.
Setup = Literal["env", "config-file", "gui"]
SnippetLanguage = Literal["json", "toml", "javascript", "python"]


class Value(enum.Enum):
    """A value filled in at render time (anything else in a record is a literal)."""

    KEY = "key"
    BASE_URL = "base_url"
    MODEL = "model"


@dataclass(frozen=True)
class EnvVar:
    """One variable to export: `value` is a `Value` or a literal string."""

    name: str
    value: Value | str


@dataclass(frozen=True)
class Unset:
    """A variable that must not be set, because it would shadow ours."""

    name: str
    reason: str


@dataclass(frozen=True)
class Snippet:
    """A config file fragment or code sample.

    `template` is a `string.Template`: `$key`, `$base_url`, `$model` and
    `$provider_model` ("lava/<model>") are replaced by string literals already
    quoted for `language`, so a hostile value cannot break the syntax. `$$` is a
    literal dollar sign.
    """

    title: str
    language: SnippetLanguage
    template: str
    path: str | None = None


@dataclass(frozen=True)
class Field:
    """A value to paste into a GUI field named `label`."""

    label: str
    value: Value | str


@dataclass(frozen=True)
class Tool:
    """Everything `lava env` needs to know about one tool.

    `steps` are `string.Template`s that may use `$base_url` and `$model` (never the
    key: the key only appears in `env`, `fields` and snippets, which the user asked
    for). `warnings` are static cautions; the environment-dependent check (a set
    variable from `unset`) is `render.shadowing()`.
    """

    id: str
    label: str
    request_shape: Shape
    base_url_form: BaseUrlForm
    setup: Setup
    env: tuple[EnvVar, ...]
    unset: tuple[Unset, ...] = ()
    snippets: tuple[Snippet, ...] = ()
    fields: tuple[Field, ...] = ()
    steps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    model_var: str | None = None  # exported when a model is asked for (`--model`)


# The example model per shape used in snippets and GUI fields; the same models the
# demo uses, so the emulator serves them.
EXAMPLE_MODELS: dict[Shape, str] = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
}

# A separate variable for the Vercel snippet's baseURL: LAVA_BASE_URL is the CLI's
# own override, and exporting it would silently pin `lava` to the gateway URL.
VERCEL_BASE_URL_VAR = "LAVA_OPENAI_BASE_URL"

_SPEND_KEY = EnvVar("LAVA_SPEND_KEY", Value.KEY)

_CLAUDE_SETTINGS = """\
{
  "env": {
    "ANTHROPIC_BASE_URL": $base_url,
    "ANTHROPIC_AUTH_TOKEN": $key
  }
}
"""

_CODEX_TOML = """\
# Top-level keys must come before any [table] in the file.
model_provider = "lava"
model = $model

[model_providers.lava]
name = "Lava"
base_url = $base_url
env_key = "LAVA_SPEND_KEY"
wire_api = "chat"
"""

_OPENCLAW_JSON = """\
{
  "models": {
    "mode": "merge",
    "providers": {
      "lava": {
        "baseUrl": $base_url,
        "apiKey": "$${LAVA_SPEND_KEY}",
        "api": "openai-completions",
        "models": [{ "id": $model, "name": $model }]
      }
    }
  },
  "agents": { "defaults": { "model": { "primary": $provider_model } } }
}
"""

_VERCEL_TS = """\
import { createOpenAI } from "@ai-sdk/openai";
import { generateText } from "ai";

const lava = createOpenAI({
  apiKey: process.env.LAVA_SPEND_KEY,
  baseURL: process.env.LAVA_OPENAI_BASE_URL ?? $base_url,
});

// .chat() speaks /chat/completions; plain lava(...) may use the Responses API.
const { text } = await generateText({ model: lava.chat($model), prompt: "Hello" });
"""

_LANGCHAIN_PY = """\
import os

from langchain_openai import ChatOpenAI

llm = ChatOpenAI(
    model=$model,
    base_url=$base_url,
    api_key=os.environ["OPENAI_API_KEY"],
)
print(llm.invoke("Hello").content)
"""

_TOOLS: tuple[Tool, ...] = (
    Tool(
        id="claude-code",
        label="Claude Code",
        request_shape="anthropic",
        base_url_form="root",
        setup="env",
        env=(
            EnvVar("ANTHROPIC_BASE_URL", Value.BASE_URL),
            EnvVar("ANTHROPIC_AUTH_TOKEN", Value.KEY),
        ),
        unset=(
            Unset(
                "ANTHROPIC_API_KEY",
                "Claude Code prefers ANTHROPIC_API_KEY over ANTHROPIC_AUTH_TOKEN",
            ),
        ),
        snippets=(
            Snippet(
                title="Or for every session: the env block of ~/.claude/settings.json",
                language="json",
                template=_CLAUDE_SETTINGS,
                path="~/.claude/settings.json",
            ),
        ),
        model_var="ANTHROPIC_MODEL",
        steps=(
            "Run `claude` in the shell where you evaluated the exports.",
            "To make it permanent, merge the env block below into ~/.claude/settings.json.",
            "Keep ANTHROPIC_API_KEY unset in that shell: if present it wins over the token.",
        ),
    ),
    Tool(
        id="anthropic-sdk",
        label="Anthropic SDK",
        request_shape="anthropic",
        base_url_form="root",
        setup="env",
        env=(
            EnvVar("ANTHROPIC_API_KEY", Value.KEY),
            EnvVar("ANTHROPIC_BASE_URL", Value.BASE_URL),
        ),
        steps=("`Anthropic()` reads both variables; no code change is needed.",),
    ),
    Tool(
        id="openai-sdk",
        label="OpenAI SDK",
        request_shape="openai",
        base_url_form="v1",
        setup="env",
        env=(
            EnvVar("OPENAI_API_KEY", Value.KEY),
            EnvVar("OPENAI_BASE_URL", Value.BASE_URL),
        ),
        steps=("`OpenAI()` reads both variables; no code change is needed.",),
    ),
    Tool(
        id="vercel-ai-sdk",
        label="Vercel AI SDK",
        request_shape="openai",
        base_url_form="v1",
        setup="env",
        env=(_SPEND_KEY, EnvVar(VERCEL_BASE_URL_VAR, Value.BASE_URL)),
        snippets=(
            Snippet(
                title="Provider setup (TypeScript)",
                language="javascript",
                template=_VERCEL_TS,
            ),
        ),
        steps=(
            "Create the provider with createOpenAI as below ($base_url is the fallback "
            "when LAVA_OPENAI_BASE_URL is not set).",
        ),
    ),
    Tool(
        id="langchain",
        label="LangChain",
        request_shape="openai",
        base_url_form="v1",
        setup="env",
        env=(
            EnvVar("OPENAI_API_KEY", Value.KEY),
            EnvVar("OPENAI_BASE_URL", Value.BASE_URL),
        ),
        unset=(
            Unset(
                "OPENAI_API_BASE",
                "langchain-openai reads OPENAI_API_BASE before OPENAI_BASE_URL",
            ),
        ),
        snippets=(Snippet(title="ChatOpenAI (Python)", language="python", template=_LANGCHAIN_PY),),
        steps=("`ChatOpenAI()` reads the variables, or pass them explicitly as below.",),
    ),
    Tool(
        id="cursor",
        label="Cursor",
        request_shape="openai",
        base_url_form="v1",
        setup="gui",
        env=(_SPEND_KEY,),
        fields=(
            Field("OpenAI API Key", Value.KEY),
            Field("Override OpenAI Base URL", Value.BASE_URL),
            Field("Model name", Value.MODEL),
        ),
        steps=(
            "Open Cursor Settings → Models.",
            'Under "API Keys", paste the key into "OpenAI API Key" and turn it on.',
            'Turn on "Override OpenAI Base URL" and enter $base_url.',
            "Add a custom model named $model (or another model your key allows).",
            "Click Verify.",
        ),
    ),
    Tool(
        id="cline",
        label="Cline",
        request_shape="openai",
        base_url_form="v1",
        setup="gui",
        env=(_SPEND_KEY,),
        fields=(
            Field("API Provider", "OpenAI Compatible"),
            Field("Base URL", Value.BASE_URL),
            Field("API Key", Value.KEY),
            Field("Model ID", Value.MODEL),
        ),
        steps=(
            "Open the Cline panel → Settings (gear icon).",
            'Set "API Provider" to "OpenAI Compatible".',
            "Fill in Base URL, API Key and Model ID with the values below, then Save.",
        ),
    ),
    Tool(
        id="codex",
        label="Codex CLI",
        request_shape="openai",
        base_url_form="v1",
        setup="config-file",
        env=(_SPEND_KEY,),
        snippets=(
            Snippet(
                title="~/.codex/config.toml",
                language="toml",
                template=_CODEX_TOML,
                path="~/.codex/config.toml",
            ),
        ),
        steps=(
            "Merge the snippet below into ~/.codex/config.toml (Codex reads it at start-up).",
            "Export LAVA_SPEND_KEY in the shell that runs codex: the config names the "
            "variable (env_key), never the key itself.",
            "Run `codex`.",
        ),
        warnings=(
            "Recent Codex versions speak only the Responses API (wire_api = "
            '"responses"), which Lava does not document for spend keys; they may '
            'reject wire_api = "chat" at start-up. Use a Codex release that still '
            "accepts it.",
        ),
    ),
    Tool(
        id="raycast",
        label="Raycast",
        request_shape="openai",
        base_url_form="v1",
        setup="gui",
        env=(_SPEND_KEY,),
        fields=(
            Field("Base URL", Value.BASE_URL),
            Field("API Key", Value.KEY),
            Field("Model ID", Value.MODEL),
        ),
        steps=(
            "Open Raycast Settings → AI.",
            "Under Custom Providers (bring your own key), add an OpenAI-compatible provider.",
            "Enter the Base URL, API Key and Model ID below, then pick the model in AI Chat.",
        ),
    ),
    Tool(
        id="openclaw",
        label="OpenClaw",
        request_shape="openai",
        base_url_form="v1",
        setup="config-file",
        env=(_SPEND_KEY,),
        snippets=(
            Snippet(
                title="Provider entry for ~/.openclaw/openclaw.json",
                language="json",
                template=_OPENCLAW_JSON,
                path="~/.openclaw/openclaw.json",
            ),
        ),
        steps=(
            "Merge the entry below into ~/.openclaw/openclaw.json.",
            "Export LAVA_SPEND_KEY where OpenClaw runs: the entry reads $${LAVA_SPEND_KEY}.",
            "Restart OpenClaw and check the model with `openclaw models list`.",
        ),
    ),
)

_BY_ID: dict[str, Tool] = {t.id: t for t in _TOOLS}


class UnknownToolError(KeyError, UsageError):
    """No such tool (exit 2). A KeyError for lookups, a UsageError for main.py."""

    def __init__(self, tool_id: str) -> None:
        valid = ", ".join(tool_ids())
        UsageError.__init__(
            self,
            f"unknown tool {tool_id!r}; valid tools: {valid}",
            hint="run `lava env --list` to see every tool and the request shape it needs",
        )
        self.tool_id = tool_id

    def __str__(self) -> str:
        # KeyError would repr() the message; keep it readable.
        return self.message


def all_tools() -> tuple[Tool, ...]:
    """Every tool, in the order `lava env --list` shows them."""
    return _TOOLS


def tool_ids() -> tuple[str, ...]:
    """The valid tool ids (for help text and completion)."""
    return tuple(_BY_ID)


def get_tool(tool_id: str) -> Tool:
    """The tool with this id; `UnknownToolError` (a KeyError) lists the valid ids."""
    try:
        return _BY_ID[tool_id]
    except KeyError:
        raise UnknownToolError(tool_id) from None
