"""What a terminal shows, in real pseudo-terminals of 80, 100 and 200 columns: the
`keys list` table (one line per key, ids whole, names shortened, columns given up by
priority, a preview column when wide) and `lava env`'s instructions; and `lava env`'s
fish output in a real fish."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from tests.conftest import require_tool
from tests.helpers.terminal import lava_env, run_lava_process

pytestmark = pytest.mark.slow  # every test starts `lava` in a pseudo-terminal

LONG = "nightly integration pipeline, project x (eu)"
TWO_LINES = "two\nlines"


@pytest.fixture
def wallet(emulator: object, tmp_path: Path) -> dict[str, str]:
    return lava_env(
        LAVA_SECRET_KEY=emulator.secrets[0],  # type: ignore[attr-defined]
        LAVA_BASE_URL=emulator.base_url,  # type: ignore[attr-defined]
        LAVA_CONFIG_DIR=str(tmp_path / "config"),
        NO_COLOR="1",
    )


def make_keys(env: dict[str, str], long: str = LONG) -> list[dict[str, object]]:
    """Three keys through the API: a long name, a name with a newline, a limited one."""
    auth = {"Authorization": f"Bearer {env['LAVA_SECRET_KEY']}"}
    bodies = [
        {"name": long},
        {"name": TWO_LINES},
        {"name": "ci", "spend_limit": {"amount": "25.00", "cycle": "monthly"},
         "expires_at": (datetime.now(timezone.utc) + timedelta(days=7)).isoformat()},
    ]  # fmt: skip
    with httpx.Client(base_url=env["LAVA_BASE_URL"], headers=auth) as client:
        made = [client.post("/spend_keys", json=body) for body in bodies]
    assert all(r.status_code == 201 for r in made)
    return [r.json() for r in made]


def table(env: dict[str, str], columns: int) -> tuple[list[str], list[list[str]]]:
    ran = run_lava_process(["keys", "list"], env, terminal=True, columns=columns)
    assert ran.code == 0, ran.output
    lines = ran.stdout.rstrip("\n").split("\n")
    assert all(len(line) <= columns for line in lines), "\n" + ran.stdout
    return lines, [line.split() for line in lines]


@pytest.mark.parametrize("columns", [80, 100, 200])
def test_keys_list_fits_the_terminal_one_line_per_key(wallet, columns):
    keys = make_keys(wallet)
    lines, words = table(wallet, columns)
    assert len(lines) == 1 + len(keys)  # a header, then one line per key: nothing wraps
    header = words[0]
    assert header[:3] == ["id", "name", "status"]
    for key in keys:  # every id whole, at the start of its own line
        assert sum(line.startswith(str(key["spend_key_id"]) + " ") for line in lines[1:]) == 1
    assert any(row[1].startswith("two\\n") for row in words)  # shows, never splits a row
    long_row = next(line for line in lines if "nightly" in line)
    if columns < 200:
        assert LONG not in long_row and "…" in long_row  # shortened, with an ellipsis
    for column in ("spend", "expires"):
        assert column in header  # what a key costs and when it ends stay at 80
    if columns == 80:
        assert "shape" not in header and "preview" not in header  # given up first
    if columns == 200:
        assert LONG in long_row  # room enough: the whole name
        assert header[-1] == "preview"
        assert all(str(k["key_preview"]) in "\n".join(lines) for k in keys)


def test_a_cut_id_is_never_shown_so_it_always_resolves(wallet):
    keys = make_keys(wallet, "a very long key name for the nightly integration pipeline of x")
    _, words = table(wallet, 80)
    shown_ids = {row[0] for row in words[1:]}
    assert shown_ids == {k["spend_key_id"] for k in keys}
    for kid in shown_ids:
        ran = run_lava_process(["keys", "show", kid], wallet, terminal=False)
        assert ran.code == 0, ran.output


def test_env_instructions_show_snippets_and_each_warning_once(wallet):
    codex = run_lava_process(["env", "codex"], wallet, terminal=True, columns=100)
    assert codex.code == 3  # no key: the layout with a placeholder, and no success
    warning = "Recent Codex versions speak only the Responses API"
    assert (codex.stdout + codex.stderr).count(warning) == 1
    assert "── ~/.codex/config.toml\n" in codex.stdout  # the path once, not twice
    for tool, snippet in (("vercel-ai-sdk", "createOpenAI"), ("langchain", "ChatOpenAI(")):
        shown = run_lava_process(["env", tool], wallet, terminal=True, columns=100)
        assert snippet in shown.stdout, shown.output
        assert "export OPENAI_API_KEY=" in shown.stdout or "export LAVA_SPEND_KEY=" in shown.stdout


def test_fish_source_ends_with_status_0_so_and_runs(wallet, tmp_path):
    fish = require_tool("fish")
    env = {**wallet, "LAVA_SPEND_KEY": "lava_sk_" + "e" * 40}
    ran = run_lava_process(["env", "claude-code", "--shell", "fish"], env, terminal=False)
    assert ran.code == 0, ran.output
    script = tmp_path / "env.fish"
    script.write_text(ran.stdout)
    # `set -e` of an unset variable leaves $status 4, and `set` keeps $status; `false`
    # first: a failing status from before must not leak through either.
    program = f"false; cat {script} | source; and echo ran; echo $ANTHROPIC_AUTH_TOKEN"
    done = subprocess.run(
        [fish, "--no-config", "-c", program],
        env={k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == ["ran", env["LAVA_SPEND_KEY"]], done.stderr
