"""`lava env <tool>`: the variables and settings that plug a spend key into a tool.

`eval "$(lava env claude-code --key claude)"` must just work, so the default output
is export lines for the user's shell. GUI and config-file tools get the exact values
and steps on a terminal. The catalogue behind it is data (`lava_cli/tools/`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from lava_cli.cli.common import app_of
from lava_cli.credentials import env_credential
from lava_cli.errors import UsageError

if TYPE_CHECKING:
    from lava_cli.context import AppContext
    from lava_cli.tools.catalogue import Tool

FORMATS = ("shell", "dotenv", "json")


@dataclass(frozen=True)
class EnvKey:
    raw: str
    shape: str | None  # None when unknown (a raw LAVA_SPEND_KEY)
    ref: str | None
    placeholder: bool = False


def _key_for(
    app: AppContext, tool: Tool, ref: str | None, create: bool, name: str | None
) -> EnvKey:
    from lava_cli.tools.render import PLACEHOLDER_KEY

    if ref and create:
        raise UsageError("use --key or --create, not both")
    if ref:
        from lava_cli.ops.keys import load_saved_key

        _, meta, raw = load_saved_key(app, ref)
        return EnvKey(raw, str(meta.get("request_shape") or "openai"), ref)
    if create:
        from lava_cli.cli.common import save_or_revoke
        from lava_cli.ops.keys import check_can_save

        check_can_save(app)
        key = app.client().create_spend_key(
            {"name": name or tool.id, "request_shape": tool.request_shape}
        )
        if not key.key:
            raise UsageError("the API did not return the new key's value")
        # The key reaches stdout only inside the output `eval` runs; unsaved, it would
        # stay live after the shell closes with nobody holding it.
        where = save_or_revoke(app, key, key.key)
        app.out.note(f"Created spend key {key.name!r} ({key.spend_key_id}), saved in {where}.")
        return EnvKey(key.key, key.request_shape, key.name)
    env = env_credential("LAVA_SPEND_KEY")
    if env:
        return EnvKey(env, None, "LAVA_SPEND_KEY")
    app.out.warn(
        "no spend key given: the output holds a placeholder key. "
        f"Use --key NAME (a key saved with --save), LAVA_SPEND_KEY, or --create "
        f"(makes a {tool.request_shape}-shape key for {tool.id} and saves it)"
    )
    return EnvKey(PLACEHOLDER_KEY, None, None, placeholder=True)


def check_shape(tool: Tool, key: EnvKey) -> None:
    """A key of the wrong request shape fails in the tool with a puzzling 403: refuse now."""
    if key.shape is None or key.shape == tool.request_shape:
        return
    raise UsageError(
        f"{tool.label} needs an {tool.request_shape}-shape key, but {key.ref!r} is {key.shape}",
        hint=f"switch it with `lava keys update {key.ref} --shape {tool.request_shape}`, or make "
        f"one with `lava env {tool.id} --create`",
    )


def list_tools(app: AppContext, json_: bool) -> None:
    from lava_cli.tools.catalogue import all_tools

    tools = all_tools()
    if json_:
        app.out.json(
            [
                {"id": t.id, "label": t.label, "request_shape": t.request_shape, "setup": t.setup}
                for t in tools
            ]
        )
        return
    rows = [[t.id, t.request_shape, t.setup, t.label] for t in tools]
    if not app.stdout_tty:
        app.out.tsv(rows)
        return
    for row in [["tool", "shape", "setup", "label"], *rows]:
        app.out.line(f"{row[0]:<15} {row[1]:<10} {row[2]:<12} {row[3]}")


def show_instructions(
    app: AppContext, tool: Tool, key: str, base_url: str, shell: str, model: str | None
) -> None:
    """GUI/config-file tools on a terminal: every value and step, laid out to paste."""
    from lava_cli.tools.render import render_instructions

    for section in render_instructions(tool, key, base_url, shell=shell, model=model):  # type: ignore[arg-type]
        title = section.title + (f" ({section.path})" if section.path else "")
        app.out.line(f"── {title}")
        for line in section.lines:
            app.out.line(f"  {line}")
        width = max((len(label) for label, _ in section.fields), default=0)
        for label, value in section.fields:
            app.out.line(f"  {label:<{width}}  {value}")
        if section.snippet:
            app.out.line("")
            for line in section.snippet.rstrip("\n").splitlines():
                app.out.line(f"    {line}")
        app.out.line("")


def env(
    ctx: typer.Context,
    tool_id: Annotated[
        str | None, typer.Argument(metavar="TOOL", help="Tool id (see --list).")
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the tools and the shape each needs.")
    ] = False,
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="A key saved with --save (id or name).")
    ] = None,
    create: Annotated[
        bool,
        typer.Option("--create", help="Create and save a key of the right shape for this tool."),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Name for --create (default: the tool id).")
    ] = None,
    shell: Annotated[
        str | None,
        typer.Option("--shell", help="bash, zsh, fish or powershell (default: from $SHELL)."),
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", "-f", help="shell (export lines), dotenv or json.")
    ] = "shell",
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model to put in snippets.")
    ] = None,
) -> None:
    """Print the settings that plug a spend key into an AI tool.

    Example: eval "$(lava env claude-code --key claude)"
    """
    from lava_cli.tools.catalogue import get_tool
    from lava_cli.tools.render import (
        SHELLS,
        detect_shell,
        render_dotenv,
        render_json,
        render_shell,
        shadowing,
    )

    app = app_of(ctx)
    if format_ not in FORMATS:
        raise UsageError(
            f"--format: unknown format {format_!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    if list_:
        list_tools(app, format_ == "json")
        return
    if not tool_id:
        raise UsageError(
            "which tool?", hint="`lava env --list` shows them, e.g. `lava env claude-code`"
        )
    tool = get_tool(tool_id)
    chosen_shell = shell or detect_shell(os.environ)
    if chosen_shell not in SHELLS:
        raise UsageError(
            f"--shell: unknown shell {chosen_shell!r}", hint=f"use one of {', '.join(SHELLS)}"
        )
    found = _key_for(app, tool, key, create, name)
    check_shape(tool, found)
    base_url = app.base_url()[0]
    for unset in shadowing(tool, os.environ):
        app.out.warn(f"{unset.name} is set in this environment: {unset.reason}")
    for warning in tool.warnings:
        app.out.warn(warning)
    try:
        if format_ == "json":
            app.out.json(render_json(tool, found.raw, base_url, model))
        elif format_ == "dotenv":
            app.out.line(render_dotenv(tool, found.raw, base_url, model).rstrip("\n"))
        elif app.stdout_tty and tool.setup != "env":
            show_instructions(app, tool, found.raw, base_url, chosen_shell, model)
        else:
            text = render_shell(tool, found.raw, base_url, chosen_shell, model)
            app.out.line(text.rstrip("\n"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if app.stdout_tty and not found.placeholder:
        app.out.note(
            f'note: this output contains a secret; to load it: eval "$(lava env {tool.id} …)"'
        )
