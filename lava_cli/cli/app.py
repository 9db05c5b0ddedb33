"""Run `lava` in-process: argv in, an exit code out, every exception mapped to one
error line and a documented exit code.

Two callers: the console script (`main.py`, which adds the fast paths and exits) and
`lava demo`, which runs each step of its tour through `invoke` in the same process
(fast, and the tour shows exactly what a user's shell would). `invoke` never exits
the process and never raises, but for the SystemExit of shell completion, which
Typer raises itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from lava_cli.errors import ExitCode, LavaError, UsageError

if TYPE_CHECKING:
    from lava_cli.context import AppContext


@contextlib.contextmanager
def _streams(stdin: TextIO | None, stdout: TextIO | None, stderr: TextIO | None) -> Iterator[None]:
    """Point sys.std* at the given streams for the run (Typer writes help there)."""
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = stdin or sys.stdin
    sys.stdout = stdout or sys.stdout
    sys.stderr = stderr or sys.stderr
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


def print_error(err: LavaError, stderr: TextIO, app: AppContext | None) -> None:
    """`error:` and `hint:` lines, through the run's Output when there is one."""
    if app is not None:
        try:
            app.out.error(err)
            return
        except Exception:  # noqa: S110 - rendering must never hide the error itself
            pass
    from lava_cli.credentials import scrub
    from lava_cli.safetext import printable

    stderr.write(f"error: {printable(scrub(err.message))}\n")
    if err.hint:
        stderr.write(f"hint: {printable(scrub(err.hint))}\n")


# Every secret and key prefix (credentials.SPEND_KEY_PREFIX, MANAGEMENT_PREFIXES) starts
# with one of these; a test keeps it so. A command line without them needs no closer
# look, and `--help` or a usage error then never imports credentials (nor config).
ARGV_MARKERS = ("aks_", "lava_")


def _secret_in_argv(argv: Sequence[str]) -> UsageError | None:
    """A secret on the command line is refused before anything runs (it is in `ps`)."""
    if not any(marker in word for word in argv for marker in ARGV_MARKERS):
        return None
    from lava_cli.credentials import secret_in_argv

    leaked = secret_in_argv(argv)
    if leaked is None:
        return None
    from lava_cli.credentials import redact

    return UsageError(
        f"a secret was passed on the command line ({redact(leaked)}); "
        "it is now in your shell history and visible in `ps`",
        hint="secrets come from the keyring, LAVA_SECRET_KEY / LAVA_SPEND_KEY, or "
        "stdin (`lava login --with-token`); rotate this one if it was real",
    )


def _run_command(argv: Sequence[str], holder: list[AppContext]) -> int:
    """Build the click command and run it; the AppContext it creates lands in `holder`."""
    from lava_cli.cli.root import build

    command = build(holder)
    code = command.main(args=list(argv), prog_name="lava", standalone_mode=False)
    if code == ExitCode.INTERRUPTED:
        # Typer turns Ctrl-C into Exit(130) before it reaches invoke's handler.
        sys.stderr.write("\ninterrupted\n")
    return int(code) if isinstance(code, int) else ExitCode.OK


def _lava_error(err: LavaError, stderr: TextIO, app: AppContext | None) -> int:
    """A typed failure: a shown-once key it carries goes to stdout first, then the error."""
    if err.shown_once:
        from lava_cli.safetext import printable

        sys.stdout.write(printable(err.shown_once) + "\n")
        sys.stdout.flush()
    print_error(err, stderr, app)
    return err.exit_code


def invoke(
    argv: Sequence[str],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run `lava` with `argv` on the given streams and return the exit code."""
    with _streams(stdin, stdout, stderr):
        err_stream = sys.stderr
        refused = _secret_in_argv(argv)
        if refused is not None:
            print_error(refused, err_stream, None)
            return refused.exit_code
        holder: list[AppContext] = []
        try:
            return _run_command(argv, holder)
        except LavaError as err:
            return _lava_error(err, err_stream, holder[0] if holder else None)
        except KeyboardInterrupt:
            err_stream.write("\ninterrupted\n")
            return ExitCode.INTERRUPTED
        except BrokenPipeError:
            # The reader went away (`lava keys list | head -1`): not our failure.
            with contextlib.suppress(Exception):
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
            return ExitCode.OK
        except Exception as exc:
            return click_or_crash(exc, err_stream)
        finally:
            for app in holder:
                with contextlib.suppress(Exception):
                    app.close()


def click_or_crash(exc: Exception, stderr: TextIO) -> int:
    """Typer's usage errors become our one-line form; anything else is a bug report."""
    from typer._click import exceptions as click_exc
    from typer.exceptions import Abort, Exit

    from lava_cli.credentials import scrub
    from lava_cli.safetext import printable

    if isinstance(exc, Exit):
        return exc.exit_code
    if isinstance(exc, Abort):
        stderr.write("\ninterrupted\n")
        return ExitCode.INTERRUPTED
    if isinstance(exc, click_exc.NoArgsIsHelpError) and exc.ctx is not None:
        # `lava`, `lava keys`: asking what there is, not a mistake (gh does the same).
        sys.stdout.write(exc.ctx.get_help() + "\n")
        return ExitCode.OK
    if isinstance(exc, click_exc.UsageError):
        ctx = exc.ctx
        where = f"{ctx.command_path} --help" if ctx is not None else "lava --help"
        # The message quotes argv, which may hold anything a shell can pass.
        message = printable(scrub(exc.format_message()))
        stderr.write(f"error: {message}\nhint: see `{printable(where)}`\n")
        return ExitCode.USAGE
    if isinstance(exc, click_exc.ClickException):
        stderr.write(f"error: {printable(scrub(exc.format_message()))}\n")
        return ExitCode.USAGE
    if os.environ.get("LAVA_DEBUG"):
        import traceback

        # Exception texts can carry a secret: the debug traceback is scrubbed too.
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        stderr.write(printable(scrub("".join(lines)), multiline=True))
    else:
        stderr.write(
            f"error: unexpected {type(exc).__name__}: {printable(scrub(str(exc))[:200])}\n"
            "hint: this is a bug in lava; re-run with LAVA_DEBUG=1 to see the traceback "
            "and report it\n"
        )
    return ExitCode.API_ERROR
