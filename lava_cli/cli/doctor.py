"""`lava doctor`: the flag; the checks are `ops.doctor`'s, the report `render.doctor`'s."""

from __future__ import annotations

import typer

from lava_cli.cli.common import JsonOpt, app_of


def doctor(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Check the setup end to end and say what to fix.

    Profile and base URL (and why), which secret wins and where it lives, whether
    the API answers and accepts it, saved spend keys' health, environment variables
    that would shadow a tool's settings, clock skew. Exit 0 when nothing fails.

    Example: lava doctor --json | jq '.[] | select(.status != "pass")'
    """
    from lava_cli.ops import doctor as ops_doctor

    ops_doctor.run(app_of(ctx), ops_doctor.DoctorOptions(json=json_))
