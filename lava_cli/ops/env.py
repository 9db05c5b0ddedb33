"""`lava env <tool>`: the variables and settings that plug a spend key into a tool.

`eval "$(lava env claude-code --key claude)"` must just work, so the default output
is export lines for the user's shell. On a terminal, tools with more to set up than
variables (GUI and config-file tools, snippets such as the Vercel AI SDK's) get the
exact values, steps and snippets. The catalogue behind it is data (`lava_cli/tools/`);
how it looks on a terminal is `render.env`'s.

The key: `--key`, `--create`, LAVA_SPEND_KEY, else the profile's default saved key.
With none, nothing reaches a pipe (exit 3): a placeholder `eval`ed would replace the
user's working settings (and unset their ANTHROPIC_API_KEY) with a dummy. On a
terminal, where no `eval` reads it, the layout is shown with a placeholder that is
plainly no key, and the exit is still 3, so `lava env X && tool` stops there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lava_cli.credentials import env_credential
from lava_cli.errors import NotAuthenticatedError, UsageError
from lava_cli.ops.keys import KeyChanges
from lava_cli.ops.vetting import Vetting

if TYPE_CHECKING:
    from lava_cli.context import AppContext
    from lava_cli.tools.catalogue import Tool
    from lava_cli.tools.render import Shell

FORMATS = ("shell", "dotenv", "json")
# The settings `--create` may give the new key; a limit flag without it is refused.
LIMIT_FLAGS = {
    "spend_limit": "--spend-limit",
    "request_limit": "--request-limit",
    "rate_limit": "--rate-limit",
    "expires_in": "--expires-in",
    "expires_at": "--expires-at",
    "models": "--allow-model",
}


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
    limits: KeyChanges = field(default_factory=KeyChanges)  # --create's limits and models
    vetting: Vetting = field(default_factory=Vetting)


@dataclass(frozen=True)
class EnvKey:
    """The spend key the output carries, and what is known of it."""

    raw: str
    shape: str | None  # None when unknown (a raw LAVA_SPEND_KEY)
    ref: str | None
    placeholder: bool = False
    source: str = ""  # how it was chosen, for messages: "--key", "the profile's default"


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

    tool = get_tool(opts.tool_id)
    chosen_shell(opts)
    if opts.model is not None and not opts.model.strip():
        raise UsageError("--model cannot be empty", hint="leave it out for the example model")
    if opts.key and opts.create:
        raise UsageError("use --key or --create, not both")
    given = [flag for field, flag in LIMIT_FLAGS.items() if getattr(opts.limits, field)]
    if given and not opts.create:
        raise UsageError(
            f"{given[0]} sets up a new key: it needs --create",
            hint="change an existing key with `lava keys update KEY`",
        )
    if opts.create:
        create_body(opts, tool)
    allowed = [m.strip() for m in opts.limits.models]
    if opts.model and allowed and opts.model.strip() not in allowed:
        raise UsageError(
            f"--model {opts.model.strip()} is not among the --allow-model values: "
            f"{tool.label} could not use it with the new key",
            hint="add it with --allow-model, or leave --allow-model out",
        )


def create_body(opts: EnvOptions, tool: Tool) -> dict[str, object]:
    """The body of the key `--create` makes: the tool's shape, the name (the tool's id
    unless --name), and the limits given (parsed: exit 2 on bad input)."""
    from lava_cli.ops.keys import build_body, now

    changes = opts.limits._replace(name=opts.name or tool.id, shape=tool.request_shape)
    return build_body(changes, now())


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
    if opts.model is not None:
        check_model(app, tool, opts)
    found = choose_key(app, tool, opts)
    check_shape(app, tool, found)
    base_url = app.base_url()[0]
    layout = _layout(app, tool, opts)
    _warn(app, tool, layout)
    _emit(app, tool, found.raw, base_url, shell, opts, layout)
    if found.placeholder:
        raise _no_key(tool, shown=True)
    if app.stdout_tty:
        app.out.note(
            f'note: this output contains a secret; to load it: eval "$(lava env {tool.id} …)"'
        )


def check_model(app: AppContext, tool: Tool, opts: EnvOptions) -> None:
    """--model must be in the catalogue, and one the tool's request shape can call."""
    from lava_cli.ops.catalogue import Settings, check_settings

    assert opts.model is not None
    model = opts.model.strip()
    check_settings(
        app,
        Settings(tool.request_shape, models=[model]),
        new_models=[model],
        allow_unknown=opts.vetting.allow_unknown_model,
        consequence=f"{tool.label} could never use it",
        fix=f"{tool.label} needs a model its {tool.request_shape} API serves: "
        f"`lava models --provider {tool.request_shape}` lists them",
    )


def choose_key(app: AppContext, tool: Tool, opts: EnvOptions) -> EnvKey:
    """--key (a saved key), --create (a new saved one), LAVA_SPEND_KEY, the profile's
    default saved key; with none, exit 3 in a pipe and a placeholder on a terminal."""
    from lava_cli.ops.saved import default_saved

    if opts.key:
        return _saved(app, opts.key, "--key")
    if opts.create:
        return _created(app, tool, opts)
    env = env_credential("LAVA_SPEND_KEY")
    if env:
        return EnvKey(env, None, "LAVA_SPEND_KEY", source="LAVA_SPEND_KEY")
    default = default_saved(app)
    if default is not None:
        return _saved(app, default[0], "the profile's default key")
    if not app.stdout_tty:
        raise _no_key(tool, shown=False)
    from lava_cli.tools.render import PLACEHOLDER_KEY

    return EnvKey(PLACEHOLDER_KEY, None, None, placeholder=True)


def _no_key(tool: Tool, *, shown: bool) -> NotAuthenticatedError:
    what = "the settings above hold a placeholder, not a key" if shown else "nothing was printed"
    return NotAuthenticatedError(
        f"no spend key for {tool.label}: {what}",
        hint=f"use --key NAME (a key saved with --save), LAVA_SPEND_KEY, "
        f"`lava keys default KEY`, or --create (makes {_an(tool.request_shape)}-shape key "
        f"for {tool.id} and saves it)",
    )


def _an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _saved(app: AppContext, ref: str, source: str) -> EnvKey:
    from lava_cli.ops.saved import load_saved_key

    kid, meta, raw = load_saved_key(app, ref)
    name = str(meta.get("name") or kid)
    return EnvKey(raw, str(meta.get("request_shape") or "openai"), name, source=source)


def _created(app: AppContext, tool: Tool, opts: EnvOptions) -> EnvKey:
    """A new key of the tool's shape, saved: its value reaches stdout only inside the
    output `eval` runs, so unsaved it would stay live with nobody holding it. Without
    --spend-limit it gets the profile's limit for keys lava makes (`ops.defaults`)."""
    from lava_cli.ops.defaults import AutoLimit, auto_limit, creation_note, limit_words
    from lava_cli.ops.handoff import save_or_revoke
    from lava_cli.ops.saved import check_can_save
    from lava_cli.ops.vetting import vet_new_key

    body = create_body(opts, tool)
    given = body.get("spend_limit")
    limit = AutoLimit(given, "", "--spend-limit") if isinstance(given, dict) else auto_limit(app)
    if limit.body is not None:
        body["spend_limit"] = limit.body
    check_can_save(app)
    client = app.client()
    vet_new_key(app, client, body, opts.vetting)
    minted = client.create_spend_key(body)
    key = minted.key
    where = save_or_revoke(app, minted)
    told = (
        f"It has {limit_words(limit)}."
        if limit.source == "--spend-limit"
        else creation_note(limit, key.name)
    )
    app.out.note(f"Created spend key {key.name!r} ({key.spend_key_id}), saved in {where}. {told}")
    return EnvKey(minted.raw, key.request_shape, key.name, source="--create")


def check_shape(app: AppContext, tool: Tool, key: EnvKey) -> None:
    """A key of the wrong request shape fails in the tool with a puzzling 403: refuse now."""
    if key.shape is None or key.shape == tool.request_shape:
        return
    from lava_cli.ops.saved import saved_keys

    fitting = sorted(
        str(meta.get("name") or kid)
        for kid, meta in saved_keys(app).items()
        if isinstance(meta, dict) and meta.get("request_shape") == tool.request_shape
    )
    other = f"use one saved here: --key {fitting[0]}; or " if fitting else ""
    whose = f"{key.source} {key.ref!r}" if key.source != "--key" else repr(key.ref)
    raise UsageError(
        f"{tool.label} needs {_an(tool.request_shape)}-shape key, but {whose} is {key.shape}",
        hint=f"{other}switch it with `lava keys update {key.ref} --shape {tool.request_shape}`, "
        f"or make one with `lava env {tool.id} --create`",
    )


def _layout(app: AppContext, tool: Tool, opts: EnvOptions) -> str:
    """json, dotenv, shell (lines to eval), or instructions: on a terminal, for a tool
    with more to set up than variables (a GUI, a config file, a code snippet)."""
    if opts.format in ("json", "dotenv"):
        return opts.format
    if app.stdout_tty and (tool.setup != "env" or tool.snippets):
        return "instructions"
    return "shell"


def _warn(app: AppContext, tool: Tool, layout: str) -> None:
    """Variables in this environment that would still beat ours, and the tool's own
    caveats (the instructions show those in their own section)."""
    from lava_cli.tools.render import shadowing

    if layout != "shell":  # export lines unset them; nothing else can
        for unset in shadowing(tool, os.environ):
            app.out.warn(f"{unset.name} is set in this environment: {unset.reason}")
    if layout != "instructions":
        for warning in tool.warnings:
            app.out.warn(warning)


def _emit(
    app: AppContext,
    tool: Tool,
    raw: str,
    base_url: str,
    shell: Shell,
    opts: EnvOptions,
    layout: str,
) -> None:
    """The settings in the asked format; steps to follow for a GUI tool on a terminal."""
    from lava_cli.tools.render import (
        render_dotenv,
        render_instructions,
        render_json,
        render_shell,
    )

    model = opts.model.strip() if opts.model else None
    try:
        if layout == "json":
            app.out.json(render_json(tool, raw, base_url, model))
        elif layout == "dotenv":
            app.out.line(render_dotenv(tool, raw, base_url, model).rstrip("\n"))
        elif layout == "instructions":
            from lava_cli.render.env import instructions

            sections = render_instructions(tool, raw, base_url, shell=shell, model=model)
            instructions(app.out, sections)
        else:
            app.out.line(render_shell(tool, raw, base_url, shell, model).rstrip("\n"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
