"""`lava keys rotate KEY --deliver COMMAND`: put the new value where it is used, then
prove it works, without ever losing it.

Lava kills the old value the moment it rotates, so the dangerous time is between the
rotation and the new value landing in its destination (a CI secret, a vault). Here:

1. Each COMMAND is split like a shell would (`shlex`), and its program looked up,
   before anything is rotated: a typo costs nothing (exit 2, the old key still works).
2. After the rotation the new value is kept first (`--save`), then each COMMAND runs
   without a shell, the value on its stdin only (no trailing newline): never in its
   argv (visible in `ps`), never in its environment (inherited by whatever it starts).
   The environment is the caller's without any credential, as `lava run` gives its
   command (ops/childenv.py), and without the run's key. Its output goes to stderr,
   scrubbed, so stdout carries only what lava itself prints. Each has a deadline
   (LAVA_DELIVER_TIMEOUT, default 60 s), after which its process group is stopped.
   A failure does not stop the others: the old value is dead everywhere, so every
   destination that gets the new one is one fewer outage.
3. The probe (`probe`, below) proves the gateway accepts the new value, for free.
4. Any failure: the new value was saved (`--save`) or is printed on stdout, and the
   exit is 8 (`NotDeliveredError`), which tells a script the old key is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from lava_cli.errors import LavaError, NotDeliveredError, UnavailableError, UsageError
from lava_cli.ops.childenv import without_credentials

if TYPE_CHECKING:
    from lava_cli.api.types import NewKey
    from lava_cli.context import AppContext
    from lava_cli.ops.handoff import HandOff

DELIVER_TIMEOUT_S = 60.0
OUTPUT_CAP = 64 * 1024  # the tail of a command's output that is kept and shown
STOP_GRACE_S = 2.0
# Well-formed JSON that no gateway can serve: no messages, a model nobody has. A gateway
# that checks the key first (the emulator does, documented in its ledger: "a bad key is
# always a 401 first") answers 401 to a key it refuses and 400/404 to one it accepts.
# Nothing is billed, nor counted against the request or rate limit: the refusal comes
# before those checks.
PROBE_BODY: dict[str, Any] = {"model": "lava-cli-probe", "max_tokens": 1, "messages": []}
# Answers that come only after the key was accepted: the body (400, 404, 413, 422), the
# key's own policy (402 spend limit, 403 allow-lists or shape, 429 limits).
AFTER_AUTH = frozenset({400, 402, 403, 404, 413, 422, 429})


class Delivery(NamedTuple):
    """One --deliver COMMAND: as typed (for messages) and split into argv."""

    text: str
    argv: tuple[str, ...]


def parse_deliveries(commands: Sequence[str]) -> tuple[Delivery, ...]:
    """Split each COMMAND like a shell and find its program, before any request.

    A missing program is refused here (exit 2) rather than found missing after the
    rotation, when the old value is already dead. LAVA_DELIVER_TIMEOUT is read here too,
    so a bad value is also refused before anything changes.
    """
    deliver_timeout()
    found: list[Delivery] = []
    for text in commands:
        try:
            argv = tuple(shlex.split(text))
        except ValueError as exc:
            raise UsageError(
                f"--deliver {text!r}: {exc}", hint="quote it as you would in a shell"
            ) from None
        if not argv:
            raise UsageError("--deliver: the command is empty")
        if shutil.which(argv[0]) is None:
            raise UsageError(
                f"--deliver {text!r}: {argv[0]}: command not found (or not executable)",
                hint="nothing was rotated; a bare name is looked up in PATH",
            )
        found.append(Delivery(text, argv))
    return tuple(found)


def deliver_timeout() -> float:
    from lava_cli.envvars import env_seconds

    return env_seconds("LAVA_DELIVER_TIMEOUT", DELIVER_TIMEOUT_S)


class Step(NamedTuple):
    """One step of the report: what, whether it worked, how long, and the details."""

    step: str
    ok: bool
    seconds: float
    detail: str
    fields: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "ok": self.ok, "seconds": round(self.seconds, 3), **self.fields}


# --- the whole sequence --------------------------------------------------------------------


def deliver_new_key(
    app: AppContext,
    minted: NewKey,
    how: HandOff,
    deliveries: Sequence[Delivery],
    rotated_in: float,
) -> None:
    """After the rotation: save (if asked), deliver, probe, report; the key is never lost.

    Ctrl-C at any point stops the running command, then hands the key over as a
    failure does before exit 130.
    """
    key = minted.key
    steps = [Step("rotate", True, rotated_in, f"{key.name} ({key.spend_key_id})", {})]
    _note(app, steps[-1])
    saved: str | None = None
    try:
        if how.save:
            saved = _save(app, minted, steps)
        steps.extend(_deliver_all(app, minted.raw, deliveries))
        steps.append(probe(app, minted.raw, key.request_shape))
        _note(app, steps[-1])
    except KeyboardInterrupt:
        _hand_over(app, minted, saved, steps, json_=how.json_, ok=False)
        where = f"saved in {saved}" if saved else "printed on stdout"
        app.out.warn(f"interrupted after the rotation: the new key is {where}")
        raise
    failed = [s for s in steps if not s.ok]
    if failed:
        _hand_over(app, minted, saved, steps, json_=how.json_, ok=False)
        raise _not_delivered(minted, failed, saved)
    if how.json_:
        app.out.json(_report(minted, saved, steps, ok=True))
    else:
        total = sum(s.seconds for s in steps)
        app.out.note(
            f"done: {key.name} ({key.spend_key_id}) rotated, delivered to "
            f"{len(deliveries)} command(s) and accepted by the gateway in {total:.2f} s"
        )


def _save(app: AppContext, minted: NewKey, steps: list[Step]) -> str | None:
    """`--save` before anything else can fail (design pattern 8)."""
    from lava_cli.ops.saved import save_spend_key

    started = time.monotonic()
    try:
        where: str | None = save_spend_key(app, minted.key, minted.raw)
        step = Step("save", True, time.monotonic() - started, f"in {where}", {"where": where})
    except LavaError as exc:
        where = None
        step = Step("save", False, time.monotonic() - started, exc.message, {"error": exc.message})
    steps.append(step)
    _note(app, step)
    return where


def _deliver_all(app: AppContext, raw: str, deliveries: Sequence[Delivery]) -> list[Step]:
    from lava_cli.credentials import is_raw_spend_key

    steps: list[Step] = []
    timeout = deliver_timeout()
    for number, delivery in enumerate(deliveries, 1):
        label = f"deliver {number}/{len(deliveries)}"
        if not is_raw_spend_key(raw):
            # A newline in it would be a second line to the destination: never deliver it.
            why = "the new key is not a plain lava_sk_ value; not delivered"
            step = Step(label, False, 0.0, why, {"command": delivery.text, "error": why})
        else:
            step = run_delivery(app, label, delivery, raw, timeout)
        steps.append(step)
        _note(app, step)
    return steps


def _hand_over(
    app: AppContext, minted: NewKey, saved: str | None, steps: list[Step], *, json_: bool, ok: bool
) -> None:
    """The failure path: the key goes to stdout unless it was saved."""
    if json_:
        app.out.json(_report(minted, saved, steps, ok=ok))
    elif saved is None:
        from lava_cli.safetext import printable

        app.out.line(printable(minted.raw))


def _report(minted: NewKey, saved: str | None, steps: list[Step], *, ok: bool) -> dict[str, Any]:
    key = minted.key
    body: dict[str, Any] = {
        "ok": ok,
        "spend_key_id": key.spend_key_id,
        "name": key.name,
        "key_preview": key.key_preview,
        "request_shape": key.request_shape,
        "saved": saved,
        "steps": [s.to_json() for s in steps],
    }
    if not ok and saved is None:
        body["key"] = minted.raw  # the only copy: a failed delivery must not lose it
    return body


def _not_delivered(minted: NewKey, failed: list[Step], saved: str | None) -> NotDeliveredError:
    key = minted.key
    what = "; ".join(f"{s.step}: {s.detail}" for s in failed)
    where = f"saved in {saved}" if saved else "printed on stdout"
    return NotDeliveredError(
        f"{key.name} ({key.spend_key_id}) was rotated (the old value no longer works), "
        f"but not every step worked: {what}. The new key is {where}",
        hint="deliver it by hand, or run the rotation again once the cause is fixed "
        "(that makes another new value)",
    )


def _note(app: AppContext, step: Step) -> None:
    state = "ok" if step.ok else "FAILED"
    app.out.note(f"{step.step}: {state}: {step.detail} ({step.seconds:.2f} s)")


# --- one command -------------------------------------------------------------------------------


def run_delivery(app: AppContext, label: str, delivery: Delivery, raw: str, timeout: float) -> Step:
    """Run one COMMAND with `raw` on its stdin; its output relayed to stderr, scrubbed."""
    fields: dict[str, Any] = {"command": delivery.text, "exit_code": None}
    app.log(f"{label}: running {shlex.join(delivery.argv)}")
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(delivery.argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=without_credentials(os.environ),
            start_new_session=True,  # its own group: a deadline stops all it started
        )
    except OSError as exc:
        why = _not_started(delivery.argv[0], exc)
        return Step(label, False, time.monotonic() - started, why, {**fields, "error": why})
    assert proc.stdin is not None and proc.stdout is not None
    tail = _Tail(proc.stdout)
    try:
        _feed(proc.stdin, raw)
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
        _stop(proc)
    except KeyboardInterrupt:
        _stop(proc)
        raise
    finally:
        tail.join()
        _relay(app, label, tail.text(), raw)
    seconds = time.monotonic() - started
    fields["exit_code"] = code
    if code is None:
        why = f"`{delivery.text}` did not finish within {timeout:g} s (LAVA_DELIVER_TIMEOUT)"
        return Step(label, False, seconds, why, {**fields, "error": why})
    if code != 0:
        shown = 128 - code if code < 0 else code  # killed by signal N: 128+N, as a shell says
        why = f"`{delivery.text}` exited with {shown}"
        return Step(label, False, seconds, why, {**fields, "exit_code": shown, "error": why})
    return Step(label, True, seconds, f"`{delivery.text}` took the key", fields)


def _feed(stdin: IO[bytes], raw: str) -> None:
    """The key, without a newline (`printf %s "$KEY" | COMMAND`); a command that exits
    without reading it is judged by its exit code, not by the broken pipe."""
    with contextlib.suppress(BrokenPipeError):
        stdin.write(raw.encode())
        stdin.flush()
    with contextlib.suppress(BrokenPipeError):
        stdin.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=STOP_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue


class _Tail:
    """Reads a command's output on a thread, keeping the last OUTPUT_CAP bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._data = bytearray()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            fd = self._stream.fileno()
            for chunk in iter(lambda: os.read(fd, 4096), b""):
                self._data += chunk
                del self._data[:-OUTPUT_CAP]

    def join(self) -> None:
        # A grandchild outside the group may hold the pipe open: do not wait for it.
        self._thread.join(timeout=STOP_GRACE_S)

    def text(self) -> str:
        return bytes(self._data).decode("utf-8", "replace")


def _relay(app: AppContext, label: str, text: str, raw: str) -> None:
    """The command's output, on stderr, each line scrubbed (a command that echoes its
    stdin must not put the key in a CI log) and made safe (`Output.note`)."""
    from lava_cli.credentials import redact

    for line in text.replace(raw, redact(raw)).splitlines():
        app.out.note(f"  {label} | {line}")


def _not_started(program: str, exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{program}: command not found"
    if isinstance(exc, PermissionError):
        return f"{program}: permission denied"
    return f"{program}: cannot execute: {exc.strerror or exc}"


# --- the probe -------------------------------------------------------------------------------


def probe(app: AppContext, raw: str, shape: str) -> Step:
    """Prove the gateway accepts `raw`, for free.

    `GET /v1/models` proves nothing: it needs no key. A real prompt proves it but costs
    money and a request of the key's limits. So: POST the key's own endpoint
    (`/v1/chat/completions`, or `/v1/messages` for an anthropic-shape key) with
    `PROBE_BODY`, which no gateway can serve. An answer from `AFTER_AUTH` (400 for the
    body, usually) means the key was accepted; 401 means it was not. That holds only
    if the gateway checks the key before the body, so a control request with a made-up
    key must get 401 for the same body; if it does not, the probe proves nothing and
    fails. Two requests, neither billed nor counted against the key's limits.
    """
    from lava_cli.credentials import is_raw_spend_key

    path = "/v1/messages" if shape == "anthropic" else "/v1/chat/completions"
    fields: dict[str, Any] = {"request": f"POST {path}", "status": None, "control_status": None}
    started = time.monotonic()

    def step(ok: bool, detail: str) -> Step:
        extra = {} if ok else {"error": detail}
        return Step("probe", ok, time.monotonic() - started, detail, {**fields, **extra})

    if not is_raw_spend_key(raw):
        return step(False, "the new key is not a plain lava_sk_ value; not sent")
    try:
        status = fields["status"] = _status(app, raw, shape)
        if status == 401:
            return step(False, f"POST {path} with the new key: 401, the gateway refused it")
        if status not in AFTER_AUTH and not 200 <= status < 300:
            return step(False, f"POST {path} with the new key: {status}, which proves nothing")
        made_up = "lava_sk_" + secrets.token_urlsafe(30)
        control = fields["control_status"] = _status(app, made_up, shape)
    except UnavailableError as exc:
        return step(False, f"POST {path}: {exc.message}")
    if control != 401:
        return step(
            False,
            f"POST {path}: the new key got {status}, but so did a made-up key ({control}), "
            "so the gateway's answer proves nothing",
        )
    return step(True, f"POST {path}: {status} with the new key, 401 with a made-up one")


def _status(app: AppContext, raw: str, shape: str) -> int:
    gateway = app.gateway(raw, default_timeout=30.0)
    try:
        return gateway.status_for(shape, PROBE_BODY)
    finally:
        gateway.close()
