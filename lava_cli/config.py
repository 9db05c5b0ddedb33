"""Non-secret settings: where they live, and the per-profile base URL.

The config file holds profiles (base URL, where the secret is stored) and the
metadata of spend keys saved with `--save` (id, name, shape; never the raw key).
Secrets themselves live in the keyring, or in the 0600 insecure-storage file that
`credentials.py` manages next to this one.

`LAVA_CONFIG_DIR` overrides the platformdirs location (for CI sandboxes, for the
demo's throwaway profile and for tests).

Every read-modify-write of config.json and of the secrets file happens under one
lock (`state_lock`): several `lava` processes saving keys at once (a CI matrix, a
Makefile's -j, six terminals' first `lava prompt`) would otherwise each write back
what they read and silently drop the others' keys.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit

from lava_cli.contract import is_loopback_host
from lava_cli.errors import LavaError, UnavailableError, UsageError

if TYPE_CHECKING:
    from filelock import BaseFileLock

# A secret, none, or a function that reads it (only called when the policy needs it).
SecretArg: TypeAlias = "str | Callable[[], str | None] | None"

APP_NAME = "lava-cli"
DEFAULT_PROFILE = "default"
LIVE_BASE_URL = "https://api.lava.so/v1"
SANDBOX_BASE_URL = "https://sandbox-api.lavapayments.com/v1"
CONFIG_FILE = "config.json"
LOCK_FILE = "lava.lock"
# Long enough for a holder's slowest step (a bounded keyring call, or provisioning's
# create request), short enough that a stuck process is reported, not waited on forever.
LOCK_TIMEOUT_S = 30.0


def config_dir() -> Path:
    """The directory for config.json and the insecure-storage file."""
    override = os.environ.get("LAVA_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def ensure_dir(directory: Path) -> None:
    """Create the config directory owner-only (0700) if it is missing."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)


def unsafe_dir_problem(directory: Path) -> tuple[str, str] | None:
    """(what is wrong, the fix) when other users could tamper with `directory`, else None.

    Checked: the directory is writable by every user (sticky or not: anyone could
    plant or pre-create files in it), or its parent is writable by every user without
    the sticky bit (anyone could rename the directory away and put their own in its
    place). Group-writable is allowed (user-private groups make it common). POSIX
    only: Windows has no mode bits (os.stat reports 0o777 for every directory); its
    ACLs are not checked.
    """
    if os.name == "nt":
        return None
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        mode = None  # not created yet: lava creates it 0700
    if mode is not None and mode & stat.S_IWOTH:
        return (
            f"{directory} is writable by every user (mode {stat.S_IMODE(mode):o})",
            f"chmod 700 {directory}",
        )
    parent = directory.parent
    try:
        parent_mode = os.stat(parent).st_mode
    except OSError:
        return None
    if parent_mode & stat.S_IWOTH and not parent_mode & stat.S_ISVTX:
        return (
            f"{parent}, the parent of {directory}, is writable by every user without the "
            f"sticky bit (mode {stat.S_IMODE(parent_mode):o}): anyone could swap the directory",
            f"chmod o-w {parent} (or set LAVA_CONFIG_DIR to a private directory)",
        )
    return None


def check_private_dir(directory: Path) -> None:
    """Refuse (exit 2) to keep secrets where other users could read or swap them."""
    problem = unsafe_dir_problem(directory)
    if problem is not None:
        what, fix = problem
        raise UsageError(f"refusing to store a secret: {what}", hint=fix)


_LOCKS: dict[str, BaseFileLock] = {}


def lock_timeout() -> float:
    """Seconds to wait for another process's lock: LAVA_LOCK_TIMEOUT, default 30."""
    from lava_cli.envvars import env_seconds

    return env_seconds("LAVA_LOCK_TIMEOUT", LOCK_TIMEOUT_S)


@contextlib.contextmanager
def state_lock() -> Iterator[None]:
    """Hold the config directory's lock (`lava.lock`) for a read-modify-write.

    One lock covers config.json and the secrets file, so a change that touches both
    (a saved key's value and its record) is one step for other processes. It is
    re-entrant within a process (nested uses share one hold). An OS lock (flock on
    POSIX, a Windows file lock, through `filelock`) dies with its process, so a
    crash never leaves it stuck; a live holder that takes longer than
    LAVA_LOCK_TIMEOUT ends the wait with exit 6, naming the file. Readers need no
    lock: every write is an atomic rename.
    """
    directory = config_dir()
    path = directory / LOCK_FILE
    timeout = lock_timeout()
    from filelock import FileLock, Timeout  # ~12 ms: only on the paths that write

    try:
        lock = _LOCKS.get(str(path))
        if lock is None:
            ensure_dir(directory)
            lock = _LOCKS[str(path)] = FileLock(str(path), mode=0o600)
        lock.acquire(timeout=timeout)
    except Timeout:
        raise UnavailableError(
            f"another lava process held {path} for more than {timeout:g} s",
            hint="let it finish and retry; to wait longer set LAVA_LOCK_TIMEOUT=SECONDS",
        ) from None
    except OSError as exc:
        raise LavaError(f"cannot lock {path}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()


def _where_hint(path: Path) -> str:
    """What to check when a settings file cannot be used: the directory, or the variable
    that chose it."""
    if os.environ.get("LAVA_CONFIG_DIR"):
        return (
            f"LAVA_CONFIG_DIR chose {path.parent}: point it at a directory you can write, "
            "or unset it"
        )
    return f"check that {path.parent} is a directory you can read and write"


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` so a crash leaves the old file or the new one, never half.

    The temporary file is created 0600 from its first byte (no window where another
    user could read it), fsynced, then renamed over the target. A directory that cannot
    be written is a usage error naming the file (exit 2), not an OSError traceback.
    """
    import tempfile  # ~10 ms of imports (shutil, random): only when writing

    try:
        ensure_dir(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp is 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise UsageError(
            f"cannot write {path}: {exc.strerror or exc}", hint=_where_hint(path)
        ) from None


CONFIG_HOLDS = (
    "it holds each profile's settings (base URL, where its secret is stored) and the "
    "names and ids of saved keys, no secret values; deleting it forgets them: log in "
    "again, and keys saved before are no longer offered by name"
)


def read_json_file(path: Path, holds: str = CONFIG_HOLDS) -> dict[str, Any]:
    """Read a JSON object file; a missing file is empty, a broken one a clear error.

    Every way the file can be wrong (unreadable, not UTF-8, not JSON, nested past the
    parser's recursion limit, not an object) is bad input: exit 2 naming the file, with
    `holds`: what the file holds and what deleting it loses, so nobody deletes secrets
    believing they were settings.
    """
    fix = f"fix or delete the file; {holds}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text", hint=fix) from None
    except OSError as exc:
        raise UsageError(
            f"cannot read {path}: {exc.strerror or exc}", hint=_where_hint(path)
        ) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise UsageError(f"{path} is nested too deeply to be a settings file", hint=fix) from None
    except ValueError:
        raise UsageError(f"{path} is not valid JSON", hint=fix) from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} does not hold a JSON object", hint=fix)
    return data


class Config:
    """The parsed config file. Mutate through the helpers, then `save()`.

    A plain class: every command imports this module (check_base_url), and a dataclass
    costs ~0.6 ms of exec() at import, paid even when the file is never read."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def load(cls) -> Config:
        path = config_dir() / CONFIG_FILE
        return cls(path=path, data=read_json_file(path))

    def reload(self) -> None:
        """Read the file again: another process may have saved since this one loaded it."""
        self.data = read_json_file(self.path)

    def save(self) -> None:
        """Write the whole file. Prefer `editing()`: a bare save can undo another
        process's change made since this one loaded."""
        with state_lock():  # atomic_write says which file could not be written (exit 2)
            atomic_write(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")

    @contextlib.contextmanager
    def editing(self) -> Iterator[Config]:
        """Under the state lock: re-read the file, let the caller change it, write it back.

        The caller's changes apply to what is on disk now, not to what this process
        read at start-up, so parallel `lava` processes never undo each other. Nothing
        is written when the block raises.
        """
        with state_lock():
            self.reload()
            yield self
            self.save()

    def profile(self, name: str) -> dict[str, Any]:
        """The profile's settings (an empty dict for an unknown profile)."""
        profiles = self.data.get("profiles")
        if isinstance(profiles, dict):
            entry = profiles.get(name)
            if isinstance(entry, dict):
                return entry
        return {}

    def set_profile(self, name: str, entry: dict[str, Any]) -> None:
        profiles = self.data.setdefault("profiles", {})
        if not isinstance(profiles, dict):
            profiles = self.data["profiles"] = {}
        if entry:
            profiles[name] = entry
        else:
            profiles.pop(name, None)


def validate_profile_name(name: str, source: str = "--profile") -> str:
    """Profile names become keyring usernames and file keys: keep them tame.

    `source` (the flag or LAVA_PROFILE) is named in the error, so a bad variable in the
    environment is not mistaken for a bad flag.
    """
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
        raise UsageError(
            f"{source}: invalid profile name {name!r}",
            hint="use letters, digits, '-', '_' or '.', at most 64 characters",
        )
    return name


def check_base_url(url: str, source: str = "", *, secret: SecretArg = None) -> str:
    """Validate a base URL: https anywhere, http only to loopback, or to a host named in
    LAVA_ALLOW_HTTP_HOSTS with an `aks_test_` secret. Returns it normalised.

    `source` names where the URL came from (--base-url, LAVA_BASE_URL, a profile), so a
    bad value is one usage error pointing at it, never an httpx error mid-request: a
    port that is not a number, or a CR-LF that urlsplit silently drops but httpx refuses.
    `secret` is the management secret the calls will carry (None: none), or a function
    that reads it, called only when needed; it decides only whether plain http to a named
    non-loopback host is allowed (`http_allowed`).
    """
    text = url.strip()
    where = f"{source}: " if source else ""
    hint = "use a full URL such as https://api.lava.so/v1"
    if source == "LAVA_BASE_URL":
        hint += ", or unset LAVA_BASE_URL"
    bad = next((c for c in text if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise UsageError(
            f"{where}invalid base URL {url!r}: it contains {bad!r}",
            hint=hint + " (no spaces, line breaks or control characters)",
        )
    try:
        parts = urlsplit(text)
        port = parts.port  # raises for `:abc`, `:99999`, `:８７８７`
    except ValueError as exc:
        raise UsageError(f"{where}invalid base URL {url!r}: {exc}", hint=hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{where}invalid base URL {url!r}", hint=hint)
    if port is not None and not parts.netloc.rpartition(":")[2].isascii():
        raise UsageError(f"{where}invalid base URL {url!r}: the port is not 0-9", hint=hint)
    if parts.path.strip("/") == "":
        # Every endpoint would be a 404 ("no such endpoint"), read as a missing key.
        raise UsageError(
            f"{where}base URL {text!r} has no path: Lava's API is under /v1",
            hint=f"add /v1: {text.rstrip('/')}/v1",
        )
    if parts.scheme == "http":
        http_allowed(parts.hostname, secret, where)
    return text.rstrip("/")


ALLOW_HTTP_VAR = "LAVA_ALLOW_HTTP_HOSTS"
_HOST_RE = re.compile(r"[a-z0-9_.\-]+|\[?[0-9a-f:.]+\]?")


def allowed_http_hosts() -> frozenset[str]:
    """The host names in LAVA_ALLOW_HTTP_HOSTS (comma-separated, exact, any case).

    Exact names only: a wildcard (`*.internal`) would let plain http reach hosts nobody
    named, and DNS decides what a pattern matches. A bad entry is exit 2 naming the
    variable, never silently skipped.
    """
    value = os.environ.get(ALLOW_HTTP_VAR, "")
    hosts: set[str] = set()
    for entry in value.split(","):
        host = entry.strip().lower().rstrip(".")
        if not entry.strip():
            continue
        if "*" in host:
            raise UsageError(
                f"{ALLOW_HTTP_VAR}: {entry.strip()!r} is a wildcard",
                hint="name each host exactly, comma-separated, e.g. emulator,lava-emu",
            )
        if not _HOST_RE.fullmatch(host):
            raise UsageError(
                f"{ALLOW_HTTP_VAR}: {entry.strip()!r} is not a host name",
                hint="host names or IP addresses only (no scheme, port or path), "
                "comma-separated, e.g. emulator,10.0.0.5",
            )
        hosts.add(host.strip("[]"))
    return frozenset(hosts)


def http_allowed(host: str, secret: SecretArg, where: str = "") -> None:
    """Refuse (exit 2) plain http to `host` unless it is this machine, or it is named in
    LAVA_ALLOW_HTTP_HOSTS and the calls carry an `aks_test_` secret.

    Why the secret's prefix: only a test secret is harmless in clear on a network (a
    compose network, a CI service). `aks_live_` never qualifies, nor a `lava_wk_` wallet
    key (its prefix does not say test or live), nor no secret at all (a browser login's
    exchange would bring a new secret back in clear).
    """
    if is_loopback_host(host):
        return
    named = host.lower().rstrip(".").strip("[]") in allowed_http_hosts()
    if not named:
        raise UsageError(
            f"{where}refusing plain http:// to {host}: the secret would travel unencrypted",
            hint="use https://, or http:// only to a local emulator (127.0.0.1, localhost); "
            f"for an emulator on another host with an aks_test_ secret, name the host in "
            f"{ALLOW_HTTP_VAR}",
        )
    if callable(secret):
        secret = secret()
    if secret is None or not secret.startswith("aks_test_"):
        what = "no secret" if secret is None else "a secret that is not aks_test_"
        raise UsageError(
            f"{where}refusing plain http:// to {host} with {what}: {ALLOW_HTTP_VAR} "
            "lets only aks_test_ secrets travel unencrypted",
            hint="use the emulator's aks_test_ secret (LAVA_SECRET_KEY), or https://",
        )


def default_base_url(secret: str | None) -> str:
    """The contract's default host: test-mode secrets go to the sandbox."""
    if secret is not None and secret.startswith("aks_test_"):
        return SANDBOX_BASE_URL
    return LIVE_BASE_URL
