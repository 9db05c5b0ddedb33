"""The secret `lava emulator serve` generated, kept beside its database.

Why: started without ``LAVA_SECRET_KEY``, the emulator makes a wallet for a secret it
generates. Before this file existed every start made a new wallet, and the keys made
with the earlier secret became unreachable although the database kept them. Now the
generated secret is written once to ``<database>.secret`` (e.g.
``emulator.sqlite3.secret``), mode 0600, created exclusively, and every later start on
that database reads it back, so the wallet (and its keys) stays reachable. The file
holds one line: the secret. Deleting it makes the next start generate a new wallet.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from lava_cli.emulator.ids import new_test_secret
from lava_cli.errors import UsageError

SUFFIX = ".secret"
_SECRET_RE = re.compile(r"aks_(test|live)_[A-Za-z0-9_-]{8,}")


def secret_path(db_path: Path) -> Path:
    """Where the generated secret of the database at `db_path` is kept."""
    return db_path.with_name(db_path.name + SUFFIX)


def load_or_create(path: Path) -> tuple[str, bool, str | None]:
    """(secret, made_now, warning): the secret in `path`, or a new test secret written
    there (0600). `warning` says the file was readable by others (it is then tightened).

    A new file appears whole or not at all (written to a private temporary file, then
    linked into place, which fails if another start got there first: that one wins).
    Raises UsageError naming the file when it cannot be read or written, or holds
    something that is not a secret.
    """
    hint = f"delete {path} to start a new wallet, or set LAVA_SECRET_KEY"
    if path.exists():
        return _existing(path, hint)
    secret = new_test_secret()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.unlink(missing_ok=True)  # a crashed start's, with this pid
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return _existing(path, hint)
    except OSError as exc:
        raise UsageError(
            f"cannot keep the emulator's secret in {path}: {exc.strerror or exc}",
            hint="pass --db a file in a folder you can write, or set LAVA_SECRET_KEY",
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return secret, True, None


def _existing(path: Path, hint: str) -> tuple[str, bool, str | None]:
    try:
        text = path.read_text(encoding="ascii").strip()
        mode = stat.S_IMODE(path.stat().st_mode)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not ASCII text"
        raise UsageError(
            f"cannot read the emulator's secret from {path}: {reason}", hint=hint
        ) from None
    if not _SECRET_RE.fullmatch(text):
        raise UsageError(f"{path} does not hold an aks_test_/aks_live_ secret", hint=hint)
    warning = None
    if mode & 0o077:
        warning = f"{path} was readable by others (mode {mode:04o}); it is now 0600"
        try:
            path.chmod(0o600)
        except OSError:
            warning = f"{path} is readable by others (mode {mode:04o}): chmod 600 it"
    return text, False, warning
