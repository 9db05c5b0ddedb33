"""The console script: answers `--version` and TAB before anything loads, then runs
the CLI (`lava_cli.cli.app.invoke`) and exits with its code. The only `sys.exit` in
the package.
"""

from __future__ import annotations

import os
import sys

# `typing` and `collections.abc` cost ~10 ms, most of a TAB press's own time; the
# annotations below are strings (PEP 563), so only a type checker needs them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn, TextIO


def run(argv: Sequence[str], **streams: TextIO | None) -> int:
    """Run `lava` in-process and return the exit code: `lava_cli.cli.app.invoke`, with
    the same `stdin`/`stdout`/`stderr` keywords, imported only when called so that
    `--version` and TAB never load the command machinery."""
    from lava_cli.cli.app import invoke

    return invoke(argv, **streams)


def main() -> NoReturn:
    """Console-script entry point."""
    if sys.argv[1:] == ["--version"]:
        # The most frequent probe by scripts and installers: answer it before Typer loads.
        from lava_cli import __version__

        sys.stdout.write(f"lava {__version__}\n")
        sys.exit(0)
    if "_LAVA_COMPLETE" in os.environ:
        # A TAB press: answer command and option names from the generated index.
        from lava_cli.completion.fast import answer

        answered = answer(os.environ)
        if answered is not None:
            sys.stdout.write(answered[0])
            sys.exit(answered[1])
    sys.exit(run(sys.argv[1:]))
