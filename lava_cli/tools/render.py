"""Render a catalogue record as shell exports, .env lines, a JSON dict or instructions.

Pure functions over plain data, stdlib only: the CLI decides where the key comes
from and lays the result out (rich stays in output.py). Every value that reaches a
shell, a .env file or a config snippet is quoted for that target, so any key or
URL round-trips exactly; values with control characters (newlines included) are
refused with ValueError, since no target represents them portably.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template
from typing import Literal, cast

from lava_cli.tools.catalogue import EXAMPLE_MODELS, Tool, Unset, Value

Shell = Literal["bash", "zsh", "fish", "powershell"]
SHELLS: tuple[Shell, ...] = ("bash", "zsh", "fish", "powershell")
TextFormat = Literal["bash", "zsh", "fish", "powershell", "dotenv"]
TEXT_FORMATS: tuple[TextFormat, ...] = (*SHELLS, "dotenv")

# Shown (on a terminal only) when the caller has no key: plainly no key, so nobody
# pastes it into a tool. Callers compare against it to add a hint.
PLACEHOLDER_KEY = "REPLACE_WITH_YOUR_LAVA_SPEND_KEY"

SectionKind = Literal["warning", "steps", "fields", "snippet", "env"]


@dataclass(frozen=True)
class Section:
    """One block of instructions, for the CLI to lay out.

    kind "warning"/"steps": `lines`; "fields": `fields` as (label, value) pairs to
    paste; "snippet"/"env": `snippet` text in `language` ("json", "toml",
    "javascript", "python", or a shell name), with `path` naming the file when it
    belongs in one.
    """

    kind: SectionKind
    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    snippet: str | None = None
    language: str | None = None
    path: str | None = None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters that need no quoting in any dotenv dialect (python-dotenv, Node's
# dotenv, docker compose): no quotes, `$`, `#`, spaces or backslashes.
_DOTENV_BARE = re.compile(r"[A-Za-z0-9_./:@+,=%~-]*")
# PowerShell treats the typographic single quotes as quote characters too.
_PS_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def _check_value(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"{name} contains a control character (e.g. a newline); refusing")
    return value


def tool_base_url(tool: Tool, api_base_url: str) -> str:
    """The base URL this tool wants, derived from the profile's API base.

    Anthropic-SDK tools append /v1/messages themselves and need the root; OpenAI
    clients append /chat/completions and need .../v1. Accepts the API base with or
    without a trailing /v1 or slash.
    """
    root = api_base_url.strip().rstrip("/")
    if root.endswith("/v1"):
        root = root[: -len("/v1")].rstrip("/")
    return root if tool.base_url_form == "root" else f"{root}/v1"


def _values(tool: Tool, key: str, api_base_url: str, model: str | None) -> dict[Value, str]:
    if not key:
        raise ValueError("the key is empty; pass PLACEHOLDER_KEY when there is none")
    return {
        Value.KEY: _check_value("key", key),
        Value.BASE_URL: _check_value("base URL", tool_base_url(tool, api_base_url)),
        Value.MODEL: _check_value("model", model or EXAMPLE_MODELS[tool.request_shape]),
    }


def resolve_env(
    tool: Tool, key: str, api_base_url: str, model: str | None = None
) -> dict[str, str]:
    """The variables to export, name -> value, in catalogue order."""
    values = _values(tool, key, api_base_url, model)
    env = {
        var.name: _check_value(
            var.name, values[var.value] if isinstance(var.value, Value) else var.value
        )
        for var in tool.env
    }
    if model is not None and tool.model_var is not None:
        env[tool.model_var] = values[Value.MODEL]
    return env


def quote_posix(value: str) -> str:
    """Single-quote for bash/zsh: nothing is special inside but the quote itself."""
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    """Single-quote for fish, where `\\'` and `\\\\` are the only escapes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_powershell(value: str) -> str:
    """Single-quote for PowerShell: no expansion; quote characters are doubled."""
    return "'" + "".join(c + c if c in _PS_QUOTES else c for c in value) + "'"


def quote_dotenv(value: str) -> str:
    """Quote for a .env file so python-dotenv, Node dotenv and compose agree.

    Bare when harmless, else single quotes (literal, no interpolation, in all
    three). A value with a quote or backslash has no portable spelling: ValueError.
    """
    if _DOTENV_BARE.fullmatch(value):
        return value
    if "'" in value or "\\" in value:
        raise ValueError(
            "value has a quote or backslash, which .env dialects read differently; "
            "use --format json or a shell format"
        )
    return f"'{value}'"


def render_shell(
    tool: Tool, key: str, api_base_url: str, shell: Shell, model: str | None = None
) -> str:
    """Lines to `eval` in `shell`: unset the shadowing variables, export ours.

    No comments: interactive zsh without INTERACTIVE_COMMENTS would run them.
    """
    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}; expected one of {', '.join(SHELLS)}")
    env = resolve_env(tool, key, api_base_url, model)
    lines: list[str] = []
    for gone in tool.unset:
        if shell == "fish":
            # -g: the session's variable only. A bare `set -e` would erase a
            # universal variable, i.e. the user's saved key, for good.
            lines.append(f"set -e -g {gone.name}")
        elif shell == "powershell":
            lines.append(f"Remove-Item Env:{gone.name} -ErrorAction SilentlyContinue")
        else:
            lines.append(f"unset {gone.name}")
    for name, value in env.items():
        if shell == "fish":
            lines.append(f"set -gx {name} {quote_fish(value)}")
        elif shell == "powershell":
            lines.append(f"$Env:{name} = {quote_powershell(value)}")
        else:
            lines.append(f"export {name}={quote_posix(value)}")
    if shell == "fish":
        # fish's `set` keeps $status, and `set -e` of an unset variable makes it 4: end
        # on 0 so `lava env … | source; and claude` runs claude.
        lines.append("true")
    return "\n".join(lines) + "\n"


def render_dotenv(tool: Tool, key: str, api_base_url: str, model: str | None = None) -> str:
    """`NAME=value` lines; variables to unset become comments (.env cannot unset)."""
    env = resolve_env(tool, key, api_base_url, model)
    lines = [f"# unset {gone.name}: {gone.reason}" for gone in tool.unset]
    lines += [f"{name}={quote_dotenv(value)}" for name, value in env.items()]
    return "\n".join(lines) + "\n"


def render_text(
    tool: Tool, key: str, api_base_url: str, fmt: TextFormat, model: str | None = None
) -> str:
    """`render_shell` or `render_dotenv`, chosen by a `--shell`/`--format` value."""
    if fmt == "dotenv":
        return render_dotenv(tool, key, api_base_url, model)
    if fmt not in SHELLS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(TEXT_FORMATS)}")
    return render_shell(tool, key, api_base_url, fmt, model)


def _literal(value: str) -> str:
    # A JSON string is also a valid TOML basic string, JavaScript and Python literal
    # (control characters were refused before we get here).
    return json.dumps(value, ensure_ascii=False)


def _snippets(tool: Tool, values: Mapping[Value, str]) -> list[dict[str, str | None]]:
    mapping = {
        "key": _literal(values[Value.KEY]),
        "base_url": _literal(values[Value.BASE_URL]),
        "model": _literal(values[Value.MODEL]),
        "provider_model": _literal(f"lava/{values[Value.MODEL]}"),
    }
    return [
        {
            "title": s.title,
            "path": s.path,
            "language": s.language,
            "text": Template(s.template).substitute(mapping),
        }
        for s in tool.snippets
    ]


def _steps(tool: Tool, values: Mapping[Value, str]) -> list[str]:
    mapping = {"base_url": values[Value.BASE_URL], "model": values[Value.MODEL]}
    return [Template(step).substitute(mapping) for step in tool.steps]


def _fields(tool: Tool, values: Mapping[Value, str]) -> list[tuple[str, str]]:
    return [
        (f.label, values[f.value] if isinstance(f.value, Value) else f.value) for f in tool.fields
    ]


def render_json(
    tool: Tool, key: str, api_base_url: str, model: str | None = None
) -> dict[str, object]:
    """Everything about the tool's setup as a JSON-ready dict (`json.dumps` it).

    Keys, always all present: tool, label, request_shape, base_url_form, base_url,
    setup, env {name: value}, unset [name], config [{title, path, language, text}],
    fields [{label, value}], steps [str], warnings [str], placeholder_key (bool).
    """
    values = _values(tool, key, api_base_url, model)
    return {
        "tool": tool.id,
        "label": tool.label,
        "request_shape": tool.request_shape,
        "base_url_form": tool.base_url_form,
        "base_url": values[Value.BASE_URL],
        "setup": tool.setup,
        "env": resolve_env(tool, key, api_base_url, model),
        "unset": [gone.name for gone in tool.unset],
        "config": _snippets(tool, values),
        "fields": [{"label": label, "value": value} for label, value in _fields(tool, values)],
        "steps": _steps(tool, values),
        "warnings": list(tool.warnings),
        "placeholder_key": key == PLACEHOLDER_KEY,
    }


def render_instructions(
    tool: Tool,
    key: str,
    api_base_url: str,
    *,
    shell: Shell | None = None,
    model: str | None = None,
) -> list[Section]:
    """The setup as sections for a terminal: warnings, steps, values, snippets, env.

    With `shell`, the last section holds the export lines for that shell.
    """
    values = _values(tool, key, api_base_url, model)
    sections: list[Section] = []
    if tool.warnings:
        sections.append(Section("warning", "Warning", lines=tool.warnings))
    if tool.steps:
        sections.append(Section("steps", f"Set up {tool.label}", lines=tuple(_steps(tool, values))))
    if tool.fields:
        sections.append(Section("fields", "Values to paste", fields=tuple(_fields(tool, values))))
    for snip in _snippets(tool, values):
        sections.append(
            Section(
                "snippet",
                snip["title"] or "",
                snippet=snip["text"],
                language=snip["language"],
                path=snip["path"],
            )
        )
    if shell is not None:
        sections.append(
            Section(
                "env",
                f"Environment ({shell})",
                snippet=render_shell(tool, key, api_base_url, shell, model),
                language=shell,
            )
        )
    return sections


def shadowing(tool: Tool, env: Mapping[str, str]) -> list[Unset]:
    """The tool's must-unset variables that are set in `env` (to warn about)."""
    return [gone for gone in tool.unset if gone.name in env]


def detect_shell(env: Mapping[str, str]) -> Shell:
    """The user's shell from $SHELL; PowerShell on Windows (PSModulePath, no SHELL).

    Anything unrecognised (sh, dash, ksh) gets bash syntax, which they all accept.
    """
    path = env.get("SHELL", "")
    if not path:
        return "powershell" if env.get("PSModulePath") else "bash"
    name = re.split(r"[\\/]", path)[-1].lower().lstrip("-")
    name = name.removesuffix(".exe")
    if name in ("zsh", "fish"):
        return cast(Shell, name)
    if name in ("pwsh", "powershell"):
        return "powershell"
    return "bash"
