"""`lava keys check KEY`: the CI gate's flags; the verdict is `ops.check`'s."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.parsing import parse_amount, parse_duration


def check(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="Spend key id (sk_…) or unique name.")],
    min_remaining: Annotated[
        str | None,
        typer.Option(
            "--min-remaining", help="Fail unless at least this many dollars are left this cycle."
        ),
    ] = None,
    expires_within: Annotated[
        str | None,
        typer.Option("--expires-within", help="Fail if the key expires within this time: 7d, 2h."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Exit 0 if a key can spend now, exit 5 with the reason if not (for CI).

    Checks that the key is active, not expired, has budget and requests left.
    A key without a spend limit passes the budget check (the wallet pays).

    Example: lava keys check ci --min-remaining 1.00 --expires-within 1d
    """
    from lava_cli.ops import check as ops_check

    floor = parse_amount(min_remaining, "--min-remaining") if min_remaining is not None else None
    window = parse_duration(expires_within, "--expires-within") if expires_within else None
    ops_check.run(app_of(ctx), ops_check.CheckOptions(key, floor, window, json_))
