"""Shared fixtures: isolation from the user's real config and keyring, an in-memory
keyring, a session-wide emulator on a real loopback port, `run_lava`, and stand-in
servers (`raw_server`, `proxy`, `relay`).

Shared helpers too: `require_tool` (a system program a test needs: skipped locally,
a failure under CI=true) and the ready signals tests wait on before they act or send
a signal (`wait_for`, `reading_stdin`), instead of sleeping a guessed time. The rest
of the shared machinery (child processes, stand-in servers, the fake clock) lives in
tests/helpers/; a test never imports from another test folder.
"""

from __future__ import annotations

import io
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.null import Keyring as NullKeyring

from lava_cli.main import run
from tests.helpers.process import Result
from tests.helpers.servers import Handler, Intercept, RawServer, RecordingProxy, Relay

# The `slow` marker's guard and the list of fast tests that got slow (make check).
pytest_plugins = ["tests.helpers.speed", "pytester"]  # pytester: tests/test_speed.py


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


# The test process never touches this machine's keyring: each test gets a MemoryKeyring
# (the autouse `isolated` below), and before the first one, the null backend. That also
# spares keyring's backend discovery, which costs ~0.3 s and, on Linux, starts ldconfig,
# gcc and ld (its macOS backend calls ctypes' find_library at import).
keyring.set_keyring(NullKeyring())


class FakeTTY(io.StringIO):
    """A StringIO that says it is a terminal, to exercise the human paths."""

    def isatty(self) -> bool:
        return True


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


@pytest.fixture
def raw_server() -> Iterator[Callable[[Handler], RawServer]]:
    """Start misbehaving stand-in servers (tests/helpers/servers.py); closed after the test."""
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def relay(logged_in: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Relay]]:
    """Put a `Relay` (tests/helpers/servers.py) between the CLI and the session emulator:
    LAVA_BASE_URL points at it, so a test sees every request a command sends and can
    answer one itself, or lose its answer. `relay(intercept=None, lose=None)` starts one;
    closed after the test."""
    relays: list[Relay] = []

    def start(
        intercept: Intercept | None = None, lose: Callable[[str, str], bool] | None = None
    ) -> Relay:
        relays.append(Relay(logged_in.root_url, intercept, lose))  # type: ignore[attr-defined]
        monkeypatch.setenv("LAVA_BASE_URL", relays[-1].base_url)
        return relays[-1]

    yield start
    for one in relays:
        one.close()


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    """A stand-in proxy: it stands in for the internet this machine lacks, and names
    the host each request was for (tests/helpers/servers.py)."""
    stand_in = RecordingProxy()
    yield stand_in
    stand_in.close()


# --- system tools ----------------------------------------------------------------------

CI_DEPS_SCRIPT = "scripts/ci_system_deps.sh"
# Programs scripts/ci_system_deps.sh installs: under CI their absence is a failure.
CI_TOOLS = frozenset({"chromium", "fish", "zsh", "node"})


def under_ci() -> bool:
    """CI=true (GitHub Actions, GitLab and `.ci/run` set it): green must mean "ran"."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def require_tool(name: str, *, path: str | None = None) -> str:
    """The path of system program `name` (or of the file `path`), which a test needs.

    Missing, the test is skipped on a developer's machine but FAILS under CI=true: a
    green CI run must mean the shell, browser and node tests really ran, not that they
    were skipped. CI installs them with scripts/ci_system_deps.sh.

    pwsh is the exception, a skip everywhere: it is not packaged for this CI image
    (Debian has no `powershell` package), so `render_shell`'s PowerShell output is
    checked by a reference reader instead (tests/cli/test_tools_render.py).
    """
    found = path if path is not None and os.access(path, os.X_OK) else None
    if path is None:
        found = shutil.which(name)
    if found is not None:
        return found
    what = path or name
    if name in CI_TOOLS and under_ci():
        pytest.fail(
            f"{what} is missing under CI=true: run `bash {CI_DEPS_SCRIPT}` (as root) in the "
            "CI job before the tests, or fix what stops it installing",
            pytrace=False,
        )
    hint = f"bash {CI_DEPS_SCRIPT}" if name in CI_TOOLS else f"install {name}"
    pytest.skip(f"{what} is not installed ({hint})", allow_module_level=True)


# --- ready signals -----------------------------------------------------------------------


def wait_for(ready: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll `ready` until it is true: a file appeared, a line was printed, a server
    got a request. Fails naming `what` after `timeout` seconds (generous: this
    machine is loaded), never hangs."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


# read(2)'s number per architecture, for /proc/PID/syscall.
_READ_SYSCALL = {"x86_64": 0, "aarch64": 63}


def reading_stdin(pid: int) -> bool:
    """True while process `pid` is blocked in read(0, …): the ready signal for "it is
    waiting on stdin" (Linux; the caller skips where /proc/PID/syscall is missing)."""
    number = _READ_SYSCALL.get(platform.machine())
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return number is not None and len(fields) > 1 and fields[:2] == [str(number), "0x0"]


def can_see_syscalls() -> bool:
    return platform.machine() in _READ_SYSCALL and Path("/proc/self/syscall").exists()
