"""Exit codes and the error hierarchy.

Every failure the user can cause or meet is a `LavaError`: it carries a one-line
message, an optional hint (what to do next) and the exit code documented in the
README. `main.py` is the only place that turns them into output and an exit.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented process exit codes (README, "Exit codes")."""

    OK = 0
    API_ERROR = 1
    USAGE = 2
    AUTH = 3
    NOT_FOUND = 4
    POLICY = 5
    UNAVAILABLE = 6
    DRIFT = 7  # `keys apply --check`: the wallet differs from the file
    NOT_DELIVERED = 8  # `keys rotate --deliver`: rotated, but a delivery or the probe failed
    ACTION_REQUIRED = 9  # `wallet fund`: the payment waits for the payer (3-D Secure page)
    CANNOT_EXECUTE = 126  # `lava run`: the command exists but cannot run (as a shell says)
    COMMAND_NOT_FOUND = 127  # `lava run`: no such command (as a shell says)
    INTERRUPTED = 130


class LavaError(Exception):
    """Base class: a message for the user, a hint, an exit code.

    `shown_once` carries a raw key the server minted when the failure came after it
    (an unreadable create/rotate answer): `main` writes it to stdout before the error,
    because a shown-once key must never be swallowed by a failure.
    """

    exit_code: ExitCode = ExitCode.API_ERROR
    shown_once: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(LavaError):
    """Bad flags or input, caught before any request (exit 2)."""

    exit_code = ExitCode.USAGE


class NotAuthenticatedError(LavaError):
    """No secret, or the API answered 401 (exit 3)."""

    exit_code = ExitCode.AUTH


class NotFoundError(LavaError):
    """404, or a key name that matches nothing (exit 4)."""

    exit_code = ExitCode.NOT_FOUND


class PolicyError(LavaError):
    """Refused by policy: 402, 403, 409, or 429 after retries (exit 5)."""

    exit_code = ExitCode.POLICY


class UnavailableError(LavaError):
    """Network failure, timeout, or the server is down / answering garbage (exit 6)."""

    exit_code = ExitCode.UNAVAILABLE


class DriftError(LavaError):
    """`lava keys apply --check`: the wallet differs from the key file (exit 7).

    A code of its own: every other one can come out of the same run for another reason
    (5 for a 429 or 403, 1 for an API error), and a CI drift check must tell "the
    wallet changed" from "could not tell"."""

    exit_code = ExitCode.DRIFT


class NotDeliveredError(LavaError):
    """`keys rotate --deliver`: the key was rotated (the old value is dead), but a delivery
    command or the probe of the new value failed (exit 8). The new value was saved or
    printed first; the code tells a script the old key is gone, unlike exits 1-7, which
    mean nothing was rotated (or may have been: exit 6 with "may have been created")."""

    exit_code = ExitCode.NOT_DELIVERED


class ActionRequiredError(LavaError):
    """`lava wallet fund`: the payment was started but waits for the payer to confirm it
    on the bank's page (`requires_action`, 3-D Secure), exit 9.

    A code of its own: nothing failed and nothing was refused (not 1-6), but no money has
    moved yet either (not 0). A script can tell "a person must open this URL" apart from
    every failure, and from success."""

    exit_code = ExitCode.ACTION_REQUIRED


class CommandNotRunError(LavaError):
    """`lava run` could not start the command: 127 when it does not exist, 126 when it
    cannot be executed, the codes a shell gives, so scripts can tell them apart."""

    def __init__(self, message: str, hint: str | None = None, *, found: bool) -> None:
        super().__init__(message, hint)
        self.exit_code = ExitCode.CANNOT_EXECUTE if found else ExitCode.COMMAND_NOT_FOUND


class KeyringError(LavaError):
    """The OS keyring is missing, failed or hung (exit 1, with a storage hint)."""

    exit_code = ExitCode.API_ERROR


class ApiError(LavaError):
    """Any other API answer the CLI does not expect (exit 1).

    `status` and `code` keep the server's words for `--json` consumers and tests.
    """

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class ApiAuthError(ApiError, NotAuthenticatedError):
    """HTTP 401 (exit 3)."""

    exit_code = ExitCode.AUTH


class ApiNotFoundError(ApiError, NotFoundError):
    """HTTP 404 (exit 4)."""

    exit_code = ExitCode.NOT_FOUND


class ApiPolicyError(ApiError, PolicyError):
    """HTTP 402, 403, 409 and 429 (exit 5)."""

    exit_code = ExitCode.POLICY


class ApiBadRequestError(ApiError, UsageError):
    """HTTP 400/422: the server refused our input (exit 2)."""

    exit_code = ExitCode.USAGE


class ApiUnavailableError(ApiError, UnavailableError):
    """HTTP 5xx after retries, an unreadable body, a timeout or no connection (exit 6)."""

    exit_code = ExitCode.UNAVAILABLE


class MaybeCreatedError(ApiUnavailableError):
    """A create/rotate was sent but no answer came: the key may exist (exit 6)."""
