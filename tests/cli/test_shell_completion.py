"""TAB in real shells: values, not only names, and paths where a command takes paths.

Each test presses TAB in bash and zsh (interactive, on a pseudo-terminal) and asks
fish, with the committed scripts from completions/ and the `lava` console script.
Values come from the same places a user's would: the tool catalogue and the flags'
choices (from the generated index), profiles and saved keys from config.json, model
ids from the catalogue cache; never the network or the keyring (the config here has
no secret, no server, and the keyring is the null one).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.helpers.env import NULL_KEYRING, clean_env
from tests.helpers.shells import fish_complete, fish_complete_rows, shell_env, tab

pytestmark = pytest.mark.slow  # interactive shells and a `lava` per TAB

SHELLS = ("bash", "zsh", "fish")
CONFIG = {
    "profiles": {
        "default": {
            "saved_keys": {
                "sk_aaaaaaaaaaaaaaaaaaaaaaaa": {"name": "claude", "request_shape": "anthropic"}
            }
        },
        "work": {},
    }
}
CATALOGUE = {
    "version": 1,
    "catalogues": {
        "https://api.lava.so/v1": {
            "fetched_at": 0,
            "models": {"gpt-4o-mini": "openai"},
            "providers": ["openai"],
        }
    },
}


@pytest.fixture
def home(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """(environment, working directory): a config with a saved key and two profiles, a
    cached catalogue, and a directory with files to complete."""
    config = tmp_path / "config"
    (config / "cache").mkdir(parents=True)
    (config / "config.json").write_text(json.dumps(CONFIG))
    (config / "cache" / "catalogue.json").write_text(json.dumps(CATALOGUE))
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "alpha.txt").write_text("")
    env = clean_env(
        LAVA_CONFIG_DIR=str(config), PYTHON_KEYRING_BACKEND=NULL_KEYRING, HOME=str(tmp_path)
    )
    return env, work


def offered(shell: str, line: str, expect: str, home: tuple[dict[str, str], Path]) -> str:
    """What `shell` shows (or, for fish, offers) after `line` + TAB."""
    require_tool(shell)
    env, cwd = home
    if shell == "fish":
        return "\n".join(fish_complete(line, env=env, cwd=cwd))
    return tab(shell, line, expect, env=env, cwd=cwd)


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("lava env claude-c", "claude-code"),  # tool ids
        ("lava keys create --shape anth", "anthropic"),
        ("lava env claude-code --shell fi", "fish"),
        ("lava keys create --name x --format git", "github"),
        ("lava keys create --spend-limit 5/mo", "5/monthly"),  # cycles after the amount
        ("lava keys list --profile wo", "work"),  # profiles from config.json
        ("lava keys show cla", "claude"),  # saved keys' names, no network
        ("lava prompt --key cla", "claude"),
        ("lava prompt --model gpt-4o-m", "gpt-4o-mini"),  # from the catalogue cache
    ],
)
def test_tab_completes_values(
    shell: str, line: str, expect: str, home: tuple[dict[str, str], Path]
) -> None:
    assert expect in offered(shell, line, expect, home)


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    "line",
    [
        "lava run -- cat alp",  # the command's own arguments
        "lava emulator serve --db alp",
        "lava emulator serve --secrets-file alp",
    ],
)
def test_tab_completes_paths_where_a_path_goes(
    shell: str, line: str, home: tuple[dict[str, str], Path]
) -> None:
    assert "alpha.txt" in offered(shell, line, "alpha.txt", home)


def test_fish_descends_into_directories(home: tuple[dict[str, str], Path]) -> None:
    require_tool("fish")
    env, cwd = home
    assert fish_complete("lava run -- cat su", env=env, cwd=cwd) == ["sub/"]


@pytest.mark.parametrize("shell", ("zsh", "fish"))
def test_command_summaries_are_whole(shell: str, home: tuple[dict[str, str], Path]) -> None:
    """The shells that show descriptions get each command's whole summary (Typer's
    own cut them at 45 characters)."""
    require_tool(shell)
    env, cwd = home
    whole = "Revoke a key for good: it stops working at once and cannot be restored."
    if shell == "fish":
        rows = fish_complete_rows("lava keys re", env=env, cwd=cwd)
        assert f"revoke\t{whole}" in rows
    else:
        assert whole in tab(shell, "lava keys re", "cannot be restored.", env=env, cwd=cwd)


def test_install_completion_installs_lavas_fish_script(tmp_path: Path) -> None:
    """`lava --install-completion` in fish writes the script completions/ has, not
    Typer's own (whose `--no-files` may keep paths away)."""
    fish = require_tool("fish")
    env = shell_env(clean_env(HOME=str(tmp_path)))
    done = subprocess.run(
        [fish, "--no-config", "-c", "lava --install-completion"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    installed = tmp_path / ".config" / "fish" / "completions" / "lava.fish"
    committed = Path(__file__).resolve().parents[2] / "completions" / "lava.fish"
    assert installed.read_text().strip() == committed.read_text().strip()
    assert "__fish_complete_path" in installed.read_text()
