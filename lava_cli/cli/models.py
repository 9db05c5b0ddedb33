"""`lava models`: the catalogue's flags; the listing is `ops.models`'."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of


def models(
    ctx: typer.Context,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Only this provider (exit 2 if unknown).")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            "-k",
            help="Only what this key can call: a saved key (id, name or preview), any key "
            "of your wallet, or LAVA_SPEND_KEY for the key in that variable.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """List the models Lava routes to, with prices per 1M tokens.

    Example: lava models --provider anthropic
    """
    from lava_cli.ops import models as ops_models

    ops_models.run(app_of(ctx), ops_models.ModelsOptions(provider, key, json_))
