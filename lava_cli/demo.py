"""`lava demo`: the main job, narrated, against an in-process emulator.

Everything happens in a throwaway config dir and database with the insecure file
store inside it, so the tour works on a headless machine with no keyring and leaves
nothing behind in the user's real config or keyring.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from lava_cli.errors import LavaError

if TYPE_CHECKING:
    from lava_cli.context import AppContext

PROFILE = "demo"


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

    def __init__(self, app: AppContext, pause_s: float) -> None:
        self.app = app
        self.pause_s = pause_s
        self.step = 0

    def say(self, text: str) -> None:
        self.app.out.line(text)

    def section(self, title: str) -> None:
        self.step += 1
        self.say("")
        self.say(f"── {self.step}. {title}")

    def lava(
        self, args: Sequence[str], *, stdin: str | None = None, shown: str | None = None
    ) -> None:
        from lava_cli.main import run

        self.say(f"$ {shown or 'lava ' + shlex.join(args)}")
        code = run(
            ["--profile", PROFILE, *args],
            stdin=io.StringIO(stdin) if stdin is not None else io.StringIO(""),
            stdout=self.app.stdout,
            stderr=self.app.stderr,
        )
        if code != 0:
            raise LavaError(f"the demo step `lava {shlex.join(args)}` failed (exit {code})")
        if self.pause_s:
            time.sleep(self.pause_s)


def run_demo(app: AppContext, *, pause_s: float = 0.0) -> None:
    from lava_cli.cli.emulator import load_emulator

    server = load_emulator()
    with (
        tempfile.TemporaryDirectory(prefix="lava-demo-") as tmp,
        _sandbox_env(tmp),
        server.start_in_thread(db_path=None) as emu,
    ):
        tour = Tour(app, pause_s)
        secret = emu.secrets[0]
        tour.say(f"Lava emulator running at {emu.base_url} (throwaway database and profile).")
        tour.section("Log in with the emulator's secret key (read from stdin, never argv)")
        tour.lava(
            ["--base-url", emu.base_url, "login", "--with-token", "--insecure-storage"],
            stdin=secret + "\n",
            shown=f"lava --base-url {emu.base_url} login --with-token "
            "--insecure-storage < secret.txt",
        )
        tour.lava(["auth", "status"])
        tour.section("Create a spend key with a budget, a model allow-list and an expiry")
        tour.lava(
            [
                "keys", "create", "--name", "demo-agent",
                "--model", "gpt-4o-mini", "--model", "claude-haiku-4-5",
                "--spend-limit", "5/monthly", "--request-limit", "100/daily",
                "--rate-limit", "60/10", "--expires-in", "7d", "--save",
            ]
        )  # fmt: skip
        tour.lava(["keys", "create", "--name", "claude-code", "--shape", "anthropic", "-q"])
        tour.section("List the keys (piped, this is tab-separated; --json for scripts)")
        tour.lava(["keys", "list"])
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
        tour.lava(["keys", "list", "--json"])
        tour.lava(["logout"])
    tour.say("")
    tour.say("Demo finished: the emulator is stopped and its throwaway profile deleted.")
    tour.say("Next: `lava emulator serve` to keep one running, `lava --help` for everything.")
