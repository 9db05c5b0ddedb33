"""Rendering for `lava keys apply`: a key file's problems, the plan, each step as it is
done, what was not applied, and the new keys (the only place their values appear).

The plan is text a person reads in a terminal or a CI log, the same lines either way
(colour only on a terminal): `+ create`, `~ update` with `field: old → new`, `- revoke`,
`= unchanged`. Problems are `FILE:LINE: message`, the form editors and CI annotate.
Everything the server or the file says passes through `printable`, so a name cannot
act on the terminal. Plain writes, no rich: nothing here needs a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lava_cli.safetext import printable

if TYPE_CHECKING:
    from lava_cli.api.types import NewKey, SpendKey
    from lava_cli.ops.apply_plan import Plan, Step
    from lava_cli.ops.keyfile_read import Problem
    from lava_cli.render.output import Output

MARKS = {
    "create": ("+", "32"),
    "update": ("~", "33"),
    "revoke": ("-", "31"),
    "unchanged": ("=", "2"),
}
PAST = {"create": "created", "update": "updated", "revoke": "revoked"}
EMPTY = {
    "models": "all",
    "providers": "all",
    "spend_limit": "none",
    "request_limit": "none",
    "rate_limit": "none",
    "expires_at": "never",
}


def shown(field: str, value: object) -> str:
    """A setting in the file's words: `50/monthly`, `a, b`, `all`, `never`, `true`."""
    if field == "paused":
        return {"paused": "true", "active": "false"}.get(str(value), f"(status {value})")
    if value is None:
        return EMPTY.get(field, "none")
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


def _emit(out: Output, text: str, *, to_stderr: bool) -> None:
    """A line already made safe (printable parts, our own colour codes)."""
    stream = out.term.stderr if to_stderr else out.term.stdout
    stream.write(text + "\n")
    stream.flush()


def problems(out: Output, label: str, found: Sequence[Problem]) -> None:
    """`keys.toml:7: keys.ci: …`, one line each, on stderr, before the error line."""
    for problem in found:
        where = f"{label}:{problem.line}" if problem.line is not None else label
        out.note(f"{where}: {problem.message}")


def plan(out: Output, the_plan: Plan, *, to_stderr: bool = False) -> None:
    """The plan, step by step, then one line of counts and the keys left alone."""

    def paint(text: str, code: str) -> str:
        return out._paint(text, code, stdout=not to_stderr)

    lines: list[str] = []
    for step in the_plan.steps:
        mark, colour = MARKS[step.action]
        kid = f" ({printable(step.key_id)})" if step.key_id else ""
        lines.append(paint(f"  {mark} {step.action} {printable(step.name)}{kid}", colour))
        for change in step.changes:
            new = printable(shown(change.field, change.new))
            if step.action == "create":
                lines.append(f"      {change.field}: {new}")
            else:
                old = printable(shown(change.field, change.old))
                lines.append(f"      {change.field}: {old} → {new}")
    counts = (
        f"Plan: {the_plan.count('create')} to create, {the_plan.count('update')} to update, "
        f"{the_plan.count('revoke')} to revoke, {the_plan.count('unchanged')} unchanged."
    )
    lines += ["", counts] if lines else [counts]
    if the_plan.left_alone:
        names = ", ".join(printable(k.name) for k in the_plan.left_alone)
        lines.append(f"Not in the file, left alone (--prune revokes them): {names}")
    for line in lines:
        _emit(out, line, to_stderr=to_stderr)


def step_done(out: Output, step: Step, key_id: str | None) -> None:
    mark, _ = MARKS[step.action]
    kid = f" ({key_id})" if key_id else ""
    out.note(f"{mark} {PAST[step.action]} {step.name}{kid}")


def summary(out: Output, done: Sequence[Step]) -> None:
    counts = ", ".join(
        f"{sum(s.action == action for s in done)} {PAST[action]}"
        for action in ("create", "update", "revoke")
    )
    out.note(f"Applied {len(done)} change{'s' if len(done) != 1 else ''}: {counts}.")


def not_applied(out: Output, failed: Step, rest: Sequence[Step]) -> None:
    """After a failure: the step that failed and the ones never tried."""
    for step in (failed, *rest):
        mark, _ = MARKS[step.action]
        why = "failed" if step is failed else "not tried"
        out.note(f"not applied ({why}): {mark} {step.action} {step.name}")


def saved(out: Output, key: SpendKey, where: str) -> None:
    out.note(f"Saved {key.name} ({key.spend_key_id}) to {where}; use it with --key {key.name}")


def new_keys(out: Output, minted: Sequence[NewKey]) -> None:
    """The new keys' raw values, once, on stdout: a block each on a terminal, a row each
    (`id, name, status, shape, key`, as `keys create` prints) when piped."""
    if not out.term.stdout_tty:
        out.tsv([[m.key.spend_key_id, m.key.name, m.key.status, m.key.request_shape, m.raw]
                 for m in minted])  # fmt: skip
        return
    for m in minted:
        name, kid = printable(m.key.name), printable(m.key.spend_key_id)
        out._write(f"{out._paint('✓', '32', stdout=True)} Created spend key {name} ({kid})")
        out._write(f"  {out._paint(printable(m.raw), '1', stdout=True)}")
    shown_once = (
        "This key is shown once: copy it"
        if len(minted) == 1
        else ("These keys are shown once: copy them")
    )
    out._write(f"{shown_once} now (--save keeps new keys in the OS keyring).")
