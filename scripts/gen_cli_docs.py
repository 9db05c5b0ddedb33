"""Regenerate docs/cli.md from the CLI's own --help (`make docs`).

The reference is what `lava … --help` prints, for every command and subcommand; a
test fails when the committed file differs, so the docs cannot drift from the code.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def help_text(args: list[str]) -> str:
    from lava_cli.main import run

    out = io.StringIO()
    run([*args, "--help"], stdout=out, stderr=io.StringIO())
    return out.getvalue().rstrip() + "\n"


def render() -> str:
    from lava_cli.cli.root import COMMANDS, load_command

    os.environ["COLUMNS"] = "80"  # stable wrapping, whatever the terminal: a default one
    parts = [
        "# `lava` command reference",
        "",
        "Generated from `--help` by `make docs` (scripts/gen_cli_docs.py); do not edit.",
        "",
        "```text",
        help_text([]).rstrip(),
        "```",
    ]
    for name, spec in COMMANDS.items():
        parts += ["", f"## lava {name}", "", "```text", help_text([name]).rstrip(), "```"]
        if spec.group:
            group = load_command(name, spec)
            for sub in group.list_commands(None):
                parts += [
                    "",
                    f"### lava {name} {sub}",
                    "",
                    "```text",
                    help_text([name, sub]).rstrip(),
                    "```",
                ]
    return "\n".join(parts) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "cli.md")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
