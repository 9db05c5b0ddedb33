"""What every command follows, applied once where commands are built (`cli/root.py`),
so a new command gets it without asking:

- **Placeholders**: one style with real names: `--name NAME`, `--spend-limit
  AMOUNT/CYCLE`, a required argument `KEY`, an optional one `[TOOL]` (Typer's own mix
  was `<str>`, `{key}`, `[TOOL]`). `PLACEHOLDERS` names each option's value; an option
  not listed shows its own name in capitals.
- **Global options** (`-p/--profile`, `--base-url`, `-v/--verbose`) are accepted after
  the command too (`lava keys list --profile work`), as gh's and stripe's are; help
  lists them under their own heading. A later one wins, as for any repeated option.
- **Values on TAB**: `VALUES` names, per option and argument, the source in
  `ops/values.py` that completes it (tools, shapes, profiles, saved keys, models, …).
  The source's name stays on the parameter (`lava_source`), so `make completions`
  can tell what to write into the fast path's index.
- **Flags that cannot go together** (`CONFLICTS`) are refused with exit 2 before the
  command runs, naming both: a silent winner surprises one script or the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer._click.core import ParameterSource
from typer.core import TyperArgument, TyperCommand, TyperOption

from lava_cli.errors import UsageError

# Option -> its value's placeholder in help (options not listed: their name in capitals).
PLACEHOLDERS: dict[str, str] = {
    "--spend-limit": "AMOUNT/CYCLE",
    "--request-limit": "COUNT/CYCLE",
    "--rate-limit": "RPM[/BURST]",
    "--expires-at": "DATE|TIME",
    "--expires-in": "DURATION",
    "--expires-within": "DURATION",
    "--min-remaining": "AMOUNT",
    "--var": "NAME",
    "--since": "DURATION",
    "--start": "DATE|TIME",
    "--end": "DATE|TIME",
    "--max-tokens": "TOKENS",
    "--reply-tokens": "TOKENS",
    "--temperature": "NUMBER",
    "--token-delay-ms": "MS",
    "--pause": "SECONDS",
    "--db": "FILE",
    "--secrets-file": "FILE",
    "--fault": "KIND[:RATE]",
    "--fault-seed": "SEED",
    "--upstream": "MODEL=SHAPE:URL",
    "--base-url": "URL",
    "--system": "TEXT",
    "--save-as": "PROFILE",
    "--auto-limit": "AMOUNT/CYCLE",
    "--max-used": "SHARE",
    "--allow-model": "MODEL",
    "--var-prefix": "PREFIX",
}
# (command name or "*", option or argument name) -> the completion source in ops/values.
VALUES: dict[tuple[str, str], str] = {
    ("*", "--shape"): "shapes",
    ("*", "--shell"): "shells",
    ("*", "--tool"): "tools",
    ("*", "--status"): "statuses",
    ("*", "--profile"): "profiles",
    ("*", "--key"): "keys",
    ("*", "--model"): "models",
    ("*", "--provider"): "providers",
    ("*", "--spend-limit"): "spend-cycles",
    ("*", "--request-limit"): "count-cycles",
    ("*", "KEY"): "keys",
    ("*", "TOOL"): "tools",
    ("env", "--format"): "env-formats",
    ("create", "--format"): "key-formats",
    ("rotate", "--format"): "key-formats",
}
# Pairs of parameters (by Python name) that contradict each other, and what to do.
CONFLICTS: tuple[tuple[str, str, str], ...] = (
    ("quiet", "json_", "-q prints only the id (or the new key), --json the whole object"),
    ("format_", "json_", "use --format json for the JSON object, or --json alone"),
    ("format_", "quiet", "--format already prints only what a script needs"),
    ("usage", "json_", "the JSON has the tokens and cost (`usage`, `cost`); leave out --usage"),
)
GLOBAL_HELP = "Global options"


def _set_global(ctx: Any, param: Any, value: Any) -> Any:
    """A global option given after the command: recorded for TAB (which never runs the
    root callback) and handed to the run's AppContext, overriding one given before."""
    if value is None or value is False:
        return value
    ctx.meta[f"lava.{param.name}"] = value
    if ctx.resilient_parsing:
        return value
    from lava_cli.context import AppContext

    app = ctx.find_root().obj
    if isinstance(app, AppContext):
        if param.name == "profile":
            app.profile_flag = value
        elif param.name == "base_url":
            app.base_url_flag = value
        else:
            app.verbose = True
    return value


def profile_for(ctx: Any) -> str | None:
    """The --profile typed on the line being completed (before or after the command)."""
    given = ctx.meta.get("lava.profile") or ctx.find_root().params.get("profile")
    return given if isinstance(given, str) and given else None


def completer(source: str) -> Callable[[Any, list[str], str], list[str]]:
    """Typer's completion callback for an ops/values source, marked with its name."""

    def complete(ctx: Any, args: list[str], incomplete: str) -> list[str]:
        from lava_cli.ops.values import values

        return values(source, incomplete or "", profile_for(ctx))

    complete.lava_source = source  # type: ignore[attr-defined]
    return complete


def global_options() -> list[TyperOption]:
    """-p/--profile, --base-url and -v/--verbose, for a command or group below the root
    (the root declares its own in `cli/root.py`, with the same help)."""
    common: dict[str, Any] = {"callback": _set_global, "rich_help_panel": GLOBAL_HELP}
    options = [
        TyperOption(
            param_decls=["profile", "--profile", "-p"],
            type=str,
            metavar="PROFILE",
            help="Profile to use (env LAVA_PROFILE).",
            autocompletion=completer("profiles"),
            **common,
        ),
        TyperOption(
            param_decls=["base_url", "--base-url"],
            type=str,
            metavar="URL",
            help="API base URL (env LAVA_BASE_URL).",
            **common,
        ),
        TyperOption(
            param_decls=["verbose", "--verbose", "-v"],
            is_flag=True,
            default=False,
            help="Log each request to stderr (secrets redacted).",
            **common,
        ),
    ]
    options[0].lava_source = "profiles"  # type: ignore[attr-defined]
    return options


def add_global_options(command: Any) -> None:
    """Append the global options to a command or group, as values it never sees."""
    taken = {opt for param in command.params for opt in param.opts}
    for option in global_options():
        if not taken.intersection(option.opts):
            option.expose_value = False
            command.params.append(option)


def tidy_params(command_name: str, params: Sequence[Any]) -> None:
    """Placeholders and TAB values for each parameter of `command_name`."""
    for param in params:
        if isinstance(param, TyperArgument):
            param.metavar = param.metavar or (param.name or "").upper()
            key = param.metavar
        elif isinstance(param, TyperOption) and param.opts:
            key = max(param.opts, key=len)
            if not (param.is_flag or param.count) and param.metavar is None:
                param.metavar = PLACEHOLDERS.get(key, key.lstrip("-").upper().replace("-", "_"))
        else:
            continue
        source = VALUES.get((command_name, key)) or VALUES.get(("*", key))
        if source is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = _item_completer(source)
            param.lava_source = source


def _item_completer(source: str) -> Callable[[Any, Any, str], list[Any]]:
    """The click-level completion callback for a source (what `autocompletion=` would
    have built, set after the fact so the declarations stay plain)."""
    complete = completer(source)

    def shell_complete(ctx: Any, param: Any, incomplete: str) -> list[Any]:
        from typer._click.shell_completion import CompletionItem

        return [CompletionItem(word) for word in complete(ctx, [], incomplete)]

    return shell_complete


def given(ctx: Any, name: str) -> bool:
    """Whether parameter `name` was typed (or set by its env var), not defaulted."""
    source = ctx.get_parameter_source(name)
    return source in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def refuse_conflicts(ctx: Any) -> None:
    """Exit 2, naming both flags, when two that contradict each other were given."""
    params = {p.name: p for p in ctx.command.params}
    for first, second, hint in CONFLICTS:
        if first in params and second in params and given(ctx, first) and given(ctx, second):
            raise UsageError(
                f"{flag_names(params[first])} and {flag_names(params[second])} do not go together",
                hint=hint,
            )


def flag_names(param: Any) -> str:
    """`-q/--quiet` for the option's names, short one first."""
    return "/".join(sorted(param.opts, key=len))


def usage_pieces(command: Any, ctx: Any) -> list[str]:
    """`[OPTIONS] KEY`, `[OPTIONS] [TOOL]`, `[OPTIONS] [COMMAND]...`."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "").upper()
            piece = name if param.required else f"[{name}]"
            pieces.append(piece + ("..." if param.nargs == -1 else ""))
    return pieces


def format_options(command: Any, ctx: Any, formatter: Any) -> None:
    """Arguments, the command's options, then the global ones under their own heading."""
    sections: dict[str, list[tuple[str, str]]] = {"Arguments": [], "Options": [], GLOBAL_HELP: []}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        if isinstance(param, TyperArgument):
            sections["Arguments"].append(record)
        elif getattr(param, "rich_help_panel", None) == GLOBAL_HELP:
            sections[GLOBAL_HELP].append(record)
        else:
            sections["Options"].append(record)
    for title, rows in sections.items():
        if rows:
            with formatter.section(title):
                formatter.write_dl(rows)


class LavaCommand(TyperCommand):
    """A leaf command with the conventions above."""

    def __init__(self, name: str | None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        tidy_params(name or "", self.params)
        add_global_options(self)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return usage_pieces(self, ctx)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        format_options(self, ctx, formatter)

    def invoke(self, ctx: Any) -> Any:
        refuse_conflicts(ctx)
        return super().invoke(ctx)


def command_info_with_class(info: Any) -> Any:
    """A copy of a Typer CommandInfo built as a LavaCommand (the original is shared
    by every run in this process, e.g. the demo's)."""
    import copy

    info = copy.copy(info)
    if info.cls in (None, TyperCommand):  # Typer's default: no class of the command's own
        info.cls = LavaCommand
    return info


def single_command(name: str, target: Callable[..., Any], context: dict[str, Any] | None) -> Any:
    """A top-level command (`lava prompt`) as a click command with the conventions."""
    single = typer.Typer(rich_markup_mode=None, add_completion=False)
    single.command(name, cls=LavaCommand, context_settings=context)(target)
    return typer.main.get_command(single)
