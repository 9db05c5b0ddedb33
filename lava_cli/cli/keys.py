"""`lava keys …`: create, list, show, update, pause, resume, rotate, revoke, forget.

Each Typer function parses its flags into a request body (usage errors before any
request), then hands over to a plain function that talks to the API and renders.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lava_cli.cli.common import (
    FormatOpt,
    JsonOpt,
    QuietOpt,
    VarOpt,
    app_of,
    check_format,
    emit_key,
)
from lava_cli.errors import LavaError, UsageError
from lava_cli.parsing import expiry, parse_rate_limit, parse_request_limit, parse_spend_limit

if TYPE_CHECKING:
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext

app = typer.Typer(
    help="Create and manage spend keys (lava_sk_…).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

KeyArg = Annotated[
    str, typer.Argument(help="Spend key id (sk_…) or unique name.", show_default=False)
]
SaveOpt = Annotated[
    bool, typer.Option("--save", help="Keep the new raw key in the OS keyring (per key id).")
]
ShapeOpt = Annotated[
    str | None,
    typer.Option(
        "--shape", help="Request format: openai (/v1/chat/completions) or anthropic (/v1/messages)."
    ),
]
ModelOpt = Annotated[
    list[str] | None, typer.Option("--model", "-m", help="Allow this model (repeatable).")
]
ProviderOpt = Annotated[
    list[str] | None, typer.Option("--provider", help="Allow this provider (repeatable).")
]
SpendOpt = Annotated[
    str | None, typer.Option("--spend-limit", help="AMOUNT/CYCLE, e.g. 25/monthly.")
]
RequestOpt = Annotated[
    str | None, typer.Option("--request-limit", help="COUNT/CYCLE, e.g. 1000/daily.")
]
RateOpt = Annotated[str | None, typer.Option("--rate-limit", help="RPM or RPM/BURST, e.g. 60/10.")]
ExpiresAtOpt = Annotated[
    str | None, typer.Option("--expires-at", help="ISO 8601 time (UTC when no offset).")
]
ExpiresInOpt = Annotated[str | None, typer.Option("--expires-in", help="Duration: 30m, 2h, 7d.")]


def _shape(value: str | None) -> str | None:
    if value is None:
        return None
    shape = value.strip().lower()
    if shape not in ("openai", "anthropic"):
        raise UsageError(
            f"--shape: unknown request shape {value!r}", hint="use openai or anthropic"
        )
    return shape


def _names(values: list[str] | None, flag: str) -> list[str] | None:
    if not values:
        return None
    cleaned = [v.strip() for v in values]
    if any(not v for v in cleaned):
        raise UsageError(f"{flag} cannot be empty")
    return list(dict.fromkeys(cleaned))


def _name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= 255:
        raise UsageError("--name must be 1 to 255 characters")
    return name


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- create ---------------------------------------------------------------------------


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="A name for your own reference.")],
    model: ModelOpt = None,
    provider: ProviderOpt = None,
    shape: ShapeOpt = None,
    spend_limit: SpendOpt = None,
    request_limit: RequestOpt = None,
    rate_limit: RateOpt = None,
    expires_at: ExpiresAtOpt = None,
    expires_in: ExpiresInOpt = None,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    save: SaveOpt = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
    format_: FormatOpt = None,
    var: VarOpt = "LAVA_SPEND_KEY",
) -> None:
    """Create a spend key and show its raw value once.

    Example: lava keys create --name ci --spend-limit 5/total --expires-in 2h --save
    """
    check_format(format_, var)
    body: dict[str, Any] = {"name": _name(name)}
    if (s := _shape(shape)) is not None:
        body["request_shape"] = s
    if (models := _names(model, "--model")) is not None:
        body["allowed_models"] = models
    if (providers := _names(provider, "--provider")) is not None:
        body["allowed_providers"] = providers
    if spend_limit is not None:
        body["spend_limit"] = parse_spend_limit(spend_limit)
    if request_limit is not None:
        body["request_limit"] = parse_request_limit(request_limit)
    if rate_limit is not None:
        body["rate_limit"] = parse_rate_limit(rate_limit)
    if (when := expiry(expires_at, expires_in, _now())) is not None:
        body["expires_at"] = when
    if paused:
        body["status"] = "paused"
    app_ = app_of(ctx)
    if save:
        from lava_cli.ops.keys import check_can_save

        check_can_save(app_)
    key = app_.client().create_spend_key(body)
    emit_key(app_, key, verb="Created", save=save, quiet=quiet, json_=json_, fmt=format_, var=var)


# --- read -------------------------------------------------------------------------------


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only keys with this status: active, paused or expired (expires_at has "
            "passed; the API still says active or paused).",
        ),
    ] = None,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """List every spend key (all pages).

    Example: lava keys list --status active --json | jq -r '.[].name'
    """
    from lava_cli.api.types import STATUSES

    if status is not None and status not in STATUSES:
        raise UsageError(
            f"--status: unknown status {status!r}", hint=f"use one of {', '.join(STATUSES)}"
        )
    app_ = app_of(ctx)
    now = _now()
    keys = [
        k for k in app_.client().iter_spend_keys() if status is None or k.status_at(now) == status
    ]
    if json_:
        app_.out.json([k.raw for k in keys])
    elif quiet:
        for k in keys:
            app_.out.line(k.spend_key_id)
    else:
        app_.out.keys(keys)


@app.command()
def show(ctx: typer.Context, key: KeyArg, json_: JsonOpt = False) -> None:
    """Show one spend key: limits, spend this cycle, usage.

    Example: lava keys show claude
    """
    from lava_cli.ops.keys import resolve_or_drop

    app_ = app_of(ctx)
    found = resolve_or_drop(app_, app_.client(), key)
    if json_:
        app_.out.json(found.raw)
    else:
        app_.out.key_detail(found)


# --- update, pause, resume ----------------------------------------------------------------


def _either(value: Any, clear: bool, flag: str, clear_flag: str) -> tuple[bool, Any]:
    if value is not None and clear:
        raise UsageError(f"use {flag} or {clear_flag}, not both")
    return (value is not None or clear), value


@app.command()
def update(
    ctx: typer.Context,
    key: KeyArg,
    name: Annotated[str | None, typer.Option("--name", "-n", help="New name.")] = None,
    model: ModelOpt = None,
    all_models: Annotated[bool, typer.Option("--all-models", help="Allow every model.")] = False,
    provider: ProviderOpt = None,
    all_providers: Annotated[
        bool, typer.Option("--all-providers", help="Allow every provider.")
    ] = False,
    shape: ShapeOpt = None,
    spend_limit: SpendOpt = None,
    no_spend_limit: Annotated[
        bool, typer.Option("--no-spend-limit", help="Remove the spend limit.")
    ] = False,
    request_limit: RequestOpt = None,
    no_request_limit: Annotated[
        bool, typer.Option("--no-request-limit", help="Remove the request limit.")
    ] = False,
    rate_limit: RateOpt = None,
    no_rate_limit: Annotated[
        bool, typer.Option("--no-rate-limit", help="Remove the rate limit.")
    ] = False,
    expires_at: ExpiresAtOpt = None,
    expires_in: ExpiresInOpt = None,
    no_expiry: Annotated[bool, typer.Option("--no-expiry", help="Never expire.")] = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Change a key's name, models, shape, limits or expiry; sends only what changed.

    Example: lava keys update claude --spend-limit 50/monthly --no-expiry
    """
    body: dict[str, Any] = {}
    if name is not None:
        body["name"] = _name(name)
    models = _names(model, "--model")
    if _either(models, all_models, "--model", "--all-models")[0]:
        body["allowed_models"] = models
    providers = _names(provider, "--provider")
    if _either(providers, all_providers, "--provider", "--all-providers")[0]:
        body["allowed_providers"] = providers
    if (s := _shape(shape)) is not None:
        body["request_shape"] = s
    for flag, value, clear, field, parse in (
        ("--spend-limit", spend_limit, no_spend_limit, "spend_limit", parse_spend_limit),
        ("--request-limit", request_limit, no_request_limit, "request_limit", parse_request_limit),
        ("--rate-limit", rate_limit, no_rate_limit, "rate_limit", parse_rate_limit),
    ):
        given, raw = _either(value, clear, flag, "--no-" + flag[2:])
        if given:
            body[field] = parse(raw) if raw is not None else None
    when = expiry(expires_at, expires_in, _now())
    if _either(when, no_expiry, "--expires-at/--expires-in", "--no-expiry")[0]:
        body["expires_at"] = when
    if not body:
        raise UsageError(
            "nothing to update", hint="see `lava keys update --help` for what can change"
        )
    _put(ctx, key, body, verb="Updated", quiet=quiet, json_=json_)


def _put(
    ctx: typer.Context, ref: str, body: dict[str, Any], *, verb: str, quiet: bool, json_: bool
) -> None:
    from lava_cli.errors import ApiNotFoundError
    from lava_cli.ops.keys import drop_if_gone, resolve_or_drop, sync_saved_key

    app_ = app_of(ctx)
    client = app_.client()
    target = resolve_or_drop(app_, client, ref)
    try:
        updated = client.update_spend_key(target.spend_key_id, body)
    except ApiNotFoundError:  # revoked between the lookup and the update
        drop_if_gone(app_, client, target.spend_key_id)
        raise
    try:
        sync_saved_key(app_, updated)
    except (LavaError, OSError) as exc:
        app_.out.warn(f"{verb.lower()}, but the saved copy's record was not updated: {exc}")
    _done(app_, updated, verb, quiet=quiet, json_=json_)


def _done(app_: AppContext, key: SpendKey, verb: str, *, quiet: bool, json_: bool) -> None:
    if json_:
        app_.out.json(key.raw)
    elif quiet:
        app_.out.line(key.spend_key_id)
    elif app_.stdout_tty:
        app_.out.note(f"✓ {verb} {key.name} ({key.spend_key_id})")
        app_.out.key_detail(key)
    else:
        app_.out.key_detail(key)


@app.command()
def pause(ctx: typer.Context, key: KeyArg, quiet: QuietOpt = False, json_: JsonOpt = False) -> None:
    """Pause a key: requests with it fail until you resume it.

    Example: lava keys pause claude
    """
    _put(ctx, key, {"status": "paused"}, verb="Paused", quiet=quiet, json_=json_)


@app.command()
def resume(
    ctx: typer.Context, key: KeyArg, quiet: QuietOpt = False, json_: JsonOpt = False
) -> None:
    """Resume a paused key.

    Example: lava keys resume claude
    """
    _put(ctx, key, {"status": "active"}, verb="Resumed", quiet=quiet, json_=json_)


# --- rotate, revoke --------------------------------------------------------------------------


@app.command()
def rotate(
    ctx: typer.Context,
    key: KeyArg,
    save: SaveOpt = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
    format_: FormatOpt = None,
    var: VarOpt = "LAVA_SPEND_KEY",
) -> None:
    """Give a key a new secret value; the old one stops working at once.

    Limits and usage history stay. Example: lava keys rotate claude --save
    """
    from lava_cli.ops.keys import check_can_save, resolve_or_drop, saved_keys

    check_format(format_, var)
    app_ = app_of(ctx)
    client = app_.client()
    target = resolve_or_drop(app_, client, key)
    # A key saved before stays saved: rotating it must not leave a dead value behind.
    keep = save or target.spend_key_id in saved_keys(app_)
    if keep:
        check_can_save(app_)  # refuse before the old value dies, not after
    rotated = client.rotate_spend_key(target.spend_key_id)
    emit_key(
        app_, rotated, verb="Rotated", save=keep, quiet=quiet, json_=json_, fmt=format_, var=var
    )


@app.command()
def revoke(
    ctx: typer.Context,
    key: KeyArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Revoke a key for good: it stops working at once and cannot be restored.

    Example: lava keys revoke old-ci --yes
    """
    from lava_cli.cli.common import confirm
    from lava_cli.errors import ApiNotFoundError, NotFoundError
    from lava_cli.ops.keys import forget_spend_key, gone_saved_key, resolve_key

    app_ = app_of(ctx)
    if not yes and not app_.can_prompt:
        raise UsageError(
            "revoking needs confirmation and there is no terminal to ask",
            hint="add --yes to revoke without asking",
        )
    client = app_.client()
    try:
        target = resolve_key(client, key)
    except NotFoundError:
        # A key saved here but revoked elsewhere: the goal (no working key, no saved
        # copy) is reached by dropping the copy, so this succeeds (exit 0).
        gone = gone_saved_key(app_, client, key)
        if gone is None:
            raise
        _revoked(app_, *gone, already=True, quiet=quiet, json_=json_)
        return
    if not yes and not confirm(
        app_, f"Revoke {target.name} ({target.spend_key_id})? It cannot be undone."
    ):
        raise UsageError("not revoked", hint="nothing was changed")
    already = False
    try:
        client.revoke_spend_key(target.spend_key_id)
    except ApiNotFoundError:  # revoked elsewhere since the lookup a moment ago
        already = True
    try:
        forget_spend_key(app_, target.spend_key_id)
    except LavaError as exc:
        app_.out.warn(f"revoked, but the saved copy could not be removed: {exc.message}")
    _revoked(app_, target.spend_key_id, target.name, already=already, quiet=quiet, json_=json_)


def _revoked(
    app_: AppContext, kid: str, name: str, *, already: bool, quiet: bool, json_: bool
) -> None:
    if json_:
        app_.out.json(
            {"spend_key_id": kid, "name": name, "success": True, "already_revoked": already}
        )
    elif quiet:
        app_.out.line(kid)
    elif app_.stdout_tty:
        app_.out.note(
            f"✓ {name} ({kid}) was already revoked" if already else f"✓ Revoked {name} ({kid})"
        )
    else:
        app_.out.tsv([[kid, name, "revoked"]])


def _mount_check() -> None:
    """`keys check` and `keys forget` live in their own modules; mounted here so the
    keys group is whole."""
    from lava_cli.cli.check import check
    from lava_cli.cli.forget import forget

    app.command("check")(check)
    app.command("forget")(forget)


_mount_check()
