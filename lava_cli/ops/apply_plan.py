"""The plan of `lava keys apply`: what the file asks of the wallet, step by step.

Like terraform's: `- revoke` (with --prune), `~ update` (a partial PUT of the fields
that differ, same key id), `+ create`, `= unchanged`, in that order, so revokes make
room before creates and the key count never rises above where it ends. What only the
wallet reveals is refused here, before anything is sent: a declared name the wallet
holds twice (names are the file's identity), an expiry in the past that would be
sent, and the 10-key cap (exit 5). Bodies come from the one body builder that
`keys create` and `keys update` use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.errors import PolicyError
from lava_cli.ops.keyfile import FIELDS, Settings, same, settings_of
from lava_cli.ops.keyfile_read import BadKeyFile, Declared, KeyFile, Problem
from lava_cli.ops.keys import KeyChanges, build_body

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey

WALLET_CAP = 10  # the contract: at most 10 spend keys per wallet (revoked ones vanish)
DEFAULTS = Settings()
ORDER = ("revoke", "update", "create", "unchanged")


class Change(NamedTuple):
    field: str
    old: object  # None on a create: there is no old value to show
    new: object


class Step(NamedTuple):
    action: str  # one of ORDER
    name: str
    key_id: str | None
    changes: tuple[Change, ...] = ()
    body: Mapping[str, object] = {}


class Plan(NamedTuple):
    steps: tuple[Step, ...]
    left_alone: tuple[SpendKey, ...]  # in the wallet, not in the file, no --prune
    keys_now: int
    keys_after: int

    @property
    def changes(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.action != "unchanged")

    def count(self, action: str) -> int:
        return sum(1 for s in self.steps if s.action == action)


# --- making it ------------------------------------------------------------------------------


def make_plan(
    declared: KeyFile, wallet: Sequence[SpendKey], *, prune: bool, moment: datetime
) -> Plan:
    """What apply would do. BadKeyFile for what only the wallet reveals: a declared name
    the wallet holds twice, an expiry in the past that would be sent."""
    by_name: dict[str, list[SpendKey]] = {}
    for key in wallet:
        by_name.setdefault(key.name, []).append(key)
    problems: list[Problem] = []
    steps: list[Step] = []
    for want in declared.keys:
        found = by_name.get(want.name, [])
        if len(found) > 1:
            problems.append(_twice(want, found))
            continue
        step = _step(want, found[0] if found else None)
        past = _past_expiry(want, step, moment)
        if past is not None:
            problems.append(past)
        elif step.action in ("create", "update"):
            steps.append(step._replace(body=_body(step, want.settings, moment)))
        else:
            steps.append(step)
    if problems:
        raise BadKeyFile(declared.label, problems)
    names = {want.name for want in declared.keys}
    extra = tuple(k for k in wallet if k.name not in names)
    if prune:
        steps += [Step("revoke", k.name, k.spend_key_id) for k in extra]
    steps.sort(key=lambda s: ORDER.index(s.action))  # stable: file order within each
    after = len(wallet) + sum(s.action == "create" for s in steps)
    after -= sum(s.action == "revoke" for s in steps)
    return Plan(tuple(steps), () if prune else extra, len(wallet), after)


def _twice(want: Declared, found: Sequence[SpendKey]) -> Problem:
    ids = ", ".join(k.spend_key_id for k in found)
    return Problem(
        want.line(),
        f"keys.{want.name}: {len(found)} keys in the wallet are named {want.name!r} ({ids}); "
        f"the file finds keys by name, so rename all but one "
        f"(`lava keys update {found[-1].spend_key_id} --name NEW`) or revoke them",
    )


def _step(want: Declared, have: SpendKey | None) -> Step:
    """Create, update or unchanged, with the fields to show (no body yet)."""
    target = want.settings
    if have is None:
        shown = tuple(
            Change(f, None, target.get(f))
            for f in FIELDS
            if not same(f, target.get(f), DEFAULTS.get(f))
        )
        return Step("create", want.name, None, shown)
    current = settings_of(have)
    changes = tuple(
        Change(f, current.get(f), target.get(f))
        for f in FIELDS
        if not same(f, target.get(f), current.get(f))
    )
    return Step("update" if changes else "unchanged", want.name, have.spend_key_id, changes)


def _past_expiry(want: Declared, step: Step, moment: datetime) -> Problem | None:
    """An expiry that would be sent must be in the future; an expired key the file
    leaves as it is (an export of an expired key) is no problem."""
    from lava_cli.parsing import parse_api_time

    sent = any(c.field == "expires_at" and c.new is not None for c in step.changes)
    when = parse_api_time(want.settings.expires_at)
    if not sent or when is None or when > moment:
        return None
    return Problem(
        want.line("expires_at"),
        f"keys.{want.name}: expires_at {want.settings.expires_at} is in the past; "
        "a key can only be set to expire later than now",
    )


def _body(step: Step, want: Settings, moment: datetime) -> dict[str, object]:
    """The request body, built by the one body builder `keys create`/`update` use: the
    whole key for a create; for an update only the fields that differ, each set to the
    file's value or cleared (null)."""
    if step.action == "create":
        changes = KeyChanges(
            name=step.name,
            models=want.models or (),
            providers=want.providers or (),
            shape=want.shape,
            spend_limit=want.spend_limit,
            request_limit=want.request_limit,
            rate_limit=want.rate_limit,
            expires_at=want.expires_at,
            paused=want.status == "paused",
        )
        return build_body(changes, moment)
    fields = {c.field for c in step.changes}

    def given(field: str) -> str | None:
        value = want.get(field)
        return value if field in fields and isinstance(value, str) else None

    def cleared(field: str) -> bool:
        return field in fields and want.get(field) is None

    changes = KeyChanges(
        models=(want.models or ()) if "models" in fields else (),
        all_models=cleared("models"),
        providers=(want.providers or ()) if "providers" in fields else (),
        all_providers=cleared("providers"),
        shape=given("shape"),
        spend_limit=given("spend_limit"),
        no_spend_limit=cleared("spend_limit"),
        request_limit=given("request_limit"),
        no_request_limit=cleared("request_limit"),
        rate_limit=given("rate_limit"),
        no_rate_limit=cleared("rate_limit"),
        expires_at=given("expires_at"),
        no_expiry=cleared("expires_at"),
    )
    body = build_body(changes, moment)
    if "paused" in fields:
        body["status"] = want.status  # resuming has no KeyChanges flag: set it here
    return body


def check_cap(plan: Plan) -> None:
    """The 10-key cap, in the plan: exit 5 before anything is sent, not half way."""
    if plan.keys_after <= WALLET_CAP:
        return
    creates, extra = plan.count("create"), len(plan.left_alone)
    hint = "declare fewer keys, or revoke keys you no longer use"
    if extra:
        hint += f" (--prune revokes the {extra} the file does not declare)"
    raise PolicyError(
        f"the plan would leave {plan.keys_after} keys in the wallet "
        f"({plan.keys_now} now, {creates} to create); Lava allows {WALLET_CAP}",
        hint=hint + "; nothing was changed",
    )
