"""Keyrings that misbehave, for the paths where the OS keyring fails.

(The working stand-in, `MemoryKeyring`, is tests/conftest.py's autouse fixture.)
"""

from __future__ import annotations

from keyring.backend import KeyringBackend


class BrokenKeyring(KeyringBackend):
    """A keyring whose every call fails, as a locked or broken D-Bus secret service does."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, why: str = "dbus exploded") -> None:
        super().__init__()
        self.why = why

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError(self.why)

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(self.why)

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError(self.why)
