"""The work of `lava keys …`: a key's settings into a request body, finding a key by id,
name or preview, and each command's run function.

`cli/keys.py` parses flags into the Options below and calls `run_<command>(app, opts)`.
The body builder is the one place a key's settings become the API's fields, for
`keys create`, `keys update` and `lava run` alike. The saved-key store is
`ops/saved.py`; the shown-once hand-off of a new key is `ops/handoff.py`.

The Options are NamedTuples: frozen and typed like a frozen dataclass, but a dataclass
generates its methods with exec() at import, ~0.7 ms a class, which every `lava keys …`
start would pay eight times over (measured with -X importtime).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from lava_cli.errors import ApiNotFoundError, LavaError, NotFoundError, UsageError
from lava_cli.ops.keyref import KEY_FORMS, matches_ref, preview_stem
from lava_cli.ops.vetting import Vetting, vet_changes, vet_new_key
from lava_cli.parsing import (
    NO_LIMIT_AT_CREATE,
    expiry,
    parse_name,
    parse_names,
    parse_rate_limit,
    parse_request_limit,
    parse_shape,
    parse_spend_limit,
    parse_status,
)

if TYPE_CHECKING:
    from lava_cli.api.client import LavaClient
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext
    from lava_cli.ops.deliver import Delivery
    from lava_cli.ops.handoff import HandOff

_ID_RE = re.compile(r"sk_[A-Za-z0-9]{6,64}")


# --- a key's settings -> the create/update body ------------------------------------------


class KeyChanges(NamedTuple):
    """A key's settings as typed on the command line, not parsed yet.

    None (or empty, or False) means "not given": nothing is sent for it. The `all_*`,
    `no_*` flags clear a setting (`update` only); giving both a value and its clear
    flag is a usage error.
    """

    name: str | None = None
    models: Sequence[str] = ()
    providers: Sequence[str] = ()
    shape: str | None = None
    spend_limit: str | None = None
    request_limit: str | None = None
    rate_limit: str | None = None
    expires_at: str | None = None
    expires_in: str | None = None
    paused: bool = False
    all_models: bool = False
    all_providers: bool = False
    no_spend_limit: bool = False
    no_request_limit: bool = False
    no_rate_limit: bool = False
    no_expiry: bool = False


def build_body(
    changes: KeyChanges, now: datetime, *, zero_spend_hint: str | None = NO_LIMIT_AT_CREATE
) -> dict[str, object]:
    """The create/update request body: each setting given, parsed (exit 2 on bad input,
    before any request); a cleared setting is sent as null. Expiry is relative to `now`.
    `zero_spend_hint` says how this command goes without a spend limit (for `0/…`)."""
    c = changes
    when = expiry(c.expires_at, c.expires_in, now)

    def spend(value: str) -> dict[str, str]:
        return parse_spend_limit(value, zero_hint=zero_spend_hint)

    # One row per setting: API field, value given, cleared; flag, clear flag, parser.
    settings: tuple[tuple[str, Any, bool, str, str, Callable[[Any], object]], ...] = (
        ("name", c.name, False,
         "--name", "", parse_name),
        ("allowed_models", c.models or None, c.all_models,
         "--model", "--all-models", _models),
        ("allowed_providers", c.providers or None, c.all_providers,
         "--provider", "--all-providers", _providers),
        ("request_shape", c.shape, False,
         "--shape", "", parse_shape),
        ("spend_limit", c.spend_limit, c.no_spend_limit,
         "--spend-limit", "--no-spend-limit", spend),
        ("request_limit", c.request_limit, c.no_request_limit,
         "--request-limit", "--no-request-limit", parse_request_limit),
        ("rate_limit", c.rate_limit, c.no_rate_limit,
         "--rate-limit", "--no-rate-limit", parse_rate_limit),
        ("expires_at", when, c.no_expiry,
         "--expires-at/--expires-in", "--no-expiry", str),
    )  # fmt: skip
    body: dict[str, object] = {}
    for field, value, clear, flag, clear_flag, parse in settings:
        if value is not None and clear:
            raise UsageError(f"use {flag} or {clear_flag}, not both")
        if value is not None:
            body[field] = parse(value)
        elif clear:
            body[field] = None
    if c.paused:
        body["status"] = "paused"
    return body


def _models(values: Sequence[str]) -> list[str] | None:
    return parse_names(values, "--model")


def _providers(values: Sequence[str]) -> list[str] | None:
    return parse_names(values, "--provider")


def update_body(changes: KeyChanges, now: datetime) -> dict[str, object]:
    """`build_body` for `keys update`, which must change something."""
    body = build_body(changes, now, zero_spend_hint="to remove the limit use --no-spend-limit")
    if not body:
        raise UsageError(
            "nothing to update", hint="see `lava keys update --help` for what can change"
        )
    return body


# --- finding a key ---------------------------------------------------------------------


def resolve_key(client: LavaClient, ref: str) -> SpendKey:
    """A key by `spend_key_id`, unique name, or preview (`lava_sk_a1b2c3d4****`,
    `lava_sk_a1b2c3d4`, `lava_sk_a1b2c3d4…`).

    Ids are tried directly first (one request); names need the whole list.
    """
    ref = ref.strip()
    if not ref:
        raise UsageError("KEY is empty", hint=f"give {KEY_FORMS}")
    if _ID_RE.fullmatch(ref):
        try:
            return client.get_spend_key(ref)
        except ApiNotFoundError:
            pass  # a key may well be *named* like an id; fall through to names
    keys = list(client.iter_spend_keys())
    matches = [k for k in keys if matches_ref(ref, k)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        listed = ", ".join(f"{k.spend_key_id} ({k.status})" for k in matches)
        raise UsageError(
            f"{len(matches)} keys are named {ref!r}: {listed}",
            hint="use the spend_key_id instead of the name",
        )
    names = ", ".join(sorted(k.name for k in keys)[:10]) or "none"
    stem = preview_stem(ref)  # shown in the preview form, which messages keep as it is
    raise NotFoundError(
        f"no spend key with id, name or preview {f'{stem}****' if stem else ref!r}",
        hint=f"your keys: {names} (see `lava keys list`); KEY is {KEY_FORMS}",
    )


def resolve_or_drop(app: AppContext, client: LavaClient, ref: str) -> SpendKey:
    """`resolve_key`, and when nothing matches a key saved here, drop that stale copy.

    Still exit 4: the command asked for a key that does not exist.
    """
    from lava_cli.ops.saved import gone_saved_key

    try:
        return resolve_key(client, ref)
    except NotFoundError as exc:
        gone = gone_saved_key(app, client, ref)
        if gone is None:
            raise
        kid, name = gone
        raise NotFoundError(
            f"spend key {name!r} ({kid}) no longer exists (revoked elsewhere?)",
            hint=exc.hint,
        ) from None


# --- the commands ------------------------------------------------------------------------


def now() -> datetime:
    return datetime.now(timezone.utc)


class CreateOptions(NamedTuple):
    body: Mapping[str, object]
    how: HandOff
    vetting: Vetting = Vetting()


def run_create(app: AppContext, opts: CreateOptions) -> None:
    """Check the name and models, create the key, then hand its raw value over (saved
    first when asked)."""
    from lava_cli.ops.handoff import emit_key

    if opts.how.save:
        from lava_cli.ops.saved import check_can_save

        check_can_save(app)
    client = app.client()
    vet_new_key(app, client, opts.body, opts.vetting)
    minted = client.create_spend_key(dict(opts.body))
    emit_key(app, minted, "Created", opts.how)


class ListOptions(NamedTuple):
    status: str | None = None
    quiet: bool = False
    json_: bool = False


def list_options(status: str | None, *, quiet: bool, json_: bool) -> ListOptions:
    return ListOptions(parse_status(status) if status is not None else None, quiet, json_)


def run_list(app: AppContext, opts: ListOptions) -> None:
    """Every key (all pages), filtered by the status people see (`expired` derived)."""
    moment = now()
    keys = [
        k
        for k in app.client().iter_spend_keys()
        if opts.status is None or k.status_at(moment) == opts.status
    ]
    if opts.json_:
        app.out.json([k.raw for k in keys])
    elif opts.quiet:
        for k in keys:
            app.out.line(k.spend_key_id)
    else:
        from lava_cli.ops.saved import default_saved
        from lava_cli.render.keys import keys_table

        default = default_saved(app)
        keys_table(app.out, keys, default[0] if default else None)


class ShowOptions(NamedTuple):
    key: str
    json_: bool = False


def run_show(app: AppContext, opts: ShowOptions) -> None:
    found = resolve_or_drop(app, app.client(), opts.key)
    if opts.json_:
        app.out.json(found.raw)
    else:
        from lava_cli.render.keys import key_detail

        key_detail(app.out, found)


class UpdateOptions(NamedTuple):
    """`keys update` (and `pause`, `resume`: a status change) after parsing."""

    key: str
    body: Mapping[str, object]
    verb: str = "Updated"
    quiet: bool = False
    json_: bool = False
    vetting: Vetting = Vetting()


def run_update(app: AppContext, opts: UpdateOptions) -> None:
    """Check and send the changes; keep a saved copy's record (name, shape) in step."""
    from lava_cli.ops.saved import drop_if_gone, keep_in_step, sync_saved_key
    from lava_cli.render.keys import changed

    client = app.client()
    target = resolve_or_drop(app, client, opts.key)
    vet_changes(app, client, target, opts.body, opts.vetting)
    try:
        updated = client.update_spend_key(target.spend_key_id, dict(opts.body))
    except ApiNotFoundError:  # revoked between the lookup and the update
        drop_if_gone(app, client, target.spend_key_id)
        raise
    keep_in_step(app, opts.verb.lower(), lambda: sync_saved_key(app, updated))
    changed(app.out, updated, opts.verb, quiet=opts.quiet, json_=opts.json_)


class RotateOptions(NamedTuple):
    """`keys rotate` after parsing; `deliver` holds the checked --deliver commands."""

    key: str
    how: HandOff
    deliver: tuple[Delivery, ...] = ()


def rotate_options(key: str, how: HandOff, deliver: Sequence[str]) -> RotateOptions:
    """Check --deliver before any request (exit 2): each command splits and exists, and
    nothing else prints the key the commands are to receive."""
    if not deliver:
        return RotateOptions(key, how)
    from lava_cli.ops.deliver import parse_deliveries

    if how.fmt is not None or how.quiet:
        raise UsageError(
            "--deliver hands the new key to the command; -q and --format would print it too",
            hint="drop -q/--format (with --deliver the key is printed only if a step fails), "
            "or add --save to keep a copy",
        )
    return RotateOptions(key, how, parse_deliveries(deliver))


def run_rotate(app: AppContext, opts: RotateOptions) -> None:
    """A new value for the key; one saved before stays saved (with the new value).

    With --deliver, the value goes to the commands and is probed at the gateway
    (ops/deliver.py) instead of being printed.
    """
    import time

    from lava_cli.ops.handoff import emit_key
    from lava_cli.ops.saved import check_can_save, saved_keys

    client = app.client()
    target = resolve_or_drop(app, client, opts.key)
    # A key saved before stays saved: rotating it must not leave a dead value behind.
    how = opts.how._replace(save=opts.how.save or target.spend_key_id in saved_keys(app))
    if how.save:
        check_can_save(app)  # refuse before the old value dies, not after
    started = time.monotonic()
    minted = client.rotate_spend_key(target.spend_key_id)
    if opts.deliver:
        from lava_cli.ops.deliver import deliver_new_key

        deliver_new_key(app, minted, how, opts.deliver, time.monotonic() - started)
        return
    emit_key(app, minted, "Rotated", how)


class RevokeOptions(NamedTuple):
    key: str
    yes: bool = False
    quiet: bool = False
    json_: bool = False


def run_revoke(app: AppContext, opts: RevokeOptions) -> None:
    """Revoke after asking (unless --yes), and drop a saved copy. A key saved here but
    revoked elsewhere succeeds (exit 0): no working key, no saved copy, as asked."""
    from lava_cli.ops.saved import forget_spend_key, gone_saved_key
    from lava_cli.render.keys import revoked

    check_can_confirm(app, opts.yes, "revoking", "revoke")
    client = app.client()
    try:
        target = resolve_key(client, opts.key)
    except NotFoundError:
        gone = gone_saved_key(app, client, opts.key)
        if gone is None:
            raise
        revoked(app.out, *gone, already=True, quiet=opts.quiet, json_=opts.json_)
        return
    kid = target.spend_key_id
    if not opts.yes and not confirm(app, f"Revoke {target.name} ({kid})? It cannot be undone."):
        raise UsageError("not revoked", hint="nothing was changed")
    already = False
    try:
        client.revoke_spend_key(kid)
    except ApiNotFoundError:  # revoked elsewhere since the lookup a moment ago
        already = True
    try:
        forget_spend_key(app, kid)
    except LavaError as exc:
        app.out.warn(f"revoked, but the saved copy could not be removed: {exc.message}")
    revoked(app.out, kid, target.name, already=already, quiet=opts.quiet, json_=opts.json_)


def check_can_confirm(app: AppContext, yes: bool, doing: str, verb: str) -> None:
    """Before any request: without --yes there must be a terminal to ask on (never a
    prompt nobody can answer, never a silent yes)."""
    if not yes and not app.can_prompt:
        raise UsageError(
            f"{doing} needs confirmation and there is no terminal to ask",
            hint=f"add --yes to {verb} without asking",
        )


def confirm(app: AppContext, question: str) -> bool:
    """Ask yes/no on the terminal (stderr), default no. Callers check can_prompt first."""
    from lava_cli.safetext import printable

    app.stderr.write(f"{printable(question)} [y/N] ")
    app.stderr.flush()
    answer = app.stdin.readline()
    if not answer:
        raise UsageError("no answer (end of input)", hint="add --yes to skip the question")
    return answer.strip().lower() in ("y", "yes")


class ForgetOptions(NamedTuple):
    key: str
    quiet: bool = False
    json_: bool = False


def run_forget(app: AppContext, opts: ForgetOptions) -> None:
    """Drop a saved key from this profile; the server is never asked (exit 4: not saved)."""
    from lava_cli.ops.saved import find_saved, forget_spend_key, saved_keys
    from lava_cli.render.keys import forgotten

    found = find_saved(app, opts.key)
    if found is None or not forget_spend_key(app, found[0]):
        names = sorted(
            f"{meta.get('name')} ({kid})" if isinstance(meta, dict) else kid
            for kid, meta in saved_keys(app).items()
        )
        raise NotFoundError(
            f"no saved spend key {opts.key!r} in profile {app.profile!r}",
            hint=f"saved here: {', '.join(names)}" if names else "no key is saved here",
        )
    kid, meta = found
    forgotten(app.out, kid, str(meta.get("name") or kid), quiet=opts.quiet, json_=opts.json_)
