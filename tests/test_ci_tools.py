"""`require_tool`: a missing system program skips a test locally and fails it under
CI=true, so a green CI run means the shell, browser and node tests ran."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import CI_DEPS_SCRIPT, CI_TOOLS, require_tool

ROOT = Path(__file__).resolve().parents[1]


def test_a_missing_tool_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.skip.Exception, match=CI_DEPS_SCRIPT):
        require_tool("fish")


@pytest.mark.parametrize("tool", sorted(CI_TOOLS))
def test_a_missing_tool_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tool: str) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.fail.Exception, match=CI_DEPS_SCRIPT):
        require_tool(tool)
    with pytest.raises(pytest.fail.Exception, match="chromium"):
        require_tool("chromium", path="/nonexistent/chromium")


def test_pwsh_stays_a_skip_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("PATH", "")
    with pytest.raises(pytest.skip.Exception):
        require_tool("pwsh")


def test_a_present_tool_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert Path(require_tool("sh")).name == "sh"


def test_ci_installs_exactly_the_tools_ci_requires() -> None:
    script = (ROOT / CI_DEPS_SCRIPT).read_text()
    want = re.search(r"declare -A WANT=\((.*)\)", script)
    assert want is not None
    assert set(re.findall(r"\[(\w+)\]=", want.group(1))) == CI_TOOLS
    assert re.search(r"^export CI=true$", (ROOT / ".ci/run").read_text(), re.MULTILINE)
