"""The work of `lava secret-keys …`: list, create and revoke the wallet's management
secrets (`/v1/secret_keys`).

Why: CI should hold a secret of its own, revocable without touching yours ("CI secret
provisioning"). A new secret is shown once, so `create` hands it over like a new spend
key (ops/handoff.py: kept or printed, never lost); `--save-as PROFILE` logs a profile
in with it by `lava login`'s storage rules (ops/login.keep_login).

"The secret in use" is the one this run authenticates with (LAVA_SECRET_KEY, or the
profile's). `revoke` refuses it unless --force, because revoking it logs this very
machine out. It is told by the secret's id when the profile recorded one (`login
--web` and `--save-as` do: the API said it), else by the API's `secret_key_hint`
(prefix, `****`, last characters) matched against the secret held here. A hint this
client cannot read counts as "cannot tell", which is refused like "in use": a wrong
guess must never revoke the secret in use silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.credentials import MANAGEMENT_PREFIXES, SECRET_PREFIXES, WALLET_KEY_PREFIX
from lava_cli.errors import ApiNotFoundError, LavaError, NotFoundError, PolicyError, UsageError

if TYPE_CHECKING:
    from lava_cli.api.wallet_types import NewSecret, SecretKey
    from lava_cli.context import AppContext
    from lava_cli.credentials import Secret
    from lava_cli.ops.handoff import HandOff

SAVE_ORIGIN = "secret-keys create"  # a profile logged in by --save-as
_HINT_RE = re.compile(r"([^*]*)\*+([^*]*)")
_MIN_SHOWN = 4  # characters a hint must show, besides the prefix, to tell secrets apart


# --- which secret is in use -----------------------------------------------------------


def _forms(value: str) -> tuple[str, ...]:
    """The secret and its aliases: a `lava_wk_<body>` wallet key is the alias of the
    `aks_test_<body>`/`aks_live_<body>` secret, so an `aks_` secret's hint may also be
    shown in the `lava_wk_` form (a wallet started with one) and the other way round."""
    if value.startswith(WALLET_KEY_PREFIX):
        body = value.removeprefix(WALLET_KEY_PREFIX)
        return (value, *(prefix + body for prefix in SECRET_PREFIXES))
    for prefix in SECRET_PREFIXES:
        if value.startswith(prefix):
            return (value, WALLET_KEY_PREFIX + value.removeprefix(prefix))
    return (value,)


def hint_matches(value: str, hint: str) -> bool | None:
    """Whether the secret `value` fits `hint` (shown part, `*`s, shown part); None when
    the hint shows too little to tell, or is in a form this client does not know."""
    match = _HINT_RE.fullmatch(hint)
    if match is None:
        return None
    head, tail = match.groups()
    prefix = next((p for p in (*MANAGEMENT_PREFIXES, "aks_") if head.startswith(p)), "")
    if len(head) - len(prefix) + len(tail) < _MIN_SHOWN:
        return None
    return any(
        len(form) >= len(head) + len(tail) and form.startswith(head) and form.endswith(tail)
        for form in _forms(value)
    )


def in_use(app: AppContext, secret: Secret, key: SecretKey) -> bool | None:
    """Whether `key` is the secret this run uses: True, False, or None (cannot tell)."""
    recorded = app.profile_settings.get("secret_key_id")
    if secret.source != "env" and isinstance(recorded, str) and recorded:
        return recorded == key.secret_key_id
    return hint_matches(secret.value, key.secret_key_hint)


# --- list -------------------------------------------------------------------------------


class ListOptions(NamedTuple):
    quiet: bool = False
    json_: bool = False


def run_list(app: AppContext, opts: ListOptions) -> None:
    """Every secret key of the wallet (all pages); people see which one is in use."""
    secret = app.secret()
    keys = list(app.client(secret).iter_secret_keys())
    if opts.json_:
        app.out.json([k.raw for k in keys])
    elif opts.quiet:
        for k in keys:
            app.out.line(k.secret_key_id)
    else:
        from lava_cli.render.secret_keys import secret_keys_table

        secret_keys_table(app.out, keys, {k.secret_key_id: in_use(app, secret, k) for k in keys})


# --- create -----------------------------------------------------------------------------


class CreateOptions(NamedTuple):
    """`secret-keys create` after parsing. `save_as`: the profile to log in with the new
    secret (None: none); `insecure_storage`: that profile's secret goes to the 0600 file."""

    name: str
    how: HandOff
    save_as: str | None = None
    insecure_storage: bool = False


def create_options(
    name: str, how: HandOff, save_as: str | None, *, insecure_storage: bool
) -> CreateOptions:
    """Check the flags before any request (exit 2)."""
    from lava_cli.config import validate_profile_name
    from lava_cli.parsing import parse_name

    if insecure_storage and save_as is None:
        raise UsageError(
            "--insecure-storage says where --save-as keeps the secret",
            hint="add --save-as PROFILE, or drop --insecure-storage",
        )
    profile = validate_profile_name(save_as, "--save-as") if save_as is not None else None
    return CreateOptions(parse_name(name), how, profile, insecure_storage)


def run_create(app: AppContext, opts: CreateOptions) -> None:
    """Mint a secret, then hand it over: logged in as --save-as's profile (first, when
    asked) and printed in the form asked for. Refuses before minting what the save
    would refuse after (an unusable keyring, an unsafe directory)."""
    from lava_cli.credentials import is_raw_secret
    from lava_cli.ops.handoff import Shown, hand_over

    if opts.save_as is not None:
        _check_can_store(opts.insecure_storage)
    secret = app.secret()
    client = app.client(secret)
    base_url, source = app.base_url(secret.value)
    minted = client.create_secret_key(opts.name)
    kid = minted.key.secret_key_id
    shown = Shown(
        minted.raw, minted.api_object, kid, "secret key", "aks_",
        f"lava secret-keys revoke {kid} --yes", is_raw_secret,
    )  # fmt: skip
    # A URL the user chose (flag, variable, profile) goes with the new profile: the
    # secret belongs to that API. A default one is the new secret's default too.
    keep_url = None if source.startswith("default") else base_url

    def save() -> str:
        return _save_as(app, opts, minted, keep_url)

    def human(saved: str | None) -> None:
        from lava_cli.render.secret_keys import new_secret

        new_secret(app.out, minted, saved=saved, profile=opts.save_as)

    hand_over(app, shown, "Created", opts.how, save=save if opts.save_as else None, human=human)


def _check_can_store(insecure_storage: bool) -> None:
    if insecure_storage:
        from lava_cli.config import check_private_dir, config_dir

        check_private_dir(config_dir())
    else:
        from lava_cli.credentials import check_keyring_usable

        check_keyring_usable()


def _save_as(app: AppContext, opts: CreateOptions, minted: NewSecret, base_url: str | None) -> str:
    """Log --save-as's profile in with the new secret; returns where it went."""
    from lava_cli.ops.login import keep_login

    assert opts.save_as is not None
    profile = opts.save_as
    before = app.config.profile(profile).get("secret_storage")
    where = keep_login(
        app,
        profile,
        minted.raw,
        insecure_storage=opts.insecure_storage,
        base_url=base_url,
        secret_key_id=minted.key.secret_key_id,
        origin=SAVE_ORIGIN,
    )
    if before:
        app.out.warn(
            f"profile {profile!r} was logged in with another secret; that secret still works "
            "until it is revoked (`lava secret-keys list` shows them all)"
        )
    return f"profile {profile!r} ({where})"


# --- revoke -----------------------------------------------------------------------------


class RevokeOptions(NamedTuple):
    key: str
    yes: bool = False
    force: bool = False
    quiet: bool = False
    json_: bool = False


def resolve_secret_key(keys: Sequence[SecretKey], ref: str) -> SecretKey:
    """A secret key by id, or by a name only one key has."""
    ref = ref.strip()
    if not ref:
        raise UsageError("ID is empty", hint="give a secret key id (sec_…) or name")
    found = [k for k in keys if k.secret_key_id == ref] or [k for k in keys if k.name == ref]
    if len(found) == 1:
        return found[0]
    if found:
        listed = ", ".join(k.secret_key_id for k in found)
        raise UsageError(
            f"{len(found)} secret keys are named {ref!r}: {listed}",
            hint="use the secret_key_id instead of the name",
        )
    names = ", ".join(f"{k.name} ({k.secret_key_id})" for k in keys[:10]) or "none"
    raise NotFoundError(
        f"no secret key with id or name {ref!r}",
        hint=f"this wallet's secret keys: {names} (see `lava secret-keys list`)",
    )


def run_revoke(app: AppContext, opts: RevokeOptions) -> None:
    """Revoke after the in-use check and asking (unless --yes); profiles of this machine
    logged in with that secret are logged out (their secret is dead)."""
    from lava_cli.ops.keys import check_can_confirm, confirm
    from lava_cli.render.secret_keys import revoked

    check_can_confirm(app, opts.yes, "revoking", "revoke")
    secret = app.secret()
    client = app.client(secret)
    target = resolve_secret_key(list(client.iter_secret_keys()), opts.key)
    kid, name = target.secret_key_id, target.name
    using = in_use(app, secret, target)
    if using is not False and not opts.force:
        raise _in_use_error(secret, target, using)
    question = f"Revoke secret key {name} ({kid}, {target.secret_key_hint})? "
    if using is not False:
        question += "It may be the secret this lava uses: you would be logged out. "
    question += "Whatever uses it stops working at once."
    if not opts.yes and not confirm(app, question):
        raise UsageError("not revoked", hint="nothing was changed")
    already = False
    try:
        client.delete_secret_key(kid)
    except ApiNotFoundError:  # revoked elsewhere since the list a moment ago
        already = True
    logged_out = _log_out_profiles(app, kid)
    revoked(app.out, target, already=already, logged_out=logged_out, opts=(opts.quiet, opts.json_))
    if using and app.profile not in logged_out:
        app.out.warn(
            f"that was the secret this lava used ({_whose(secret)}); log in again with "
            "another secret (`lava login`)"
        )


def _whose(secret: Secret) -> str:
    return "LAVA_SECRET_KEY" if secret.source == "env" else f"stored in the {secret.source}"


def _in_use_error(secret: Secret, target: SecretKey, using: bool | None) -> LavaError:
    kid, whose = target.secret_key_id, _whose(secret)
    if using:
        message = (
            f"{target.name} ({kid}) is the secret key this lava uses ({whose}); "
            "revoking it would log you out"
        )
    else:
        message = (
            f"cannot tell whether {target.name} ({kid}) is the secret key this lava uses: "
            f"its hint {target.secret_key_hint!r} does not show enough"
        )
    return PolicyError(
        message,
        hint="log in with another secret first (`lava secret-keys create --name NAME "
        "--save-as PROFILE`), or add --force to revoke it anyway",
    )


def _log_out_profiles(app: AppContext, secret_key_id: str) -> list[str]:
    """Forget the stored secret of every profile that recorded `secret_key_id` (the
    server just revoked it: keep local state in step). Returns their names."""
    from lava_cli.credentials import delete_secret, profile_entry
    from lava_cli.ops.login import LOGIN_FIELDS

    names: list[str] = []
    profiles = app.config.data.get("profiles")
    if not isinstance(profiles, dict) or not any(
        isinstance(p, dict) and p.get("secret_key_id") == secret_key_id for p in profiles.values()
    ):
        return names
    try:
        with app.config.editing() as config:
            for name, entry in dict(config.data.get("profiles") or {}).items():
                if not isinstance(entry, dict) or entry.get("secret_key_id") != secret_key_id:
                    continue
                storage = entry.get("secret_storage")
                if isinstance(storage, str):
                    delete_secret(profile_entry(name), storage)
                kept = {k: v for k, v in entry.items() if k not in LOGIN_FIELDS}
                config.set_profile(name, kept)
                names.append(name)
    except LavaError as exc:
        app.out.warn(f"revoked, but the profiles using it were not logged out: {exc.message}")
        return []
    return names
