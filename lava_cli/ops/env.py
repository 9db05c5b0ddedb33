"""`lava env <tool>`: the variables and settings that plug a spend key into a tool.

`eval "$(lava env claude-code --key claude)"` must just work, so the default output
is export lines for the user's shell. GUI and config-file tools get the exact values
and steps on a terminal. The catalogue behind it is data (`lava_cli/tools/`); how it
looks on a terminal is `render.env`'s.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lava_cli.credentials import env_credential
from lava_cli.errors import UsageError

if TYPE_CHECKING:
    from lava_cli.context import AppContext
    from lava_cli.tools.catalogue import Tool
    from lava_cli.tools.render import Shell

FORMATS = ("shell", "dotenv", "json")


@dataclass(frozen=True)
class EnvOptions:
    """`lava env` after parsing. `shell` None means the user's, from $SHELL."""

    tool_id: str | None = None
    list_tools: bool = False
    key: str | None = None
    create: bool = False
    name: str | None = None
    shell: str | None = None
    format: str = "shell"
    model: str | None = None


@dataclass(frozen=True)
class EnvKey:
    """The spend key the output carries, and what is known of it."""

    raw: str
    shape: str | None  # None when unknown (a raw LAVA_SPEND_KEY)
    ref: str | None
    placeholder: bool = False


def check(opts: EnvOptions) -> None:
    """Every usage error (exit 2) the flags alone can show, before any request."""
    if opts.format not in FORMATS:
        raise UsageError(
            f"--format: unknown format {opts.format!r}", hint=f"use one of {', '.join(FORMATS)}"
        )
    _refuse_conflicts(opts)
    if opts.list_tools:
        return
    if not opts.tool_id:
        raise UsageError(
            "which tool?", hint="`lava env --list` shows them, e.g. `lava env claude-code`"
        )
    from lava_cli.tools.catalogue import get_tool

    get_tool(opts.tool_id)
    chosen_shell(opts)
    if opts.key and opts.create:
        raise UsageError("use --key or --create, not both")


def _refuse_conflicts(opts: EnvOptions) -> None:
    """Flags that would be ignored in this combination are refused, not ignored."""
    if opts.list_tools and (opts.tool_id or opts.key or opts.create):
        raise UsageError(
            "--list shows every tool; it takes no TOOL, --key or --create",
            hint="`lava env --list`, then `lava env TOOL …`",
        )
    if opts.name is not None and not opts.create:
        raise UsageError(
            "--name names the key that --create makes", hint="add --create, or leave out --name"
        )
    if opts.shell is not None and opts.format != "shell":
        raise UsageError(
            f"--shell and --format {opts.format} do not go together",
            hint="--shell picks the syntax of --format shell's export lines",
        )


def chosen_shell(opts: EnvOptions) -> Shell:
    """--shell, else the user's shell from $SHELL; a usage error for one we cannot write."""
    from lava_cli.tools.render import SHELLS, detect_shell

    shell = opts.shell or detect_shell(os.environ)
    if shell not in SHELLS:
        raise UsageError(
            f"--shell: unknown shell {shell!r}", hint=f"use one of {', '.join(SHELLS)}"
        )
    return shell


def run(app: AppContext, opts: EnvOptions) -> None:
    """The tool list, or one tool's settings with a key of the right shape in them."""
    from lava_cli.render import env as render_env
    from lava_cli.tools.catalogue import all_tools, get_tool

    if opts.list_tools:
        render_env.tool_list(app.out, all_tools(), as_json=opts.format == "json")
        return
    assert opts.tool_id is not None  # check() said so
    tool = get_tool(opts.tool_id)
    shell = chosen_shell(opts)
    found = choose_key(app, tool, opts)
    check_shape(tool, found)
    base_url = app.base_url()[0]
    _warn(app, tool)
    _emit(app, tool, found.raw, base_url, shell, opts)
    if app.stdout_tty and not found.placeholder:
        app.out.note(
            f'note: this output contains a secret; to load it: eval "$(lava env {tool.id} …)"'
        )


def choose_key(app: AppContext, tool: Tool, opts: EnvOptions) -> EnvKey:
    """--key (a saved key), --create (a new saved one), LAVA_SPEND_KEY, or a placeholder."""
    if opts.key:
        return _saved(app, opts.key)
    if opts.create:
        return _created(app, tool, opts.name)
    env = env_credential("LAVA_SPEND_KEY")
    if env:
        return EnvKey(env, None, "LAVA_SPEND_KEY")
    from lava_cli.tools.render import PLACEHOLDER_KEY

    app.out.warn(
        "no spend key given: the output holds a placeholder key. "
        f"Use --key NAME (a key saved with --save), LAVA_SPEND_KEY, or --create "
        f"(makes a {tool.request_shape}-shape key for {tool.id} and saves it)"
    )
    return EnvKey(PLACEHOLDER_KEY, None, None, placeholder=True)


def _saved(app: AppContext, ref: str) -> EnvKey:
    from lava_cli.ops.saved import load_saved_key

    _, meta, raw = load_saved_key(app, ref)
    return EnvKey(raw, str(meta.get("request_shape") or "openai"), ref)


def _created(app: AppContext, tool: Tool, name: str | None) -> EnvKey:
    """A new key of the tool's shape, saved: its value reaches stdout only inside the
    output `eval` runs, so unsaved it would stay live with nobody holding it."""
    from lava_cli.ops.handoff import save_or_revoke
    from lava_cli.ops.saved import check_can_save

    check_can_save(app)
    minted = app.client().create_spend_key(
        {"name": name or tool.id, "request_shape": tool.request_shape}
    )
    key = minted.key
    where = save_or_revoke(app, minted)
    app.out.note(f"Created spend key {key.name!r} ({key.spend_key_id}), saved in {where}.")
    return EnvKey(minted.raw, key.request_shape, key.name)


def check_shape(tool: Tool, key: EnvKey) -> None:
    """A key of the wrong request shape fails in the tool with a puzzling 403: refuse now."""
    if key.shape is None or key.shape == tool.request_shape:
        return
    raise UsageError(
        f"{tool.label} needs an {tool.request_shape}-shape key, but {key.ref!r} is {key.shape}",
        hint=f"switch it with `lava keys update {key.ref} --shape {tool.request_shape}`, or make "
        f"one with `lava env {tool.id} --create`",
    )


def _warn(app: AppContext, tool: Tool) -> None:
    """Variables in this environment that would beat ours, and the tool's own caveats."""
    from lava_cli.tools.render import shadowing

    for unset in shadowing(tool, os.environ):
        app.out.warn(f"{unset.name} is set in this environment: {unset.reason}")
    for warning in tool.warnings:
        app.out.warn(warning)


def _emit(
    app: AppContext, tool: Tool, raw: str, base_url: str, shell: Shell, opts: EnvOptions
) -> None:
    """The settings in the asked format; steps to follow for a GUI tool on a terminal."""
    from lava_cli.tools.render import (
        render_dotenv,
        render_instructions,
        render_json,
        render_shell,
    )

    try:
        if opts.format == "json":
            app.out.json(render_json(tool, raw, base_url, opts.model))
        elif opts.format == "dotenv":
            app.out.line(render_dotenv(tool, raw, base_url, opts.model).rstrip("\n"))
        elif app.stdout_tty and tool.setup != "env":
            from lava_cli.render.env import instructions

            sections = render_instructions(tool, raw, base_url, shell=shell, model=opts.model)
            instructions(app.out, sections)
        else:
            app.out.line(render_shell(tool, raw, base_url, shell, opts.model).rstrip("\n"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
