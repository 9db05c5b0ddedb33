"""`lava login`, `lava logout`, `lava auth status`: the management secret key.

The secret is read from a hidden prompt or stdin, never from argv; it is checked
against the API before it is stored, and stored only where the user chose (the OS
keyring, or an explicit 0600 file).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.credentials import (
    Secret,
    check_secret_format,
    delete_secret,
    insecure_file,
    profile_entry,
    redact,
    store_secret,
)
from lava_cli.errors import ApiAuthError, NotAuthenticatedError, UsageError

if TYPE_CHECKING:
    from lava_cli.context import AppContext

auth_app = typer.Typer(
    help="Inspect the stored credentials.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@auth_app.callback()
def _group() -> None:
    """Inspect the stored credentials."""  # a callback keeps a one-command app a group


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


def _read_secret(app: AppContext, with_token: bool) -> str:
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
        read_hidden(app, "Paste your Lava secret key (aks_live_… / aks_test_…): ")
    )


def login_with_secret(app: AppContext, value: str, *, insecure_storage: bool) -> str:
    """Check a secret against the API, store it, record the profile. Returns where."""
    secret = Secret(value, "env", "login")
    base_url, source = app.base_url(value)
    client = app.client(secret, base_url=base_url)
    try:
        client.list_spend_keys_page(limit=1)
    except ApiAuthError:
        raise NotAuthenticatedError(
            f"{base_url} refused this secret key ({redact(value)})",
            hint="copy it again from Dashboard > Gateway > Secrets; aks_test_ keys work only "
            "against the sandbox or an emulator (--base-url)",
        ) from None
    from lava_cli.config import state_lock

    storage = "file" if insecure_storage else "keyring"
    with state_lock():  # the secret and the profile's record change as one step
        where = store_secret(profile_entry(app.profile), value, storage)
        with app.config.editing() as config:
            profile = dict(config.profile(app.profile))
            previous = profile.get("secret_storage")
            profile["secret_storage"] = storage
            if source in ("--base-url", "LAVA_BASE_URL"):
                profile["base_url"] = base_url
            config.set_profile(app.profile, profile)
    if previous and previous != storage:
        # Leave no second copy behind in the store we moved away from.
        with contextlib.suppress(Exception):
            delete_secret(profile_entry(app.profile), previous)
    return where


def _offer_web(app: AppContext) -> bool:
    """At a desktop terminal, ask whether to log in through the browser (default yes)."""
    if not app.can_prompt:
        return False
    from lava_cli.ops.weblogin import browser_available

    if not browser_available():
        return False
    app.stderr.write("Log in with your browser? [Y/n] (n: paste a secret key instead) ")
    app.stderr.flush()
    return app.stdin.readline().strip().lower() in ("", "y", "yes")


def login(
    ctx: typer.Context,
    with_token: Annotated[
        bool, typer.Option("--with-token", help="Read the secret key from stdin (for scripts).")
    ] = False,
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Log in through the browser (prints the URL too, for SSH sessions).",
        ),
    ] = False,
    insecure_storage: Annotated[
        bool,
        typer.Option(
            "--insecure-storage",
            help="Store the secret in a 0600 file instead of the OS keyring (headless machines).",
        ),
    ] = False,
) -> None:
    """Log in with a Lava secret key and keep it in the OS keyring.

    At a desktop terminal this offers the browser (--web forces it); otherwise it asks
    for the key, or reads it from stdin with --with-token. The key is checked against
    the API first. Example: lava login --with-token < secret.txt
    """
    app = app_of(ctx)
    if web and with_token:
        raise UsageError("--web and --with-token are two different ways to log in: pick one")
    if web or (not with_token and _offer_web(app)):
        from lava_cli.ops.weblogin import web_login

        value, where = web_login(
            app, lambda secret: login_with_secret(app, secret, insecure_storage=insecure_storage)
        )
    else:
        value = _read_secret(app, with_token)
        where = login_with_secret(app, value, insecure_storage=insecure_storage)
    base_url = app.base_url(value)[0]
    mode = "test" if value.startswith("aks_test_") else "live"
    app.out.note(f"✓ Logged in to {base_url} ({mode} mode) as profile {app.profile!r}")
    if insecure_storage:
        app.out.warn(f"the secret is stored in plain text in {where} (mode 0600)")
    else:
        app.out.note(f"  The secret key is in {where}.")
    import os

    if os.environ.get("LAVA_SECRET_KEY"):
        app.out.warn(
            "LAVA_SECRET_KEY is set in this shell and takes precedence over the stored secret"
        )


def logout(ctx: typer.Context) -> None:
    """Forget the profile's stored secret key (keyring or file).

    Example: lava --profile staging logout
    """
    app = app_of(ctx)
    if not app.profile_settings.get("secret_storage"):  # before taking any lock
        raise NotAuthenticatedError(f"profile {app.profile!r} has no stored secret key")
    with app.config.editing() as config:
        profile = dict(config.profile(app.profile))
        storage = profile.pop("secret_storage", None)
        removed = isinstance(storage, str) and delete_secret(profile_entry(app.profile), storage)
        if not storage:
            raise NotAuthenticatedError(f"profile {app.profile!r} has no stored secret key")
        config.set_profile(app.profile, profile)
    where = str(insecure_file()) if storage == "file" else "the OS keyring"
    app.out.note(
        f"✓ Logged out of profile {app.profile!r}"
        + (f" (secret removed from {where})" if removed else " (no secret was left to remove)")
    )


@auth_app.command()
def status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Show which profile, base URL and secret `lava` would use, and where it lives.

    Exit code 3 when there is no secret. Example: lava auth status --json
    """
    app = app_of(ctx)
    secret = app.find_secret()
    base_url, base_source = app.base_url(secret.value if secret else None)
    info: dict[str, object] = {
        "profile": app.profile,
        "base_url": base_url,
        "base_url_source": base_source,
        "logged_in": secret is not None,
        "mode": secret.mode if secret else None,
        "secret_source": secret.source if secret else None,
        "secret_location": secret.location if secret else None,
        "secret_preview": redact(secret.value) if secret else None,
    }
    if secret is not None and secret.source == "keyring":
        from lava_cli.credentials import keyring_backend_name

        info["keyring_backend"] = keyring_backend_name()
    if json_:
        app.out.json(info)
    else:
        rows = [[k, "-" if v is None else str(v)] for k, v in info.items()]
        if app.stdout_tty:
            from lava_cli.safetext import printable

            width = max(len(r[0]) for r in rows)
            for k, v in rows:  # one line per setting, whatever a path or URL holds
                app.out.line(f"{k.replace('_', ' '):<{width}}  {printable(v)}")
        else:
            app.out.tsv(rows)
    if secret is None:
        raise NotAuthenticatedError(
            f"not logged in (profile {app.profile!r})",
            hint="run `lava login`, or set LAVA_SECRET_KEY",
        )
