"""`lava secret-keys …`: list, create, revoke the wallet's management secrets.

Typer only: each command turns its flags into the Options of `ops/secret_keys.py`
(usage errors, exit 2, before any request) and calls its run function.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, QuietKeyOpt, QuietOpt, app_of, command_group
from lava_cli.ops import secret_keys as ops
from lava_cli.ops.handoff import HandOff, check_format

app = command_group("Give CI its own revocable secret key (aks_…): list, create, revoke.")


@app.command("list")
def list_(ctx: typer.Context, quiet: QuietOpt = False, json_: JsonOpt = False) -> None:
    """List the wallet's secret keys, marking the one this lava uses.

    Only hints are shown (prefix, ****, last characters): a secret is shown once, when
    created. Example: lava secret-keys list --json | jq -r '.[].name'
    """
    ops.run_list(app_of(ctx), ops.ListOptions(quiet, json_))


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="A name for your own reference.")],
    save_as: Annotated[
        str | None,
        typer.Option(
            "--save-as",
            help="Log this profile in with the new secret (stored as `lava login` stores "
            "it; the secret is then not printed unless -q, --json or --format ask).",
            show_default=False,
        ),
    ] = None,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="With --save-as: keep it in the 0600 file instead of the OS keyring.",
        ),
    ] = False,
    quiet: QuietKeyOpt = False,
    json_: JsonOpt = False,
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Hand the secret to a script: env (export line), dotenv, json, or github "
            "(::add-mask:: + $GITHUB_ENV).",
        ),
    ] = None,
    var: Annotated[
        str | None,
        typer.Option(
            "--var", help="Variable name for --format env|dotenv|github (default LAVA_SECRET_KEY)."
        ),
    ] = None,
) -> None:
    """Create a secret key for CI and show it once (or log a profile in with it).

    CI gets a secret of its own, which you can revoke without touching yours. The
    secret is printed (or stored with --save-as) before anything else can fail.
    Example: lava secret-keys create --name github-ci -q | gh secret set LAVA_SECRET_KEY
    """
    check_format(format_, var)
    how = HandOff(quiet=quiet, json_=json_, fmt=format_, var=var or "LAVA_SECRET_KEY")
    opts = ops.create_options(name, how, save_as, insecure_storage=insecure_storage)
    ops.run_create(app_of(ctx), opts)


@app.command()
def revoke(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="ID", help="Secret key id (sec_…) or unique name.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Revoke it even if it is the secret this lava uses (or may be)."
        ),
    ] = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Revoke a secret key: whatever uses it gets 401 from that moment on.

    Refuses the secret this lava itself uses (exit 5) unless --force. Profiles on this
    machine logged in with it are logged out. Example: lava secret-keys revoke github-ci --yes
    """
    ops.run_revoke(app_of(ctx), ops.RevokeOptions(key, yes, force, quiet, json_))
