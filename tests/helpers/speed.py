"""Keeps the `slow` marker true, so `make check` (`pytest -m "not slow"`) stays fast.

A pytest plugin (registered by tests/conftest.py):

- A test not marked `slow` that starts a process (``subprocess``, ``os.posix_spawn``,
  ``os.fork``) fails at teardown, naming the command: a child Python costs 0.1-0.5 s on
  a loaded machine, and that is what `slow` means. Mark the test (or its file, with
  ``pytestmark = pytest.mark.slow``) and it runs in `make test` only.
- After a run, tests not marked `slow` that took over SLOW_S are listed, so the next
  person sees what to mark or speed up. (A list, not a failure: time on a loaded
  machine is not deterministic; a process start is.)

The guard is a Python audit hook (PEP 578): it sees every process start, whichever
library makes it, without patching anything.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SLOW_S = 1.0
_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.fork", "os.exec"})


class _Watch:
    active = False
    started: list[str] = []  # noqa: RUF012  (one process-wide watch)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _Watch.active and event in _SPAWN_EVENTS:
        what = args[1] if event == "subprocess.Popen" and len(args) > 1 else args[:2]
        _Watch.started.append(f"{event} {what!r}"[:200])


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def _fast_tests_start_no_process(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("slow"):
        yield
        return
    _Watch.started.clear()
    _Watch.active = True
    try:
        yield
    finally:
        _Watch.active = False
    if _Watch.started:
        pytest.fail(
            f"this test is not marked slow but started a process ({_Watch.started[0]}): "
            "add @pytest.mark.slow (see tests/helpers/speed.py)",
            pytrace=False,
        )


# `pytestmark = pytest.mark.slow` (alone or in a list) at the start of a line.
_SLOW_MODULE = re.compile(r"^pytestmark\s*=.*\bpytest\.mark\.slow\b", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under `-m "not slow"` (make check), a test module marked slow as a whole is not
    even imported: every test in it would be deselected, and importing some of them
    costs seconds (the official SDKs, schemathesis, playwright)."""
    if config.getoption("markexpr", "") != "not slow":
        return None
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    try:
        text = collection_path.read_text(encoding="utf-8")
    except OSError:
        return None
    return True if _SLOW_MODULE.search(text) else None


_durations: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "slow" not in report.keywords:
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    over = sorted(((s, n) for n, s in _durations.items() if s > SLOW_S), reverse=True)
    if over:
        terminalreporter.section(f"tests not marked slow that took over {SLOW_S:g} s")
        for seconds, nodeid in over:
            terminalreporter.write_line(f"{seconds:6.2f}s {nodeid}")
        terminalreporter.write_line("mark them @pytest.mark.slow or make them faster")
