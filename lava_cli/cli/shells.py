"""The completion scripts lava hands to shells, where Typer's own would fall short.

fish: Typer's script is one `complete --no-files` line whose condition asks lava (a
second process per TAB) whether it has candidates, and relies on fish offering paths
when the condition fails. Whether a failed condition also lifts `--no-files` has
varied between fish versions, and where it does not, `lava run -- cmd <TAB>` and
`lava emulator serve --db <TAB>` offer no paths at all. lava's script asks once per
TAB, and when lava has nothing to offer it completes paths itself
(`__fish_complete_path`), as bash (`complete -o default`) and zsh (`_files`) do with
Typer's scripts. What lava answers (`_TYPER_COMPLETE_FISH_ACTION=get-args`) is
unchanged, so the fast path needs nothing new.

`install()` puts the script where both ways of getting it look: the completion class
behind `_LAVA_COMPLETE=source_fish lava` (what `make completions` writes to
completions/lava.fish) and the table behind `lava --show-completion fish` and
`--install-completion`.
"""

from __future__ import annotations

FISH_SCRIPT = """\
function %(complete_func)s
    set -l items (env %(autocomplete_var)s=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args \
_TYPER_COMPLETE_ARGS=(commandline -cp) %(prog_name)s)
    if string length -q -- $items
        printf '%%s\\n' $items
    else
        __fish_complete_path (commandline -ct)
    end
end
complete --command %(prog_name)s --no-files --arguments "(%(complete_func)s)"
"""


def install() -> None:
    """Make lava's fish script the one Typer prints and installs (after Typer has
    registered its own completion classes, which building the root command does)."""
    from typer import _completion_shared
    from typer._click.shell_completion import add_completion_class
    from typer._completion_classes import FishComplete

    class LavaFishComplete(FishComplete):
        source_template = FISH_SCRIPT

    add_completion_class(LavaFishComplete, "fish")
    _completion_shared._completion_scripts["fish"] = FISH_SCRIPT
