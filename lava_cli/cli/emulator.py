"""`lava emulator serve`: the flags; the work is `ops.emulator`'s."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lava_cli.cli.common import app_of, command_group
from lava_cli.cli.numbers import AsciiFloatRange, AsciiInt, AsciiIntRange

app = command_group("Run a local emulator of Lava's API.")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option(
            "--port", help="Port (0 picks a free one).", click_type=AsciiIntRange(0, 65535)
        ),
    ] = 8787,
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file (default: in the user data dir).")
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option("--secrets-file", help="One wallet secret (aks_… or lava_wk_…) per line."),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            "--fault",
            help="Inject failures into the gateway: KIND[:RATE] with KIND one of 500, 429, "
            "slow-first-byte, drop-mid-stream (repeatable).",
        ),
    ] = None,
    token_delay_ms: Annotated[
        float,
        typer.Option(
            "--token-delay-ms",
            help="Pause between streamed tokens.",
            click_type=AsciiFloatRange(0, 10_000),
        ),
    ] = 0.0,
    reply_tokens: Annotated[
        int | None,
        typer.Option(
            "--reply-tokens",
            help="Length of the offline models' replies (max_tokens can cut it).",
            click_type=AsciiIntRange(1, 1_000_000),
        ),
    ] = None,
    upstream: Annotated[
        list[str] | None,
        typer.Option(
            "--upstream",
            help="Forward a model to a real provider: MODEL=SHAPE:BASE_URL (repeatable); "
            "the provider key comes from LAVA_UPSTREAM_API_KEY.",
        ),
    ] = None,
    fault_seed: Annotated[
        int | None,
        typer.Option(
            "--fault-seed",
            help="Seed for --fault rates (repeatable runs).",
            click_type=AsciiInt(),
        ),
    ] = None,
) -> None:
    """Serve the emulator in the foreground until Ctrl-C.

    The secret in LAVA_SECRET_KEY is the first wallet's; --secrets-file adds one wallet
    per line. With neither, the first start on a database generates a test secret and
    keeps it beside the database in FILE.secret (mode 0600); every start prints it
    and reuses that wallet, so keys made earlier stay reachable (delete the file for a
    new wallet). Example: lava emulator serve --port 8787
    """
    from lava_cli.errors import UsageError
    from lava_cli.ops import emulator

    if fault_seed is not None and not fault:
        raise UsageError("--fault-seed seeds --fault's rates, and no --fault was given")
    opts = emulator.ServeOptions(
        host=host,
        port=port,
        db=db,
        secrets_file=secrets_file,
        faults=tuple(fault or ()),
        token_delay_ms=token_delay_ms,
        reply_tokens=reply_tokens,
        upstreams=tuple(upstream or ()),
        fault_seed=fault_seed,
    )
    emulator.run_serve(app_of(ctx), opts)
