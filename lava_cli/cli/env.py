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
    from lava_cli.ops import env as ops_env

    opts = ops_env.EnvOptions(
        tool_id=tool_id,
        list_tools=list_,
        key=key,
        create=create,
        name=name,
        shell=shell,
        format=format_,
        model=model,
    )
    ops_env.check(opts)
    ops_env.run(app_of(ctx), opts)
