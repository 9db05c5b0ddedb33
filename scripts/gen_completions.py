"""Regenerate completions/ from the CLI itself (`make completions`).

The scripts are what Typer prints for `_LAVA_COMPLETE=source_<shell> lava`; a test
fails when the committed copies differ, so they never go stale.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = {"bash": "lava.bash", "zsh": "_lava", "fish": "lava.fish", "powershell": "lava.ps1"}


def generate(shell: str) -> str:
    env = {**os.environ, "_LAVA_COMPLETE": f"source_{shell}"}
    code = "import sys; sys.argv[0] = 'lava'; from lava_cli.main import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "completions")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for shell, name in SHELLS.items():
        (args.out / name).write_text(generate(shell), encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
