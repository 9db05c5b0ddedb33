"""`lava demo`: the main job, narrated, against an in-process emulator.

Everything happens in a throwaway config dir and database with the insecure file
store inside it, so the tour works on a headless machine with no keyring and leaves
nothing behind in the user's real config or keyring.

Each step is a real `lava` command line, run in this process by the `Runner` the
command hands in (`lava_cli.cli.app.invoke`): the tour shows exactly what a shell
would, without paying for a new interpreter per step, and this module needs nothing
from the layers above it.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TextIO

from lava_cli.errors import LavaError

if TYPE_CHECKING:
    from lava_cli.context import AppContext

PROFILE = "demo"


class Runner(Protocol):
    """Runs one `lava` command line on the given streams and returns its exit code."""

    def __call__(
        self,
        argv: Sequence[str],
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> int: ...


@dataclass(frozen=True)
class DemoOptions:
    """`lava demo` after parsing: the pause between steps, for presenting it live."""

    pause_s: float = 0.0


# The child of `lava run`: a plain HTTP call to the gateway with the injected variables.
CHILD = """
import json, os, urllib.request
req = urllib.request.Request(
    os.environ["OPENAI_BASE_URL"] + "/chat/completions",
    data=json.dumps({"model": "gpt-4o-mini", "max_tokens": 16,
                     "messages": [{"role": "user", "content": "hi from a CI job"}]}).encode(),
    headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"],
             "Content-Type": "application/json"},
)
reply = json.load(urllib.request.urlopen(req))
print("child got:", reply["choices"][0]["message"]["content"][:40])
"""


@contextlib.contextmanager
def _sandbox_env(config_dir: str) -> Iterator[None]:
    """Point the CLI at a throwaway config dir; hide any real secret from the tour."""
    saved = {
        k: os.environ.get(k)
        for k in ("LAVA_CONFIG_DIR", "LAVA_SECRET_KEY", "LAVA_BASE_URL", "LAVA_PROFILE")
    }
    os.environ["LAVA_CONFIG_DIR"] = config_dir
    for name in ("LAVA_SECRET_KEY", "LAVA_BASE_URL", "LAVA_PROFILE"):
        os.environ.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Tour:
    """Runs `lava` commands in-process, echoing each like a shell session."""

    def __init__(self, app: AppContext, pause_s: float, runner: Runner) -> None:
        self.app = app
        self.pause_s = pause_s
        self.runner = runner
        self.step = 0

    def say(self, text: str) -> None:
        self.app.out.line(text)

    def section(self, title: str) -> None:
        self.step += 1
        self.say("")
        self.say(f"── {self.step}. {title}")

    def lava(
        self,
        args: Sequence[str],
        *,
        stdin: str | None = None,
        shown: str | None = None,
        expect: int = 0,
    ) -> None:
        self.say(f"$ {shown or 'lava ' + shlex.join(args)}")
        code = self.runner(
            ["--profile", PROFILE, *args],
            stdin=io.StringIO(stdin) if stdin is not None else io.StringIO(""),
            stdout=self.app.stdout,
            stderr=self.app.stderr,
        )
        if code != expect:
            raise LavaError(f"the demo step `lava {shlex.join(args)}` failed (exit {code})")
        if expect:
            self.say(f"  (exit {code}, as expected)")
        if self.pause_s:
            time.sleep(self.pause_s)


def run(app: AppContext, opts: DemoOptions, runner: Runner) -> None:
    """Start a throwaway emulator and profile, tour the main job, leave nothing behind."""
    from lava_cli.ops.emulator import load_emulator

    server = load_emulator()
    with (
        tempfile.TemporaryDirectory(prefix="lava-demo-") as tmp,
        _sandbox_env(tmp),
        server.start_in_thread(db_path=None) as emu,
    ):
        tour = Tour(app, opts.pause_s, runner)
        tour.say(f"Lava emulator running at {emu.base_url} (throwaway database and profile).")
        _log_in(tour, emu.base_url, emu.secrets[0])
        _create_keys(tour)
        _spend(tour)
        _block(tour)
        _hand_over(tour)
        _manage(tour)
    tour.say("")
    tour.say("Demo finished: the emulator is stopped and its throwaway profile deleted.")
    tour.say("Next: `lava emulator serve` to keep one running, `lava --help` for everything.")


def _log_in(tour: Tour, base_url: str, secret: str) -> None:
    tour.section("Log in with the emulator's secret key (read from stdin, never argv)")
    tour.lava(
        ["--base-url", base_url, "login", "--with-token", "--insecure-storage"],
        stdin=secret + "\n",
        shown=f"lava --base-url {base_url} login --with-token --insecure-storage < secret.txt",
    )
    tour.lava(["auth", "status"])


def _create_keys(tour: Tour) -> None:
    tour.section("Create a spend key with a budget, a model allow-list and an expiry")
    tour.lava(
        [
            "keys", "create", "--name", "demo-agent",
            "--model", "gpt-4o-mini", "--model", "claude-haiku-4-5",
            "--spend-limit", "5/monthly", "--request-limit", "100/daily",
            "--rate-limit", "60/10", "--expires-in", "7d", "--save",
        ]
    )  # fmt: skip
    tour.lava(
        ["keys", "create", "--name", "claude-code", "--shape", "anthropic", "--save", "-q"],
        shown="lava keys create --name claude-code --shape anthropic --save -q",
    )
    tour.section(
        "List the keys (a table on a terminal, tab-separated rows in a pipe, --json for scripts)"
    )
    tour.lava(["keys", "list"])


def _spend(tour: Tour) -> None:
    tour.section("Send a prompt through the gateway with the key; the reply streams")
    tour.lava(["prompt", "--key", "demo-agent", "--usage", "Say hello to Lava spend keys"])
    tour.lava(["prompt", "--key", "demo-agent", "--usage", "And once more, with feeling"])
    tour.say("The key's spend moved:")
    tour.lava(["keys", "show", "demo-agent"])


def _block(tour: Tour) -> None:
    tour.section("Blocked: a model the key does not allow")
    tour.lava(["prompt", "--key", "demo-agent", "--model", "gpt-4o", "hi"], expect=5)
    tour.section("Blocked: a spend limit reached (a 1-cent daily budget on an expensive model)")
    tour.lava(
        ["keys", "create", "--name", "tiny", "--model", "claude-opus-4-6",
         "--spend-limit", "0.01/daily", "--save", "-q"],
        shown="lava keys create --name tiny --model claude-opus-4-6 "
        "--spend-limit 0.01/daily --save -q",
    )  # fmt: skip
    spend = ["prompt", "--key", "tiny", "--model", "claude-opus-4-6", "--no-stream"]
    tour.lava([*spend, "--usage", "Write a haiku about budgets"])
    tour.lava(
        [*spend, "Summarise this report"],
        stdin="quarterly numbers " * 1500,
        shown="lava prompt --key tiny --model claude-opus-4-6 --no-stream "
        "'Summarise this report' < report.txt",
        expect=5,
    )


def _hand_over(tour: Tour) -> None:
    tour.section("Plug a key into a tool: Claude Code reads these variables")
    tour.lava(["env", "claude-code", "--key", "claude-code"])
    tour.say('  (in your shell: eval "$(lava env claude-code --key claude-code)")')
    tour.section("Run a command on a budgeted key that is revoked when it exits")
    tour.lava(
        ["run", "--spend-limit", "0.50/total", "--", sys.executable, "-c", CHILD],
        shown="lava run --spend-limit 0.50/total -- python child.py  # calls the gateway",
    )
    tour.section("Where the money went: every key against its limits, and the wallet")
    tour.lava(["usage"])
    tour.lava(["usage", "demo-agent"])


def _manage(tour: Tour) -> None:
    tour.section("Pause and resume a key")
    tour.lava(["keys", "pause", "demo-agent", "-q"])
    tour.lava(["keys", "resume", "demo-agent", "-q"])
    tour.section("Raise the budget: only what changed is sent")
    tour.lava(["keys", "update", "demo-agent", "--spend-limit", "20/monthly", "-q"])
    tour.section("Rotate: a new secret value, same limits and history; the old value dies")
    tour.lava(
        ["keys", "rotate", "demo-agent", "-q"],
        shown="lava keys rotate demo-agent -q  # prints the new key",
    )
    tour.section("Revoke for good (scripts pass --yes; a terminal asks)")
    tour.lava(["keys", "revoke", "claude-code", "--yes"])
    tour.lava(["keys", "list", "-q"])
    tour.lava(["logout"])
