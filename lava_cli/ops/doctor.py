"""`lava doctor`: one command that answers "why doesn't it work?".

Each check passes, warns or fails with a fix (`ops.doctor_checks` for the setup and
the API, `ops.doctor_env` for variables that shadow a tool's settings). A check never
raises: any error in it becomes that check's failure, so the report always completes.
Checks that need an earlier one (API calls need a secret and a reachable URL) are
left out when it failed. Exit 0 when nothing failed (warnings allowed), 1 when any
check failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lava_cli.errors import ExitCode, LavaError
from lava_cli.ops import doctor_checks as checks
from lava_cli.ops.doctor_checks import Check, State, guarded
from lava_cli.ops.doctor_env import environment_checks

if TYPE_CHECKING:
    from lava_cli.context import AppContext


class DoctorFailed(LavaError):
    """At least one doctor check failed (exit 1)."""

    exit_code = ExitCode.API_ERROR


@dataclass(frozen=True)
class DoctorOptions:
    """`lava doctor` after parsing."""

    json: bool = False


def run_checks(app: AppContext) -> list[Check]:
    """Every check in order; one whose prerequisite failed is left out."""
    state = State()
    results = guarded("profile", lambda: checks.profile(app))
    results += guarded("config dir", lambda: checks.config_dir(app))
    results += guarded("credential", lambda: checks.credential(app, state))
    results += guarded("base URL", lambda: checks.base_url(app, state))
    if state.url is not None:
        results += guarded("API reachable", lambda: checks.reachable(state))
    if state.reachable:
        results += guarded("clock", lambda: checks.clock(state))
        if state.secret is not None:
            results += guarded("secret valid", lambda: checks.secret_valid(state))
    if state.keys is not None:
        results += guarded("saved keys", lambda: checks.saved_keys(app, state))
    results += guarded("environment", lambda: environment_checks(os.environ, state.url))
    if state.client is not None:
        state.client.close()
    return results


def run(app: AppContext, opts: DoctorOptions) -> None:
    """Print the report (JSON, a checklist, or TSV rows); DoctorFailed when a check failed."""
    results = run_checks(app)
    if opts.json:
        app.out.json([c.to_json() for c in results])
    else:
        from lava_cli.render.doctor import report

        report(app.out, results)
    failed = [c for c in results if c.status == "fail"]
    if failed:
        raise DoctorFailed(
            f"{len(failed)} of {len(results)} checks failed: " + ", ".join(c.check for c in failed),
            hint="follow the fix under each failed check",
        )
