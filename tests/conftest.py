"""Shared fixtures: isolation from the user's real config and keyring, an in-memory
keyring, a session-wide emulator on a real loopback port, and `run_lava`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from lava_cli.main import run


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps entries in a dict (tests only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.entries:
            raise PasswordDeleteError(username)
        del self.entries[(service, username)]


class FakeTTY(io.StringIO):
    """A StringIO that says it is a terminal, to exercise the human paths."""

    def isatty(self) -> bool:
        return True


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """Every test gets its own config dir and an empty in-memory keyring."""
    for name in list(os.environ):
        if name.startswith("LAVA_") or name in (
            "NO_COLOR", "FORCE_COLOR", "GITHUB_ENV", "DISPLAY", "WAYLAND_DISPLAY", "BROWSER",
        ):  # fmt: skip
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAVA_CONFIG_DIR", str(tmp_path / "config"))
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(isolated: MemoryKeyring) -> MemoryKeyring:
    return isolated


def run_lava(*args: str, input: str | None = None, tty: bool = False) -> Result:
    """Run the CLI in-process with its own streams; `tty` makes them look like a terminal."""
    kind = FakeTTY if tty else io.StringIO
    stdin, stdout, stderr = kind(input or ""), kind(), kind()
    code = run(list(args), stdin=stdin, stdout=stdout, stderr=stderr)
    return Result(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="session")
def emulator_session() -> Iterator[object]:
    from lava_cli.emulator.server import start_in_thread

    with start_in_thread(secrets=["aks_test_" + "a" * 32, "aks_test_" + "b" * 32]) as emu:
        yield emu


@pytest.fixture
def emulator(emulator_session: object) -> object:
    emulator_session.reset()  # type: ignore[attr-defined]
    return emulator_session


@pytest.fixture
def logged_in(emulator: object, monkeypatch: pytest.MonkeyPatch) -> object:
    """The CLI pointed at the emulator through the environment, as CI would do it."""
    monkeypatch.setenv("LAVA_SECRET_KEY", emulator.secrets[0])  # type: ignore[attr-defined]
    monkeypatch.setenv("LAVA_BASE_URL", emulator.base_url)  # type: ignore[attr-defined]
    return emulator
