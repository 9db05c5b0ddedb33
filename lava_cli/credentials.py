"""Where secrets live, how they are found, and how they are redacted.

Resolution order for the management secret: `LAVA_SECRET_KEY`, then the profile's
stored secret (OS keyring, or the 0600 file when the user chose
`--insecure-storage`). When the env var is set, keyring is never imported.

Every keyring call runs in a worker thread bounded by a timeout, because a hung
D-Bus secret service would otherwise freeze the CLI forever.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

from lava_cli.config import (
    atomic_write,
    check_private_dir,
    config_dir,
    ensure_dir,
    read_json_file,
    state_lock,
)
from lava_cli.errors import KeyringError, LavaError, NotAuthenticatedError, UsageError

SERVICE = "lava-cli"
INSECURE_FILE = "secrets.json"
STORE_HOLDS = (
    "it holds the secret keys of profiles logged in with --insecure-storage and the spend "
    "keys they saved with --save; deleting it loses them: `lava login --insecure-storage` "
    "again, and `lava keys rotate KEY --save` for each saved key you still need"
)
KEYRING_TIMEOUT_S = 5.0

SECRET_PREFIXES = ("aks_live_", "aks_test_")
TEST_PREFIX = "aks_test_"
SPEND_KEY_PREFIX = "lava_sk_"
# Some of Lava's pages call the management credential a wallet key, `lava_wk_…`. It is
# accepted wherever an `aks_…` secret is (login, LAVA_SECRET_KEY, the emulator's
# --secrets-file): the API it is sent to decides whether it works, as it does for any
# secret. Its prefix does not say live or test, so it counts as neither: it goes to the
# live host by default and never over plain http to another machine. Redacted, refused in
# argv and kept from `lava run` children exactly like `aks_…`.
WALLET_KEY_PREFIX = "lava_wk_"
MANAGEMENT_PREFIXES = (*SECRET_PREFIXES, WALLET_KEY_PREFIX)
_ALL_PREFIXES = (SPEND_KEY_PREFIX, *MANAGEMENT_PREFIXES)
PREFIXES_HINT = "secret keys start with aks_live_, aks_test_ or lava_wk_"
_PREFIXES = "|".join(re.escape(p) for p in _ALL_PREFIXES)


@cache
def _secret_re() -> re.Pattern[str]:
    """A secret-looking token, compiled on first use (~1 ms): a run that neither
    fails nor logs nor finds a prefix in its argv never needs it."""
    return re.compile(rf"({_PREFIXES})([A-Za-z0-9_\-]+)")


@cache
def _preview_re() -> re.Pattern[str]:
    return re.compile(rf"(?:{_PREFIXES})[A-Za-z0-9_\-]{{8}}\*{{4}}")


def _has_prefix(text: str) -> bool:
    """The cheap first look: no token can match without one of the prefixes (argv, most
    messages), and then the pattern is not even compiled."""
    return any(prefix in text for prefix in _ALL_PREFIXES)


Source = Literal["env", "keyring", "file"]
T = TypeVar("T")


def redact(value: object) -> str:
    """The documented preview form of a secret: prefix + 8 chars + `****`.

    Never raises, whatever it is given; short or unknown values lose everything
    after their prefix.
    """
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:
        return "****"
    for prefix in (SPEND_KEY_PREFIX, *MANAGEMENT_PREFIXES):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            shown = rest[:8] if len(rest) >= 16 else ""
            return f"{prefix}{shown}****"
    return "****"


def scrub(text: str) -> str:
    """Replace every secret-looking token inside free text with its preview."""
    if not _has_prefix(text):
        return text

    def replace(match: re.Match[str]) -> str:
        if match.string.startswith("****", match.end()) and len(match.group(2)) <= 8:
            return match.group(0)  # already a preview (prefix + 8 characters + ****)
        return redact(match.group(0))

    return _secret_re().sub(replace, text)


def raw_secrets(text: str) -> list[str]:
    """Every raw secret, wallet key or spend key inside `text`, in order.

    Previews (`prefix` + 8 characters + `****`), and anything no longer than one (a
    preview without its `****`, or cut short with `…`), are not secrets: they reveal
    nothing the preview form does not, and people paste them as KEY.
    """
    found: list[str] = []
    if not _has_prefix(text):
        return found
    for match in _secret_re().finditer(text):
        if _preview_re().fullmatch(text[match.start() : match.end() + 4]):
            continue
        if len(match.group(2)) > 8:
            found.append(match.group(0))
    return found


def secret_in_argv(argv: Iterable[str]) -> str | None:
    """The first argv word carrying a raw secret or spend key (previews are fine)."""
    for word in argv:
        found = raw_secrets(word)
        if found:
            return found[0]
    return None


_RAW_SPEND_KEY_RE = re.compile(r"lava_sk_[A-Za-z0-9_\-]{16,200}")


def is_raw_spend_key(value: str) -> bool:
    """True for a whole spend key value: the prefix and URL-safe characters, nothing else."""
    return _RAW_SPEND_KEY_RE.fullmatch(value) is not None


def looks_like_secret(value: str) -> bool:
    """A management secret's shape: `aks_live_`, `aks_test_` or `lava_wk_`, then more
    than 8 characters."""
    prefix = next((p for p in MANAGEMENT_PREFIXES if value.startswith(p)), None)
    return prefix is not None and len(value) > len(prefix) + 8


_RAW_SECRET_RE = re.compile(r"(?:aks_live_|aks_test_|lava_wk_)[A-Za-z0-9_\-]{16,200}")


def is_raw_secret(value: str) -> bool:
    """True for a whole management secret value: a prefix and URL-safe characters only
    (nothing a `$GITHUB_ENV` line or a shell could read as more than one value)."""
    return _RAW_SECRET_RE.fullmatch(value) is not None


def secret_mode(value: str) -> str:
    """`test` for `aks_test_`, `live` for `aks_live_`, `unknown` for a `lava_wk_` wallet
    key (its prefix does not say which wallet it belongs to)."""
    if value.startswith(TEST_PREFIX):
        return "test"
    return "unknown" if value.startswith(WALLET_KEY_PREFIX) else "live"


def header_safe(value: str) -> bool:
    """True when `value` can travel in an HTTP header: printable ASCII, no spaces.

    Keys are ASCII by construction; anything else is a copy-paste accident (a smart
    quote, a non-breaking space, a CR-LF) that httpx would refuse to encode mid-request.
    """
    return value.isascii() and value.isprintable() and " " not in value


def env_credential(name: str) -> str | None:
    """A secret or spend key from the environment variable `name` (None when unset).

    Checked before use, so a bad value is one error naming the variable (exit 3), not
    an encoding error inside httpx; the message never repeats the value.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not header_safe(value):
        raise NotAuthenticatedError(
            f"{name} holds characters no key has (non-ASCII, spaces or control characters)",
            hint=f"set {name} again to the exact value, copied from the Lava dashboard; "
            "keys are plain ASCII",
        )
    return value


def check_secret_format(value: str) -> str:
    """Validate a management secret read from a prompt or stdin."""
    value = value.strip()
    if value.startswith(SPEND_KEY_PREFIX):
        raise UsageError(
            "that is a spend key (lava_sk_…), not a secret key",
            hint="log in with the secret key (aks_live_… or aks_test_…) from "
            "Dashboard > Gateway > Secrets; spend keys go into your AI tools",
        )
    if not looks_like_secret(value) or not header_safe(value):
        raise UsageError(
            "that does not look like a Lava secret key",
            hint=f"{PREFIXES_HINT} (Dashboard > Gateway > Secrets)",
        )
    return value


# --- keyring, bounded -------------------------------------------------------------


def _bounded(call: Callable[[], T], what: str) -> T:
    """Run a keyring call with a timeout; turn every failure into a KeyringError."""
    import threading

    from lava_cli.envvars import env_seconds

    timeout = env_seconds("LAVA_KEYRING_TIMEOUT", KEYRING_TIMEOUT_S)
    box: dict[str, object] = {}

    def worker() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=worker, name="lava-keyring", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise KeyringError(
            f"the OS keyring did not answer within {timeout:g} s ({what})",
            hint="unlock or restart your keyring service, or set LAVA_SECRET_KEY "
            "for this shell, or log in with --insecure-storage",
        )
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, LavaError):
            raise exc
        raise KeyringError(
            f"the OS keyring failed ({what}): {type(exc).__name__}",
            hint=_no_keyring_hint(),
        ) from None
    return box["value"]  # type: ignore[return-value]


def _no_keyring_hint() -> str:
    return (
        "no working keyring here (common on headless Linux and in containers): "
        "set LAVA_SECRET_KEY in the environment, or run `lava login --insecure-storage` "
        "to keep the secret in a 0600 file"
    )


def _keyring_backend_name() -> str:
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def keyring_backend_name() -> str:
    """Name of the active keyring backend, for `auth status` and `doctor`."""
    return _bounded(_keyring_backend_name, "finding the backend")


def check_keyring_usable() -> None:
    """Refuse now (KeyringError) what storing a secret in the keyring would refuse later:
    for a caller about to mint a secret it must then keep."""
    _bounded(_check_backend_usable, "finding the backend")


def _check_backend_usable() -> None:
    import keyring
    from keyring.backends import fail

    if isinstance(keyring.get_keyring(), fail.Keyring):
        raise KeyringError("no OS keyring backend is available", hint=_no_keyring_hint())


def keyring_set(username: str, secret: str) -> None:
    """Store a secret and read it back: some backends (null, broken D-Bus) drop writes."""

    def do() -> str | None:
        import keyring

        _check_backend_usable()
        keyring.set_password(SERVICE, username, secret)
        value: str | None = keyring.get_password(SERVICE, username)
        return value

    stored = _bounded(do, "storing a secret")
    if stored != secret:
        raise KeyringError(
            f"the OS keyring did not keep the secret (backend {keyring_backend_name()})",
            hint=_no_keyring_hint(),
        )


def keyring_get(username: str) -> str | None:
    def do() -> str | None:
        import keyring

        value: str | None = keyring.get_password(SERVICE, username)
        return value

    return _bounded(do, "reading a secret")


def keyring_delete(username: str) -> bool:
    """Delete an entry; False when there was none."""

    def do() -> bool:
        import keyring
        from keyring.errors import PasswordDeleteError

        if keyring.get_password(SERVICE, username) is None:
            return False
        try:
            keyring.delete_password(SERVICE, username)
        except PasswordDeleteError:
            return False
        return True

    return _bounded(do, "deleting a secret")


def profile_entry(profile: str) -> str:
    return f"profile:{profile}"


def spend_key_entry(spend_key_id: str) -> str:
    return f"spend_key:{spend_key_id}"


# --- the explicit insecure file ---------------------------------------------------


def insecure_file() -> Path:
    return config_dir() / INSECURE_FILE


def file_get(entry: str) -> str | None:
    value = read_json_file(insecure_file(), STORE_HOLDS).get(entry)
    return value if isinstance(value, str) else None


def file_set(entry: str, secret: str) -> None:
    """Add or replace one entry, under the state lock (other processes write it too).

    Refuses (exit 2) a directory other users could write to: they could swap the
    file, or read the next one written.
    """
    path = insecure_file()
    ensure_dir(path.parent)
    check_private_dir(path.parent)
    with state_lock():
        data = read_json_file(path, STORE_HOLDS)
        data[entry] = secret
        atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def file_delete(entry: str) -> bool:
    path = insecure_file()
    with state_lock():
        data = read_json_file(path, STORE_HOLDS)
        if entry not in data:
            return False
        del data[entry]
        if data:
            atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
        else:
            path.unlink(missing_ok=True)
        return True


# --- resolution -------------------------------------------------------------------


class Secret(NamedTuple):
    """A resolved secret and where it came from. `repr` never shows the value.
    (A NamedTuple, not a frozen dataclass: ~0.6 ms less of exec() on every start.)"""

    value: str
    source: Source
    location: str

    def __repr__(self) -> str:
        return f"Secret({redact(self.value)}, source={self.source!r})"

    @property
    def mode(self) -> str:
        """`test`, `live`, or `unknown` for a `lava_wk_` wallet key (`secret_mode`)."""
        return secret_mode(self.value)


def resolve_secret(profile: str, storage: str | None) -> Secret | None:
    """Env first, then the profile's store. `storage` is the profile's recorded store."""
    env = env_credential("LAVA_SECRET_KEY")
    if env:
        return Secret(env, "env", "LAVA_SECRET_KEY")
    entry = profile_entry(profile)
    found: Secret | None = None
    if storage == "file":
        value = file_get(entry)
        found = Secret(value, "file", str(insecure_file())) if value else None
    elif storage == "keyring":
        value = keyring_get(entry)
        found = Secret(value, "keyring", f"keyring service {SERVICE!r}") if value else None
    if found is not None and not header_safe(found.value):
        # Only an edited store gets here (`lava login` checks what it stores).
        raise not_logged_in(profile, f"the secret stored in {found.location} is not a valid key")
    return found


def store_secret(entry: str, secret: str, storage: str) -> str:
    """Store under `entry` in the chosen store; returns a description of where."""
    if storage == "file":
        file_set(entry, secret)
        return str(insecure_file())
    keyring_set(entry, secret)
    return f"the OS keyring (service {SERVICE!r})"


def load_secret(entry: str, storage: str) -> str | None:
    return file_get(entry) if storage == "file" else keyring_get(entry)


def delete_secret(entry: str, storage: str) -> bool:
    return file_delete(entry) if storage == "file" else keyring_delete(entry)


def not_logged_in(profile: str, why: str | None = None) -> LavaError:
    return NotAuthenticatedError(
        why or f"not logged in (profile {profile!r})",
        hint="run `lava login`, or set LAVA_SECRET_KEY (aks_live_… / aks_test_…)",
    )
