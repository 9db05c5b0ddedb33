"""`lava keys apply -f FILE` and `lava keys export`: a wallet's keys as code.

apply reads and validates the whole file before any request (`keyfile_read.py`),
lists the wallet, plans (`apply_plan.py`: revokes with --prune, partial updates in
place, creates; the cap and the other refusals before anything is sent), shows the
plan, asks, and runs the steps in order.

A new key's raw value is saved at once with --save (design pattern 8); otherwise it
is held and printed once at the end, on stdout, in the form --format asks for. When a
step fails, the run stops there: the keys minted so far are printed (or saved) all the
same, what was applied and what was not are listed, and the exit code is the failed
call's own. Nothing is retried beyond the client's own retries: a re-run plans again
from the wallet as it is, so it sends only what still differs.

`--check` (CI) prints the plan and exits 0 when there is nothing to do and 7 (drift)
when there is: no other exit code means drift, so a job can tell "the wallet changed"
from "could not tell" (1, 3, 5 and 6 keep their meanings).
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.errors import ApiNotFoundError, DriftError, LavaError, MaybeCreatedError, UsageError
from lava_cli.ops.apply_plan import Plan, Step, check_cap, make_plan
from lava_cli.ops.handoff import VAR_FORMATS, HandOff
from lava_cli.ops.keyfile import settings_of
from lava_cli.ops.keyfile_read import BadKeyFile, KeyFile, Problem
from lava_cli.ops.keys import now

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import NewKey
    from lava_cli.context import AppContext


class ApplyOptions(NamedTuple):
    path: str
    prune: bool = False
    yes: bool = False
    dry_run: bool = False
    check: bool = False
    how: HandOff = HandOff()


class Minted(NamedTuple):
    """A key created by this run: its value in hand, saved (where) or not."""

    new: NewKey
    saved: str | None = None
    save_error: LavaError | None = None


class PartlyApplied(LavaError):
    """A step failed: exit with its own code; the report says what was and was not done."""

    def __init__(self, message: str, hint: str | None, cause: LavaError) -> None:
        super().__init__(message, hint)
        self.exit_code = cause.exit_code
        self.shown_once = cause.shown_once


# --- apply ---------------------------------------------------------------------------------


def run_apply(app: AppContext, opts: ApplyOptions) -> None:
    """Validate, plan, show, ask, apply; see the module docstring for the rules."""
    from lava_cli.ops.keyfile_read import read_key_file
    from lava_cli.render import apply as draw

    try:
        declared = read_key_file(opts.path, app.stdin)
        _check_declaration(declared, opts)
    except BadKeyFile as exc:
        draw.problems(app.out, exc.label, exc.problems)
        raise
    if opts.how.save and not (opts.dry_run or opts.check):
        from lava_cli.ops.saved import check_can_save

        check_can_save(app)
    client = app.client()
    wallet = list(client.iter_spend_keys())
    try:
        plan = make_plan(declared, wallet, prune=opts.prune, moment=now())
    except BadKeyFile as exc:
        draw.problems(app.out, exc.label, exc.problems)
        raise
    to_stderr = opts.how.fmt is not None  # stdout is for the keys in that format
    draw.plan(app.out, plan, to_stderr=to_stderr)
    check_cap(plan)
    if opts.check:
        _report_check(app, plan, declared.label)
        return
    if opts.dry_run or not plan.changes:
        if not plan.changes:
            app.out.note(f"Nothing to do: the wallet matches {declared.label}.")
        return
    _confirm(app, plan, opts.yes)
    _apply(app, client, plan, opts.how)


def _check_declaration(declared: KeyFile, opts: ApplyOptions) -> None:
    """Refusals that need the file and the flags but no request."""
    if opts.prune and not declared.keys:
        raise UsageError(
            f"{declared.label} declares no keys, so --prune would revoke every key",
            hint="revoke keys one by one with `lava keys revoke KEY`",
        )
    if opts.how.fmt in VAR_FORMATS:
        seen: dict[str, str] = {}
        problems = []
        for want in declared.keys:
            var = variable(opts.how.var, want.name)
            if var in seen:
                problems.append(
                    Problem(
                        want.line(),
                        f"keys.{want.name}: its variable {var} is also {seen[var]!r}'s "
                        "(--format names each new key's variable PREFIX_NAME)",
                    )
                )
            seen[var] = want.name
        if problems:
            raise BadKeyFile(declared.label, problems)


def variable(prefix: str, name: str) -> str:
    """`LAVA_SPEND_KEY` + `claude-ci` -> `LAVA_SPEND_KEY_CLAUDE_CI`: one variable per new
    key for --format env|dotenv|github (ASCII letters and digits; anything else is _)."""
    return f"{prefix}_{re.sub('[^A-Za-z0-9]', '_', name).upper()}"


def _report_check(app: AppContext, plan: Plan, label: str) -> None:
    changes = plan.changes
    if not changes:
        app.out.note(f"In sync: the wallet matches {label}.")
        return
    counts = ", ".join(
        f"{plan.count(action)} to {action}"
        for action in ("create", "update", "revoke")
        if plan.count(action)
    )
    raise DriftError(
        f"the wallet differs from {label}: {counts}",
        hint=f"apply the plan above with `lava keys apply -f {label}`",
    )


def _confirm(app: AppContext, plan: Plan, yes: bool) -> None:
    from lava_cli.ops.keys import confirm

    if yes:
        return
    n = len(plan.changes)
    changes = f"{n} change{'s' if n != 1 else ''}"
    if not app.can_prompt:
        raise UsageError(
            f"the plan has {changes} and there is no terminal to ask",
            hint="add --yes to apply it without asking, or --dry-run to only see it",
        )
    if not confirm(app, f"Apply these {changes} to the wallet?"):
        raise UsageError("not applied", hint="nothing was changed")


def _apply(app: AppContext, client: LavaClient, plan: Plan, how: HandOff) -> None:
    """Run the steps in order; whatever happens, every key minted is handed over."""
    from lava_cli.render import apply as draw

    done: list[Step] = []
    minted: list[Minted] = []
    failed: tuple[Step, LavaError] | None = None
    try:
        for step in plan.changes:
            try:
                new = _perform(app, client, step, how)
            except LavaError as exc:
                failed = (step, exc)
                break
            done.append(step)
            if new is not None:
                minted.append(new)
            draw.step_done(app.out, step, new.new.key.spend_key_id if new else step.key_id)
    finally:  # Ctrl-C included: a key minted is never lost
        save_errors = _hand_over(app, minted, how)
    if failed is not None:
        step, cause = failed
        rest = plan.changes[len(done) + 1 :]
        draw.not_applied(app.out, step, rest)
        raise _partly(len(done), len(plan.changes), step, cause)
    draw.summary(app.out, done)
    if save_errors:
        raise LavaError(
            f"{len(save_errors)} new key(s) could not be saved and were printed above: "
            f"{save_errors[0].message}",
            hint=save_errors[0].hint,
        )


def _perform(app: AppContext, client: LavaClient, step: Step, how: HandOff) -> Minted | None:
    from lava_cli.ops.saved import forget_spend_key, keep_in_step, save_spend_key, sync_saved_key

    kid = step.key_id or ""
    if step.action == "revoke":
        with contextlib.suppress(ApiNotFoundError):  # revoked elsewhere since: as planned
            client.revoke_spend_key(kid)
        keep_in_step(app, "revoked", lambda: forget_spend_key(app, kid))
        return None
    if step.action == "update":
        updated = client.update_spend_key(kid, dict(step.body))
        keep_in_step(app, "updated", lambda: sync_saved_key(app, updated))
        return None
    new = client.create_spend_key(dict(step.body))
    if not how.save:
        return Minted(new)
    try:
        return Minted(new, saved=save_spend_key(app, new.key, new.raw))
    except LavaError as exc:
        return Minted(new, save_error=exc)


def _hand_over(app: AppContext, minted: Sequence[Minted], how: HandOff) -> list[LavaError]:
    """Print the keys minted and not saved (once, on stdout, in the asked form); note the
    saved ones. Returns the save errors, for the exit code: the keys themselves are out."""
    from lava_cli.ops.handoff import emit_formatted
    from lava_cli.render import apply as draw

    shown = [m for m in minted if m.saved is None]
    for m in minted:
        if m.saved is not None:
            draw.saved(app.out, m.new.key, m.saved)
    if not shown:
        return []
    errors = [m.save_error for m in shown if m.save_error is not None]
    if how.fmt == "json":
        app.out.json([m.new.key.raw for m in shown])
    elif how.fmt is not None:
        for m in shown:
            try:
                emit_formatted(app, m.new, how.fmt, variable(how.var, m.new.key.name))
            except LavaError as exc:  # said after the key; the others still go out
                errors.append(exc)
    else:
        draw.new_keys(app.out, [m.new for m in shown])
    return errors


def _partly(applied: int, total: int, step: Step, cause: LavaError) -> PartlyApplied:
    verb = {"create": "creating", "update": "updating", "revoke": "revoking"}[step.action]
    again = "run the same apply again: it plans from the wallet as it is, sending what differs"
    hint = f"{cause.hint}; then {again}" if cause.hint else again
    if isinstance(cause, MaybeCreatedError) and step.action == "create":
        hint = (
            f"{step.name!r} may have been created without its value reaching lava; {again}. "
            f"If it then shows {step.name} as unchanged, get a value with "
            f"`lava keys rotate {step.name}`"
        )
    return PartlyApplied(
        f"applied {applied} of {total} changes; {verb} {step.name} failed: {cause.message}",
        hint,
        cause,
    )


# --- export ----------------------------------------------------------------------------------


class ExportOptions(NamedTuple):
    json_: bool = False


def run_export(app: AppContext, opts: ExportOptions) -> None:
    """The wallet's keys as a key file (TOML), or the same declaration as JSON."""
    from lava_cli.ops.keyfile import declaration, to_toml

    keys = list(app.client().iter_spend_keys())
    twice = sorted(name for name, n in Counter(k.name for k in keys).items() if n > 1)
    if twice:
        ids = ", ".join(k.spend_key_id for k in keys if k.name == twice[0])
        raise UsageError(
            f"{len(twice)} name(s) belong to several keys ({twice[0]!r}: {ids}); "
            "a key file names each key once",
            hint="rename all but one with `lava keys update ID --name NEW`",
        )
    for key in keys:
        if key.name != key.name.strip() or not key.name:
            app.out.warn(
                f"key {key.spend_key_id} is named {key.name!r}: a key file cannot declare a "
                "name with blanks around it (rename it with `lava keys update`)"
            )
    named = [(k.name, settings_of(k)) for k in keys]
    if opts.json_:
        app.out.json({"keys": {name: declaration(s) for name, s in sorted(named)}})
        return
    try:
        text = to_toml(named)
    except ValueError as exc:
        raise LavaError(
            f"a key's name cannot be written as TOML: {exc}",
            hint="rename it with `lava keys update ID --name NEW`",
        ) from None
    app.out.line(text)
