"""`lava run`: run a command with an ephemeral, budgeted spend key, then revoke it.

Like `op run` / `doppler run`, but for AI spend. The key exists only in the child's
environment (never argv, never a file) and is revoked whatever happens: the command
fails, is killed, or the user presses Ctrl-C (the signal is passed to the child).

The child gets the run's key and no other credential: the management secret would let
it mint keys without a budget, and another spend key would spend outside this one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from types import FrameType
from typing import TYPE_CHECKING, NamedTuple

from lava_cli.errors import ApiNotFoundError, CommandNotRunError, LavaError, UsageError
from lava_cli.ops.childenv import withheld, without_credentials
from lava_cli.ops.vetting import Vetting, vet_new_key

if TYPE_CHECKING:
    from lava_cli.api.types import NewKey, SpendKey
    from lava_cli.context import AppContext
    from lava_cli.ops.keys import KeyChanges

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class RunOptions(NamedTuple):
    """`lava run` after parsing: the command, the key's create body (see
    `ops.keys.build_body`), the tool whose variables to set, and `--keep`."""

    command: tuple[str, ...]
    body: Mapping[str, object]
    tool: str | None
    keep: bool
    vetting: Vetting = Vetting()


def run_options(
    command: tuple[str, ...],
    changes: KeyChanges,
    *,
    tool: str | None,
    keep: bool,
    vetting: Vetting | None = None,
) -> RunOptions:
    """Check `lava run`'s flags (exit 2 before any request) and build the key's body:
    named after the run unless --name, with the shape `--tool` needs."""
    from lava_cli.ops.keys import build_body, now

    if tool is not None:
        from lava_cli.parsing import parse_shape
        from lava_cli.tools.catalogue import get_tool

        spec = get_tool(tool)
        if changes.shape is not None and parse_shape(changes.shape) != spec.request_shape:
            raise UsageError(f"--tool {tool} needs --shape {spec.request_shape}")
        changes = changes._replace(shape=spec.request_shape)
    vetting = vetting or Vetting()
    if changes.name is None:  # a name of its own (time-stamped): no lookup for it
        vetting = vetting._replace(allow_duplicate_name=True)
    changes = changes._replace(name=changes.name or default_name())
    hint = "a run's key always has a budget: give more than 0 (the default is 1/total)"
    body = build_body(changes, now(), zero_spend_hint=hint)
    return RunOptions(command, body, tool, keep, vetting)


def child_env(
    base: Mapping[str, str], raw: str, shape: str, base_url: str, tool: str | None
) -> dict[str, str]:
    """The child's environment: the caller's without any credential (see `withheld`),
    plus the variables its clients read for the run's key."""
    env = without_credentials(base)
    env["LAVA_SPEND_KEY"] = raw
    if tool is not None:
        from lava_cli.tools.catalogue import get_tool
        from lava_cli.tools.render import resolve_env

        spec = get_tool(tool)
        for unset in spec.unset:
            env.pop(unset.name, None)
        env.update(resolve_env(spec, raw, base_url))
        return env
    root = base_url.removesuffix("/v1")
    if shape == "anthropic":
        # Anthropic SDKs append /v1/messages themselves; ANTHROPIC_AUTH_TOKEN would lose
        # to a stale ANTHROPIC_API_KEY, so set the one that wins.
        env.update(ANTHROPIC_API_KEY=raw, ANTHROPIC_BASE_URL=root)
        env.pop("ANTHROPIC_AUTH_TOKEN", None)
    else:
        env.update(OPENAI_API_KEY=raw, OPENAI_BASE_URL=base_url)
        env.pop("OPENAI_API_BASE", None)
    return env


def _terminal_delivers_sigint() -> bool:
    """True when Ctrl-C at our terminal already reaches the child (same foreground group)."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def forward_signals(proc: subprocess.Popen[bytes]) -> Iterator[list[int]]:
    """Pass SIGINT/SIGTERM/SIGHUP to the child instead of dying before the revoke."""
    received: list[int] = []
    from_terminal = _terminal_delivers_sigint()

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if signum == signal.SIGINT and from_terminal:
            return  # the terminal sent it to the whole foreground group already
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, handler) for sig in FORWARDED}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_with_key(app: AppContext, options: RunOptions) -> int:
    """Create the key, run the command, revoke the key; return the command's exit code.

    `--keep` saves the key in the profile's store (keyring, or the --insecure-storage
    file) before the command starts, so it can be used again with `--key NAME`; where
    nothing can keep it, the key is revoked and the command does not run. The raw key
    is never printed: stdout belongs to the command, and stderr ends up in CI logs.
    An answer without the key's value fails as for every command that mints a key
    (`MissingKeyValueError`, exit 1) and nothing runs.
    """
    if options.keep:
        from lava_cli.ops.saved import check_can_save

        check_can_save(app)
    vet_new_key(app, app.client(), options.body, options.vetting)
    minted = app.client().create_spend_key(dict(options.body))
    saved = _keep(app, minted) if options.keep else None
    code = 1
    try:
        code = _spawn(app, minted, options)
    finally:
        _finish(app, minted.key, saved)
    return code


def _keep(app: AppContext, minted: NewKey) -> str:
    """`--keep`: save the key before the command starts, or revoke it and stop."""
    from lava_cli.ops.handoff import save_or_revoke

    try:
        return save_or_revoke(app, minted)
    except LavaError as exc:
        raise LavaError(
            f"--keep: {exc.message}; the command did not run",
            hint="--keep saves the key in the profile's store: the OS keyring, or the "
            "file of `lava login --insecure-storage`; for a key that outlives one "
            "command without either, use `lava keys create --name NAME --format env`",
        ) from None


def _spawn(app: AppContext, minted: NewKey, options: RunOptions) -> int:
    """Start the command with the key in its environment; wait, passing signals on."""
    base_url = app.base_url()[0]
    hidden = withheld(os.environ)
    if hidden:
        app.log(f"lava run: withheld from the command: {', '.join(hidden)}")
    env = child_env(os.environ, minted.raw, minted.key.request_shape, base_url, options.tool)
    try:
        proc = subprocess.Popen(list(options.command), env=env)
    except OSError as exc:
        raise _not_run(options.command[0], exc) from None
    with forward_signals(proc):
        while True:
            try:
                returncode = proc.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - the handler replaces SIGINT
                continue
    # A child killed by a signal reports -N; shells report 128+N.
    return 128 - returncode if returncode < 0 else returncode


def _not_run(program: str, exc: OSError) -> CommandNotRunError:
    """What a shell says when it cannot run a command: 127 not found, 126 not runnable."""
    import errno

    if isinstance(exc, FileNotFoundError):
        # Also a #! line naming a missing interpreter: bash 5 says 127 for it too.
        return CommandNotRunError(
            f"{program}: command not found",
            hint="check the command after `--` (a bare name is looked up in PATH)",
            found=False,
        )
    if isinstance(exc, PermissionError):
        return CommandNotRunError(
            f"{program}: permission denied",
            hint=f"make it executable (chmod +x {program}), or run it through its interpreter",
            found=True,
        )
    if exc.errno == errno.ENOEXEC:
        return CommandNotRunError(
            f"{program}: cannot execute: not a program for this machine",
            hint="a script needs a #! line (or run it through its interpreter)",
            found=True,
        )
    return CommandNotRunError(f"{program}: cannot execute: {exc.strerror or exc}", found=True)


def _finish(app: AppContext, key: SpendKey, saved: str | None) -> None:
    """Summarise spend and revoke the key (unless kept). Never skipped, never raises:
    the command's exit code is what the caller gets, so a failed revoke is a warning."""
    from lava_cli.render.keys import requests_text, spend_text

    client = app.client()
    summary = ""
    with contextlib.suppress(LavaError):
        final = client.get_spend_key(key.spend_key_id)
        summary = f"requests {requests_text(final)}, spend {spend_text(final)}"
    kid = key.spend_key_id
    if saved is not None:
        app.out.note(
            f"lava run: {summary}; kept key {key.name} ({kid}), saved in {saved}; "
            f"use it with --key {key.name}"
        )
        return
    try:
        client.revoke_spend_key(kid)
    except ApiNotFoundError:
        app.out.note(f"lava run: {summary}; key {kid} was already gone")
        return
    except LavaError as exc:
        until = f" until it expires ({key.expires_at})" if key.expires_at else ""
        app.out.warn(
            f"the run's key {key.name} ({kid}) was NOT revoked: {exc.message}. "
            f"It can still spend{until}: revoke it now with `lava keys revoke {kid} --yes`"
        )
        return
    app.out.note(f"lava run: {summary}; key {kid} revoked")


def default_name() -> str:
    """`lava-run-20260131-140501`: a name that says where the key came from, and when."""
    from datetime import datetime, timezone

    return "lava-run-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
