"""The official SDKs run against the session's gateway emulator (tests/helpers/gateway.py)."""

from tests.helpers.gateway import _session_emulator, emu  # noqa: F401  (fixtures)
