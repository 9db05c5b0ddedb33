"""`lava keys apply` and `lava keys export`: keys as code (registered in `cli/keys.py`).

Typer only: flags into `ops.apply`'s options (a bad --format is exit 2 before the file
is even read), then `ops.apply.run_apply` / `run_export`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import app_of
from lava_cli.errors import UsageError
from lava_cli.ops.handoff import HandOff, check_format, check_var_name


def apply(
    ctx: typer.Context,
    file: Annotated[
        str,
        typer.Option(
            "--file", "-f", help="The key file (TOML; - reads stdin).", show_default=False
        ),
    ],
    prune: Annotated[
        bool, typer.Option("--prune", help="Revoke the wallet's keys the file does not declare.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; change nothing.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Print the plan, change nothing; exit 0 in sync, 7 when the wallet differs.",
        ),
    ] = False,
    save: Annotated[
        bool, typer.Option("--save", help="Keep each new key in the OS keyring (per key id).")
    ] = False,
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Hand new keys to a script: env, dotenv, github (one PREFIX_NAME variable "
            "each) or json (an array).",
        ),
    ] = None,
    var_prefix: Annotated[
        str,
        typer.Option("--var-prefix", help="Prefix of the variables --format writes."),
    ] = "LAVA_SPEND_KEY",
) -> None:
    """Make the wallet's keys match a TOML file: create, update, revoke (--prune).

    Validates the whole file first (every problem with its line, exit 2), shows the
    plan (+ create, ~ update, - revoke, = unchanged) and asks; updates send only the
    fields that differ, in place. New keys are printed once at the end (stdout) or
    saved with --save. --check exits 7 on drift (for CI). `lava keys export` writes
    the file from the wallet.

    Example: lava keys apply -f keys.toml --dry-run
    """
    if save and format_ is not None:
        raise UsageError("use --save or --format, not both", hint="--save keeps the keys here")
    check_format(format_, None)  # no --var here: --var-prefix is checked below
    check_var_name(var_prefix, "--var-prefix")
    how = HandOff(save=save, fmt=format_, var=var_prefix)
    from lava_cli.ops import apply as ops

    opts = ops.ApplyOptions(file, prune=prune, yes=yes, dry_run=dry_run, check=check, how=how)
    ops.run_apply(app_of(ctx), opts)


def export(
    ctx: typer.Context,
    json_: Annotated[
        bool,
        typer.Option(
            "--json", help="The same declaration as JSON (the API objects: keys list --json)."
        ),
    ] = False,
) -> None:
    """Print the wallet's keys as a key file for `lava keys apply` (no secrets).

    Example: lava keys export > keys.toml && lava keys apply -f keys.toml --check
    """
    from lava_cli.ops import apply as ops

    ops.run_export(app_of(ctx), ops.ExportOptions(json_=json_))
