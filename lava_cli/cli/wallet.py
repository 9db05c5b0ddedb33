"""`lava wallet` (balance and cards) and `lava wallet fund AMOUNT`: the flags; the work
is `ops.wallet`'s."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of, command_group

app = command_group("Show the wallet's balance and cards, and top it up.")


@app.callback(invoke_without_command=True)
def show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Show the wallet's balance and cards, and top it up.

    `lava wallet` shows the balance and the payment methods (card, expiry, default,
    errors); `lava wallet fund AMOUNT` tops it up. Example: lava wallet --json
    """
    if ctx.invoked_subcommand is not None:
        if json_:
            from lava_cli.errors import UsageError

            raise UsageError(
                f"--json goes after the subcommand: lava wallet {ctx.invoked_subcommand} --json"
            )
        return
    from lava_cli.ops import wallet as ops

    ops.run_show(app_of(ctx), ops.ShowOptions(json_))


@app.command()
def fund(
    ctx: typer.Context,
    amount: Annotated[
        str,
        typer.Argument(help="Dollars, $10 to $10,000: 25, 25.50, 1,000.", show_default=False),
    ],
    method: Annotated[
        str | None,
        typer.Option(
            "--method",
            help="The card: its id (pm_…) or last 4 digits (default: the default card).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Top the wallet up from a card; exit 9 when the bank wants a confirmation.

    Asks first on a terminal (--yes otherwise). A card that needs 3-D Secure gives a
    page to confirm on: it is printed (and opened at a desktop) and the exit code is
    9. Never retried; a re-run after a lost answer repeats the same attempt, so it
    cannot charge twice. Example: lava wallet fund 25 --yes
    """
    from lava_cli.ops import wallet as ops
    from lava_cli.parsing import parse_fund_amount

    opts = ops.FundOptions(parse_fund_amount(amount), method, yes, json_)
    ops.run_fund(app_of(ctx), opts)
