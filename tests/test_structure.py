"""Architecture held by tests: start-up paths stay light, completions stay fresh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.env import clean_env

pytestmark = pytest.mark.slow  # start-up probes and generators run as fresh Python processes

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("httpx", "rich", "keyring", "starlette", "uvicorn", "pydantic", "click", "pygments")

PROBE = """
import json, sys
args, watched = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["lava", *args]
from lava_cli.main import main
try:
    main()
except SystemExit:
    pass
finally:
    heavy = sorted({m.split('.')[0] for m in sys.modules} & watched)
    sys.__stderr__.write("LOADED=" + json.dumps(heavy) + "\\n")
"""


def probe(
    args: list[str], watch: tuple[str, ...] = HEAVY, **env: str
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run `lava ARGS` in a fresh process: which of the `watch` packages it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(watch)],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=60,
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED=")][-1]
    return json.loads(line.removeprefix("LOADED=")), proc


def loaded_after(args: list[str], **env: str) -> list[str]:
    return probe(args, **env)[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["--help"],
        ["keys", "--help"],
        ["keys", "create", "--help"],
        ["keys", "create", "--name", "x", "--spend-limit", "5"],  # usage error
    ],
)
def test_light_paths_import_nothing_heavy(args):
    assert loaded_after(args) == []


def test_tab_completion_imports_nothing_heavy():
    env = {"_LAVA_COMPLETE": "complete_bash", "COMP_WORDS": "lava keys cr", "COMP_CWORD": "2"}
    assert loaded_after([], **env) == []


def test_env_secret_means_keyring_is_never_imported():
    # No server on port 9: the command fails fast, but keyring must stay unloaded.
    loaded = loaded_after(
        ["keys", "list"],
        LAVA_SECRET_KEY="aks_test_" + "x" * 32,
        LAVA_BASE_URL="http://127.0.0.1:9/v1",
        LAVA_MAX_RETRIES="0",
    )
    assert "keyring" not in loaded
    assert "httpx" in loaded  # sanity: the probe does see real imports
    # The dev venv has click (uvicorn needs it): httpx must not load its own CLI with it.
    assert "click" not in loaded and "pygments" not in loaded


def test_env_secret_list_json_needs_no_store_no_config_and_no_rich(emulator):
    # LAVA_SECRET_KEY and LAVA_BASE_URL answer everything `keys list --json` needs: no
    # keyring, no config file (nor platformdirs to find it, nor filelock), no rich.
    loaded, proc = probe(
        ["keys", "list", "--json"],
        (*HEAVY, "platformdirs", "filelock"),
        LAVA_SECRET_KEY=emulator.secrets[0],
        LAVA_BASE_URL=emulator.base_url,
    )
    assert json.loads(proc.stdout) == [], proc.stderr  # it did ask the emulator
    assert "httpx" in loaded
    assert not {"keyring", "platformdirs", "filelock", "rich"} & set(loaded)


def test_completion_returns_subcommands():
    env = {
        **os.environ,
        "_LAVA_COMPLETE": "complete_bash",
        "COMP_WORDS": "lava keys r",
        "COMP_CWORD": "2",
    }
    code = "import sys; sys.argv[0] = 'lava'; from lava_cli.main import main; main()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert set(out.stdout.split()) == {"resume", "rotate", "revoke"}


def test_completion_scripts_are_fresh(tmp_path):
    scripts, index = tmp_path / "completions", tmp_path / "index.py"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "gen_completions.py"),
            *("--out", str(scripts), "--index", str(index)),
        ],
        check=True,
        capture_output=True,
    )
    pairs = [(ROOT / "completions" / f.name, f) for f in scripts.iterdir()]
    pairs.append((ROOT / "lava_cli" / "completion" / index.name, index))
    for committed, generated in pairs:
        assert committed.read_text() == generated.read_text(), (
            f"{committed.relative_to(ROOT)} is stale: run `make completions`"
        )


def test_root_help_summaries_match_the_commands_docstrings():
    import importlib

    from lava_cli.cli.root import COMMANDS

    for name, spec in COMMANDS.items():
        target = getattr(importlib.import_module(spec.module), spec.attr)
        doc = (target.info.help if spec.group else target.__doc__) or ""
        assert doc.strip().splitlines()[0] == spec.summary, f"`lava {name}` summary is stale"


def test_running_one_command_loads_only_its_module():
    probe = (
        "import sys; sys.argv=['lava','keys','--help']\n"
        "from lava_cli.main import main\n"
        "try: main()\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('lava_cli.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().splitlines()[-1]
    assert "lava_cli.cli.keys" in loaded
    for other in ("prompt", "env", "run", "usage", "doctor", "emulator", "auth"):
        assert f"lava_cli.cli.{other}'" not in loaded


def test_cli_reference_is_fresh(tmp_path):
    out = tmp_path / "cli.md"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    committed = (ROOT / "docs" / "cli.md").read_text()
    assert committed == out.read_text(), "docs/cli.md is stale: run `make docs`"
