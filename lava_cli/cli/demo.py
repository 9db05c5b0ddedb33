"""`lava demo`: the flag; the tour is `ops.demo`'s, run through `cli.app.invoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import app_of
from lava_cli.cli.numbers import AsciiFloatRange


def demo(
    ctx: typer.Context,
    pause_s: Annotated[
        float,
        typer.Option(
            "--pause", help="Seconds to wait between steps.", click_type=AsciiFloatRange(0, 10)
        ),
    ] = 0.0,
) -> None:
    """Tour the main job against a throwaway emulator: nothing touches your real config.

    Example: lava demo
    """
    from lava_cli.cli.app import invoke
    from lava_cli.ops import demo as ops_demo

    # The tour runs each `lava` step in this process: ops hands its command lines to
    # the CLI's own runner, injected here, so ops never imports the layer above it.
    ops_demo.run(app_of(ctx), ops_demo.DemoOptions(pause_s), invoke)
