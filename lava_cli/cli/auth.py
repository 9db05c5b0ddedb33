"""`lava login`, `lava logout`, `lava auth status`: the flags; the work is `ops.login`'s."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of, command_group

auth_app = command_group("Inspect the stored credentials.")


def login(
    ctx: typer.Context,
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read the secret key from stdin (for scripts).")
    ] = False,
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Log in through the browser (prints the URL too, for SSH sessions).",
        ),
    ] = False,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="Store the secret in a 0600 file instead of the OS keyring (headless machines).",
        ),
    ] = False,
) -> None:
    """Log in with a Lava secret key and keep it in the OS keyring.

    At a desktop terminal this offers the browser (--web forces it); otherwise it asks
    for the key, or reads it from stdin with --with-token. The key is checked against
    the API first. Example: lava login --with-token < secret.txt
    """
    from lava_cli.ops import login as ops_login

    opts = ops_login.LoginOptions(with_token=with_token, web=web, insecure_storage=insecure_storage)
    ops_login.check(opts)
    ops_login.run_login(app_of(ctx), opts)


def logout(ctx: typer.Context) -> None:
    """Forget the profile's stored secret key (keyring or file).

    Example: lava --profile staging logout
    """
    from lava_cli.ops.login import run_logout

    run_logout(app_of(ctx))


@auth_app.command()
def status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Show which profile, base URL and secret `lava` would use, and where it lives.

    Exit code 3 when there is no secret. Example: lava auth status --json
    """
    from lava_cli.ops.login import run_status

    run_status(app_of(ctx), json=json_)
