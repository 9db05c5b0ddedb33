"""`lava env <tool>`: the flags; the work is `ops.env`'s, the layout `render.env`'s."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import app_of


def env(
    ctx: typer.Context,
    tool_id: Annotated[
        str | None, typer.Argument(metavar="TOOL", help="Tool id (see --list).")
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the tools and the shape each needs.")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            "-k",
            help="A key saved with --save (id, name or preview); default: "
            "LAVA_SPEND_KEY, else the profile's default key.",
        ),
    ] = None,
    create: Annotated[
        bool,
        typer.Option("--create", help="Create and save a key of the right shape for this tool."),
    ] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Name for --create (default: the tool id).")
    ] = None,
    spend_limit: Annotated[
        str | None,
        typer.Option(
            "--spend-limit",
            help="For --create: AMOUNT/CYCLE (default: LAVA_AUTO_KEY_LIMIT, the profile's "
            "--auto-limit, or 10/monthly).",
        ),
    ] = None,
    request_limit: Annotated[
        str | None, typer.Option("--request-limit", help="For --create: COUNT/CYCLE.")
    ] = None,
    rate_limit: Annotated[
        str | None, typer.Option("--rate-limit", help="For --create: RPM or RPM/BURST.")
    ] = None,
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="For --create: a duration, 30m, 2h, 7d.")
    ] = None,
    expires_at: Annotated[
        str | None, typer.Option("--expires-at", help="For --create: an ISO 8601 time.")
    ] = None,
    allow_model: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-model",
            help="For --create: allow only this model (repeatable).",
        ),
    ] = None,
    allow_duplicate_name: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate-name", help="For --create: use the name even if a key has it."
        ),
    ] = False,
    allow_unknown_model: Annotated[
        bool,
        typer.Option(
            "--allow-unknown-model", help="Accept a model the catalogue does not list yet."
        ),
    ] = False,
    shell: Annotated[
        str | None,
        typer.Option("--shell", help="bash, zsh, fish or powershell (default: from $SHELL)."),
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", "-f", help="shell (export lines), dotenv or json.")
    ] = "shell",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help="The model the tool uses (ANTHROPIC_MODEL for claude-code; snippets and "
            "fields); checked against the catalogue.",
        ),
    ] = None,
) -> None:
    """Print the settings that plug a spend key into an AI tool.

    Exit 3 when there is no key (nothing is printed for `eval`).
    Example: eval "$(lava env claude-code --key claude)"
    """
    from lava_cli.ops import env as ops_env
    from lava_cli.ops.keys import KeyChanges
    from lava_cli.ops.vetting import Vetting

    limits = KeyChanges(
        models=allow_model or (),
        spend_limit=spend_limit,
        request_limit=request_limit,
        rate_limit=rate_limit,
        expires_at=expires_at,
        expires_in=expires_in,
    )
    opts = ops_env.EnvOptions(
        tool_id=tool_id,
        list_tools=list_,
        key=key,
        create=create,
        name=name,
        shell=shell,
        format=format_,
        model=model,
        limits=limits,
        vetting=Vetting(allow_duplicate_name, allow_unknown_model),
    )
    ops_env.check(opts)
    ops_env.run(app_of(ctx), opts)
