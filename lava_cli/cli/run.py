"""`lava run -- COMMAND`: a command with a budgeted, auto-revoked spend key."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import app_of
from lava_cli.errors import UsageError
from lava_cli.ops.keys import KeyChanges
from lava_cli.ops.vetting import Vetting


def run(
    ctx: typer.Context,
    command: Annotated[
        list[str] | None, typer.Argument(help="The command to run, after --.")
    ] = None,
    spend_limit: Annotated[
        str, typer.Option("--spend-limit", help="Budget for the whole run, AMOUNT/CYCLE.")
    ] = "1/total",
    expires_in: Annotated[
        str, typer.Option("--expires-in", help="The key expires even if the revoke never happens.")
    ] = "1h",
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Allow this model.")
    ] = None,
    provider: Annotated[
        list[str] | None, typer.Option("--provider", help="Allow this provider.")
    ] = None,
    shape: Annotated[str | None, typer.Option("--shape", help="openai or anthropic.")] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Key name (default lava-run-YYYYMMDD-HHMMSS, in UTC)."),
    ] = None,
    tool: Annotated[
        str | None,
        typer.Option("--tool", help="Set this tool's variables (see `lava env --list`)."),
    ] = None,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep", help="Save the key for later --key NAME use instead of revoking it."
        ),
    ] = False,
    allow_duplicate_name: Annotated[
        bool, typer.Option("--allow-duplicate-name", help="Use --name even if a key has it.")
    ] = False,
    allow_unknown_model: Annotated[
        bool,
        typer.Option("--allow-unknown-model", help="Accept a model the catalogue does not list."),
    ] = False,
) -> None:
    """Run a command with an ephemeral spend key in its environment, then revoke the key.

    The child gets LAVA_SPEND_KEY and the OPENAI_* (or ANTHROPIC_*) variables, and no
    other credential (LAVA_SECRET_KEY and other keys are withheld); lava exits with the
    command's exit code. Example: lava run --spend-limit 2/total -- pytest -k ai
    """
    from lava_cli.ops.run import run_options, run_with_key

    if not command:
        raise UsageError("no command to run", hint="lava run [OPTIONS] -- COMMAND [ARGS...]")
    if command[0].startswith("-"):
        # Unknown options land here (the command's own options must pass through): no
        # program is named like an option, so this is a mistyped flag, not exit 127.
        raise UsageError(
            f"no such option: {command[0]}", hint="see `lava run --help`; the command goes after --"
        )
    changes = KeyChanges(
        name=name,
        models=model or (),
        providers=provider or (),
        shape=shape,
        spend_limit=spend_limit,
        expires_in=expires_in,
    )
    vetting = Vetting(allow_duplicate_name, allow_unknown_model)
    opts = run_options(tuple(command), changes, tool=tool, keep=keep, vetting=vetting)
    raise typer.Exit(run_with_key(app_of(ctx), opts))
