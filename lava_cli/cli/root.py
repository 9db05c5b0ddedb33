"""The root command: global options, and the assembly of the command groups.

Only assembly happens here; each group lives in its own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from lava_cli import __version__

if TYPE_CHECKING:
    from lava_cli.context import AppContext

HELP = """Manage Lava spend keys (lava_sk_…) from a terminal, scripts and CI.

Log in once with your secret key, then create, limit, rotate and revoke keys.
Exit codes: 0 ok, 1 API error, 2 bad usage, 3 not authenticated, 4 not found,
5 refused by policy, 6 network or server unavailable, 130 interrupted.
"""


def _version(value: bool) -> None:
    if value:
        import sys

        sys.stdout.write(f"lava {__version__}\n")
        raise typer.Exit(0)


def build(holder: list[AppContext]) -> Any:
    """Build the click command for one run; the AppContext it creates lands in `holder`."""
    from lava_cli.cli import auth, emulator, env, keys, prompt
    from lava_cli.cli import run as run_cmd

    app = typer.Typer(
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # Plain click help: rich-rendered help costs ~150 ms of imports per --help.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        profile: Annotated[
            str | None,
            typer.Option(
                "--profile", "-p", help="Profile to use (env LAVA_PROFILE).", show_default=False
            ),
        ] = None,
        base_url: Annotated[
            str | None,
            typer.Option(
                "--base-url", help="API base URL (env LAVA_BASE_URL).", show_default=False
            ),
        ] = None,
        verbose: Annotated[
            bool,
            typer.Option("--verbose", "-v", help="Log each request to stderr (secrets redacted)."),
        ] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
        ] = False,
    ) -> None:
        from lava_cli.context import AppContext

        app_ctx = AppContext(profile_flag=profile, base_url_flag=base_url, verbose=verbose)
        holder.append(app_ctx)
        ctx.obj = app_ctx

    app.add_typer(keys.app, name="keys")
    app.command("prompt")(prompt.prompt)
    app.command("models")(prompt.models)
    app.command("env")(env.env)
    app.command("run", context_settings=run_cmd.CONTEXT)(run_cmd.run)
    app.command("login")(auth.login)
    app.command("logout")(auth.logout)
    app.add_typer(auth.auth_app, name="auth")
    app.add_typer(emulator.app, name="emulator")
    app.command("demo")(emulator.demo)
    return typer.main.get_command(app)
