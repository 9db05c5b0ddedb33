"""`lava keys …`: create, list, show, update, pause, resume, rotate, revoke, forget, check,
and (from `cli/apply.py`) apply and export.

Typer only: each command turns its flags into the Options of `ops/keys.py` (usage
errors, exit 2, before any request) and calls `ops.keys.run_<command>(app, opts)`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli import apply as keys_as_code
from lava_cli.cli.common import JsonOpt, QuietKeyOpt, QuietOpt, app_of, command_group
from lava_cli.ops import keys as ops
from lava_cli.ops.handoff import HandOff, check_format
from lava_cli.ops.vetting import Vetting

app = command_group("Create and manage spend keys (lava_sk_…).")

KeyArg = Annotated[
    str,
    typer.Argument(
        help="Spend key id (sk_…), unique name, or preview (lava_sk_a1b2c3d4, with or "
        "without ****).",
        show_default=False,
    ),
]
AllowDuplicateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-duplicate-name",
        help="Use the name even if another key has it (lookups by name then fail).",
    ),
]
AllowUnknownOpt = Annotated[
    bool,
    typer.Option(
        "--allow-unknown-model",
        help="Accept a --model the catalogue (`lava models`) does not list yet.",
    ),
]
SaveOpt = Annotated[
    bool,
    typer.Option(
        "--save",
        help="Save the new key in the profile's store: the OS keyring, or the 0600 secrets "
        "file of a profile logged in with --insecure-storage.",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Hand the new key to a script: env (export line), dotenv, json, or github "
        "(::add-mask:: + $GITHUB_ENV).",
    ),
]
VarOpt = Annotated[
    str | None,
    typer.Option(
        "--var", help="Variable name for --format env|dotenv|github (default LAVA_SPEND_KEY)."
    ),
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
    str | None,
    typer.Option(
        "--spend-limit", help="Dollars per cycle (daily, weekly, monthly, total), e.g. 25/monthly."
    ),
]
RequestOpt = Annotated[
    str | None, typer.Option("--request-limit", help="Requests per cycle, e.g. 1000/daily.")
]
RateOpt = Annotated[
    str | None,
    typer.Option("--rate-limit", help="Requests per minute, with an optional burst: 60 or 60/10."),
]
ExpiresAtOpt = Annotated[
    str | None,
    typer.Option(
        "--expires-at",
        help="A date: the key works through that whole day (UTC), e.g. 2026-12-31; "
        "or a time: ISO 8601, UTC when no offset.",
    ),
]
ExpiresInOpt = Annotated[str | None, typer.Option("--expires-in", help="Duration: 30m, 2h, 7d.")]


def _hand_off(save: bool, quiet: bool, json_: bool, fmt: str | None, var: str | None) -> HandOff:
    check_format(fmt, var)
    return HandOff(save=save, quiet=quiet, json_=json_, fmt=fmt, var=var or "LAVA_SPEND_KEY")


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
    allow_duplicate_name: AllowDuplicateOpt = False,
    allow_unknown_model: AllowUnknownOpt = False,
    save: SaveOpt = False,
    quiet: QuietKeyOpt = False,
    json_: JsonOpt = False,
    format_: FormatOpt = None,
    var: VarOpt = None,
) -> None:
    """Create a spend key and show its raw value once.

    Example: lava keys create --name ci --spend-limit 5/total --expires-in 2h --save
    """
    how = _hand_off(save, quiet, json_, format_, var)
    changes = ops.KeyChanges(
        name=name,
        models=model or (),
        providers=provider or (),
        shape=shape,
        spend_limit=spend_limit,
        request_limit=request_limit,
        rate_limit=rate_limit,
        expires_at=expires_at,
        expires_in=expires_in,
        paused=paused,
    )
    body = ops.build_body(changes, ops.now())
    vetting = Vetting(allow_duplicate_name, allow_unknown_model)
    ops.run_create(app_of(ctx), ops.CreateOptions(body, how, vetting))


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
    opts = ops.list_options(status, quiet=quiet, json_=json_)
    ops.run_list(app_of(ctx), opts)


@app.command()
def show(ctx: typer.Context, key: KeyArg, json_: JsonOpt = False) -> None:
    """Show one spend key: limits, spend this cycle, usage.

    Example: lava keys show claude
    """
    ops.run_show(app_of(ctx), ops.ShowOptions(key, json_))


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
    allow_duplicate_name: AllowDuplicateOpt = False,
    allow_unknown_model: AllowUnknownOpt = False,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Change a key's name, models, shape, limits or expiry; sends only what changed.

    Example: lava keys update claude --spend-limit 50/monthly --no-expiry
    """
    changes = ops.KeyChanges(
        name=name,
        models=model or (),
        all_models=all_models,
        providers=provider or (),
        all_providers=all_providers,
        shape=shape,
        spend_limit=spend_limit,
        no_spend_limit=no_spend_limit,
        request_limit=request_limit,
        no_request_limit=no_request_limit,
        rate_limit=rate_limit,
        no_rate_limit=no_rate_limit,
        expires_at=expires_at,
        expires_in=expires_in,
        no_expiry=no_expiry,
    )
    body = ops.update_body(changes, ops.now())
    vetting = Vetting(allow_duplicate_name, allow_unknown_model)
    ops.run_update(app_of(ctx), ops.UpdateOptions(key, body, "Updated", quiet, json_, vetting))


@app.command()
def pause(ctx: typer.Context, key: KeyArg, quiet: QuietOpt = False, json_: JsonOpt = False) -> None:
    """Pause a key: requests with it fail until you resume it.

    Example: lava keys pause claude
    """
    opts = ops.UpdateOptions(key, {"status": "paused"}, "Paused", quiet, json_)
    ops.run_update(app_of(ctx), opts)


@app.command()
def resume(
    ctx: typer.Context, key: KeyArg, quiet: QuietOpt = False, json_: JsonOpt = False
) -> None:
    """Resume a paused key.

    Example: lava keys resume claude
    """
    opts = ops.UpdateOptions(key, {"status": "active"}, "Resumed", quiet, json_)
    ops.run_update(app_of(ctx), opts)


@app.command()
def rotate(
    ctx: typer.Context,
    key: KeyArg,
    save: SaveOpt = False,
    quiet: QuietKeyOpt = False,
    json_: JsonOpt = False,
    format_: FormatOpt = None,
    var: VarOpt = None,
    deliver: Annotated[
        list[str] | None,
        typer.Option(
            "--deliver",
            help="Run COMMAND (split like a shell, run without one) with the new key on "
            "its stdin, then prove the key at the gateway (repeatable).",
        ),
    ] = None,
) -> None:
    """Give a key a new secret value; the old one stops working at once.

    Limits and usage history stay. Example: lava keys rotate claude --save

    With --deliver, each COMMAND gets the new key on its stdin only (never in its
    arguments or environment), then a free request proves the gateway accepts it.
    If a command or the probe fails, the new key is saved (--save) or printed on
    stdout, and the exit code is 8. Commands time out after LAVA_DELIVER_TIMEOUT
    seconds (default 60).

    Example: lava keys rotate ci --deliver 'gh secret set LAVA_SPEND_KEY'
    """
    how = _hand_off(save, quiet, json_, format_, var)
    opts = ops.rotate_options(key, how, deliver or ())
    ops.run_rotate(app_of(ctx), opts)


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
    ops.run_revoke(app_of(ctx), ops.RevokeOptions(key, yes, quiet, json_))


@app.command()
def default(
    ctx: typer.Context,
    key: Annotated[
        str | None,
        typer.Argument(
            help="A key saved here (id, name or preview) to make the default; leave out "
            "to print the default.",
            show_default=False,
        ),
    ] = None,
    auto_limit: Annotated[
        str | None,
        typer.Option(
            "--auto-limit",
            help="Spend limit for the keys lava creates itself in this profile (prompt's "
            "lava-cli key, env --create): AMOUNT/CYCLE, or none.",
        ),
    ] = None,
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Show or set the profile's default key, used when no --key or LAVA_SPEND_KEY is given.

    `lava prompt` and `lava env` use it. Exit 4 when there is none.
    Example: lava keys default claude
    """
    from lava_cli.ops import defaults

    opts = defaults.default_options(key, auto_limit, quiet=quiet, json_=json_)
    defaults.run_default(app_of(ctx), opts)


@app.command()
def check(
    ctx: typer.Context,
    key: KeyArg,
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
    max_used: Annotated[
        str | None,
        typer.Option(
            "--max-used",
            help="Fail once this share of the spend or request limit is used this cycle: "
            "80% or 0.80.",
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Exit 0 if a key can spend now, exit 5 with the reason if not (for CI).

    Checks that the key is active, not expired, has budget and requests left.
    A key without a spend limit passes the budget check (the wallet pays).
    --max-used is a budget alarm: stop a pipeline at 80% instead of at the wall.

    Example: lava keys check ci --max-used 80% --expires-within 1d
    """
    from lava_cli.ops import check as ops_check
    from lava_cli.parsing import parse_amount, parse_duration, parse_share

    floor = parse_amount(min_remaining, "--min-remaining") if min_remaining is not None else None
    window = parse_duration(expires_within, "--expires-within") if expires_within else None
    share = parse_share(max_used, "--max-used") if max_used is not None else None
    opts = ops_check.CheckOptions(key, floor, window, json_, share)
    ops_check.run(app_of(ctx), opts)


@app.command()
def forget(
    ctx: typer.Context,
    key: Annotated[
        str, typer.Argument(help="A saved key's id (sk_…) or name.", show_default=False)
    ],
    quiet: QuietOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Remove a key saved with --save from this profile; the server is not asked.

    Deletes the saved value (keyring or file) and its record. The key itself keeps
    working until revoked (`lava keys revoke`). Exit 4 when no such key is saved.
    Example: lava keys forget old-ci
    """
    ops.run_forget(app_of(ctx), ops.ForgetOptions(key, quiet, json_))


# Keys as code: their own module, listed after the commands above.
app.command("apply")(keys_as_code.apply)
app.command("export")(keys_as_code.export)
