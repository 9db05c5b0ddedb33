"""`lava login`, `lava logout`, `lava auth status`: the management secret key.

The secret is read from a hidden prompt or stdin, never from argv; it is checked
against the API before it is stored, and stored only where the user chose (the OS
keyring, or an explicit 0600 file). The browser flow is `ops.weblogin`'s.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lava_cli.credentials import (
    SERVICE,
    Secret,
    check_secret_format,
    delete_secret,
    insecure_file,
    load_secret,
    profile_entry,
    redact,
    secret_mode,
    store_secret,
)
from lava_cli.errors import ApiAuthError, LavaError, NotAuthenticatedError, UsageError

# What a login records in its profile about the secret (beside the base URL): where it
# is stored, and which secret it is. Logging out, and revoking that secret, remove them.
ORIGIN_FIELDS = ("secret_key_id", "secret_origin")
LOGIN_FIELDS = ("secret_storage", *ORIGIN_FIELDS)

if TYPE_CHECKING:
    from lava_cli.context import AppContext

# A base URL the user chose for this login is kept with the profile; a default is not.
_URL_FLAGS = ("--base-url", "LAVA_BASE_URL")


@dataclass(frozen=True)
class LoginOptions:
    """`lava login` after parsing: where the secret comes from, and where it goes."""

    with_token: bool = False
    web: bool = False
    insecure_storage: bool = False


def check(opts: LoginOptions) -> None:
    """Usage errors the flags alone show (exit 2), before anything is read or sent."""
    if opts.web and opts.with_token:
        raise UsageError("--web and --with-token are two different ways to log in: pick one")


def read_hidden(app: AppContext, prompt: str) -> str:
    """Read a line from the terminal with echo off (the secret never shows on screen)."""
    app.stderr.write(prompt)
    app.stderr.flush()
    try:
        import termios

        fd = app.stdin.fileno()
        old = termios.tcgetattr(fd)
    except (ImportError, AttributeError, OSError, ValueError):
        line = app.stdin.readline()
    else:
        new = termios.tcgetattr(fd)
        new[3] &= ~termios.ECHO
        try:
            termios.tcsetattr(fd, termios.TCSAFLUSH, new)
            line = app.stdin.readline()
        finally:
            termios.tcsetattr(fd, termios.TCSAFLUSH, old)
    app.stderr.write("\n")
    return line


def read_secret(app: AppContext, with_token: bool) -> str:
    """The secret from stdin (--with-token) or a hidden prompt; never without either."""
    if with_token:
        text = app.stdin.read()
        if not text.strip():
            raise UsageError(
                "--with-token read nothing from stdin", hint="lava login --with-token < secret.txt"
            )
        return check_secret_format(text)
    if not app.can_prompt:
        raise UsageError(
            "no terminal to ask for the secret key",
            hint="pipe it in: `lava login --with-token < secret.txt`, or set LAVA_SECRET_KEY",
        )
    return check_secret_format(
        read_hidden(app, "Paste your Lava secret key (aks_live_… / aks_test_… / lava_wk_…): ")
    )


def login_with_secret(
    app: AppContext, value: str, *, insecure_storage: bool, secret_key_id: str | None = None
) -> str:
    """Check a secret against the API, store it, record the profile. Returns where.

    `secret_key_id` is the secret's id when the API said it (`login --web`): kept with the
    profile, so `secret-keys revoke` knows this secret, and `logout` deletes it."""
    base_url, source = app.base_url(value)
    _verify(app, value, base_url)
    return keep_login(
        app,
        app.profile,
        value,
        insecure_storage=insecure_storage,
        base_url=base_url if source in _URL_FLAGS else None,
        secret_key_id=secret_key_id,
        origin=WEB_ORIGIN if secret_key_id else None,
    )


WEB_ORIGIN = "login --web"  # a profile's secret that `login --web` minted (logout deletes it)


def keep_login(
    app: AppContext,
    profile: str,
    value: str,
    *,
    insecure_storage: bool,
    base_url: str | None,
    secret_key_id: str | None = None,
    origin: str | None = None,
) -> str:
    """Log `profile` in with `value` by the rules of `lava login`: the OS keyring, or the
    0600 file with `insecure_storage` (never a silent fallback); `base_url` kept with the
    profile when not None. Returns where the secret went. Also `secret-keys create
    --save-as`'s way to log a profile in."""
    storage = "file" if insecure_storage else "keyring"
    where, previous = _store(app, profile, value, storage, base_url, (secret_key_id, origin))
    if previous and previous != storage:
        # Leave no second copy behind in the store we moved away from.
        with contextlib.suppress(Exception):
            delete_secret(profile_entry(profile), previous)
    return where


def _verify(app: AppContext, value: str, base_url: str) -> None:
    """One cheap authenticated call: a secret the API refuses is never stored."""
    client = app.client(Secret(value, "env", "login"), base_url=base_url)
    try:
        client.list_spend_keys_page(limit=1)
    except ApiAuthError:
        raise NotAuthenticatedError(
            f"{base_url} refused this secret key ({redact(value)})",
            hint="copy it again from Dashboard > Gateway > Secrets; aks_test_ keys work only "
            "against the sandbox or an emulator (--base-url)",
        ) from None


def _store(
    app: AppContext,
    profile: str,
    value: str,
    storage: str,
    base_url: str | None,
    known: tuple[str | None, str | None],
) -> tuple[str, str | None]:
    """Store the secret and record the profile as one step: (where, the previous store).

    `known` is (secret_key_id, origin): what the secret is on the server, when known.
    A secret whose id is not known clears the ones recorded before, which belonged to
    the secret it replaces."""
    from lava_cli.config import state_lock

    with state_lock():
        where = store_secret(profile_entry(profile), value, storage)
        with app.config.editing() as config:
            entry = dict(config.profile(profile))
            previous = entry.get("secret_storage")
            entry["secret_storage"] = storage
            if base_url is not None:
                entry["base_url"] = base_url
            for field, known_value in zip(ORIGIN_FIELDS, known, strict=True):
                if known_value:
                    entry[field] = known_value
                else:
                    entry.pop(field, None)
            config.set_profile(profile, entry)
    return where, previous if isinstance(previous, str) else None


def offer_web(app: AppContext) -> bool:
    """At a desktop terminal, ask whether to log in through the browser (default yes)."""
    if not app.can_prompt:
        return False
    from lava_cli.ops.weblogin import browser_available

    if not browser_available():
        return False
    app.stderr.write("Log in with your browser? [Y/n] (n: paste a secret key instead) ")
    app.stderr.flush()
    return app.stdin.readline().strip().lower() in ("", "y", "yes")


def run_login(app: AppContext, opts: LoginOptions) -> None:
    """Log in through the browser, a hidden prompt or stdin; then say where it went."""
    if opts.web or (not opts.with_token and offer_web(app)):
        from lava_cli.ops.weblogin import web_login

        value, where = web_login(
            app,
            lambda secret, secret_key_id: login_with_secret(
                app, secret, insecure_storage=opts.insecure_storage, secret_key_id=secret_key_id
            ),
        )
    else:
        value = read_secret(app, opts.with_token)
        where = login_with_secret(app, value, insecure_storage=opts.insecure_storage)
    base_url, source = app.base_url(value)
    mode = secret_mode(value)
    how = f"{mode} mode" if mode != "unknown" else "a lava_wk_ wallet key: live or test unknown"
    app.out.note(f"✓ Logged in to {base_url} ({how}) as profile {app.profile!r}")
    if source in _URL_FLAGS:
        # Saved with the secret (a sandbox or emulator secret is useless elsewhere), and
        # said so: otherwise the profile keeps a URL nobody remembers giving it.
        app.out.note(
            f"  The base URL (from {source}) is saved in profile {app.profile!r}: later "
            f"commands use it without {source} (log in with another --base-url to change it)."
        )
    if opts.insecure_storage:
        app.out.warn(f"the secret is stored in plain text in {where} (mode 0600)")
    else:
        app.out.note(f"  The secret key is in {where}.")
    if os.environ.get("LAVA_SECRET_KEY"):
        app.out.warn(
            "LAVA_SECRET_KEY is set in this shell and takes precedence over the stored secret"
        )


def run_logout(app: AppContext) -> None:
    """Forget the profile's stored secret (exit 3 when it has none).

    A secret that `login --web` minted is also deleted on the server first, best effort:
    nobody else holds it, so it should not outlive the login. The profile stops using
    the stored secret even when the keyring cannot delete it (a broken or locked
    keyring): then the secret is still in the keyring, and the command says so and exits
    1 (the keyring's error) after saying what it removed.
    """
    from lava_cli.errors import KeyringError

    settings = app.profile_settings
    if not settings.get("secret_storage"):  # before taking any lock
        raise NotAuthenticatedError(f"profile {app.profile!r} has no stored secret key")
    minted = settings.get("secret_key_id") if settings.get("secret_origin") == WEB_ORIGIN else None
    if isinstance(minted, str) and minted:
        _delete_minted(app, str(settings["secret_storage"]), minted)
    failure: KeyringError | None = None
    with app.config.editing() as config:
        profile = dict(config.profile(app.profile))
        storage = profile.pop("secret_storage", None)
        if not storage:
            raise NotAuthenticatedError(f"profile {app.profile!r} has no stored secret key")
        for field in ORIGIN_FIELDS:
            profile.pop(field, None)
        try:
            removed = isinstance(storage, str) and delete_secret(
                profile_entry(app.profile), storage
            )
        except KeyringError as exc:
            removed, failure = False, exc
        config.set_profile(app.profile, profile)
    where = str(insecure_file()) if storage == "file" else "the OS keyring"
    if failure is None:
        app.out.note(
            f"✓ Logged out of profile {app.profile!r}"
            + (f" (secret removed from {where})" if removed else " (no secret was left to remove)")
        )
        return
    app.out.note(f"✓ Profile {app.profile!r} no longer uses its stored secret.")
    raise KeyringError(
        f"the secret could not be removed from {where}: {failure.message}",
        hint=f"remove it there by hand (service {SERVICE!r}, entry "
        f"{profile_entry(app.profile)!r}), e.g. with your keyring's own tool, once it works",
    )


def _delete_minted(app: AppContext, storage: str, secret_key_id: str) -> None:
    """Delete the secret key `login --web` minted for this profile, on the server, with
    that very secret. Best effort: any failure is a warning naming the command that
    finishes the job, and the logout goes on."""
    from lava_cli.errors import ApiNotFoundError

    how = f"delete it with `lava secret-keys revoke {secret_key_id}` from another login"
    try:
        value = load_secret(profile_entry(app.profile), storage)
        if not value:
            return
        found = Secret(value, "file" if storage == "file" else "keyring", "logout")
        client = app.client(found, base_url=app.base_url(value)[0])
        client.delete_secret_key(secret_key_id)
    except ApiNotFoundError:
        return  # already gone
    except LavaError as exc:
        app.out.warn(
            f"the secret key {secret_key_id} that `lava login --web` made is still live on the "
            f"server ({exc.message}); {how}"
        )
        return
    app.out.note(f"  Deleted the secret key {secret_key_id} `lava login --web` made.")


def status_info(app: AppContext) -> tuple[dict[str, object], Secret | None, LavaError | None]:
    """What `lava` would use now, and from where: (the report, the secret found, why the
    secret could not be read). A broken keyring does not hide the rest of the report."""
    failure: LavaError | None = None
    try:
        secret = app.find_secret()
    except LavaError as exc:  # a keyring that fails or hangs, an edited store
        secret, failure = None, exc
    base_url, base_source = app.base_url(secret.value if secret else None)
    stored = app.profile_settings.get("secret_storage")
    info: dict[str, object] = {
        "profile": app.profile,
        "base_url": base_url,
        "base_url_source": base_source,
        "logged_in": secret is not None if failure is None else None,
        "mode": secret.mode if secret else None,
        "secret_source": secret.source if secret else (stored if failure else None),
        "secret_location": secret.location if secret else None,
        "secret_preview": redact(secret.value) if secret else None,
    }
    if failure is None and secret is not None and secret.source == "keyring":
        from lava_cli.credentials import keyring_backend_name

        try:
            info["keyring_backend"] = keyring_backend_name()
        except LavaError as exc:
            failure = exc
    if failure is not None:
        info["secret_error"] = failure.message
    return info, secret, failure


def run_status(app: AppContext, *, json: bool) -> None:
    """Print the status; then exit 3 when there is no secret, or with the keyring's
    error (exit 1) when the secret could not be read, after printing what is known."""
    info, secret, failure = status_info(app)
    if json:
        app.out.json(info)
    else:
        from lava_cli.render.auth import status

        status(app.out, info)
    if failure is not None:
        raise failure
    if secret is None:
        raise NotAuthenticatedError(
            f"not logged in (profile {app.profile!r})",
            hint="run `lava login`, or set LAVA_SECRET_KEY",
        )
