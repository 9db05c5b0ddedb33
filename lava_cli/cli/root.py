"""The root command: global options, and the assembly of the command groups.

Only assembly happens here; each group lives in its own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer
from typer.core import TyperGroup

from lava_cli import __version__

if TYPE_CHECKING:
    from lava_cli.context import AppContext

HELP = """Manage Lava spend keys (lava_sk_…) from a terminal, scripts and CI.

Log in once with your secret key, then create, limit, rotate and revoke keys.
-p/--profile, --base-url and -v/--verbose go before or after the command.
Exit codes: 0 ok, 1 API error, 2 bad usage, 3 not authenticated, 4 not found,
5 refused by policy, 6 network or server unavailable, 7 drift (keys apply --check),
8 rotated but not delivered (keys rotate --deliver), 9 payment waits for the bank
(wallet fund), 130 interrupted.
"""


def _version(value: bool) -> None:
    if value:
        import sys

        sys.stdout.write(f"lava {__version__}\n")
        raise typer.Exit(0)


class Spec(NamedTuple):
    """Where a top-level command lives, and its one-line summary for `lava --help`.
    (A NamedTuple: a frozen dataclass costs ~0.6 ms of exec() on every start.)"""

    module: str
    attr: str
    summary: str
    group: bool = False
    context: dict[str, Any] | None = None


# Loaded on demand: `lava keys list` imports only lava_cli.cli.keys, and `lava --help`
# imports no command module at all. A test keeps the summaries equal to the docstrings.
COMMANDS: dict[str, Spec] = {
    "keys": Spec("lava_cli.cli.keys", "app", "Create and manage spend keys (lava_sk_…).", group=True),
    "prompt": Spec("lava_cli.cli.prompt", "prompt", "Send a prompt through Lava with a spend key and stream the reply."),
    "models": Spec("lava_cli.cli.models", "models", "List the models Lava routes to, with prices per 1M tokens."),
    "env": Spec("lava_cli.cli.env", "env", "Print the settings that plug a spend key into an AI tool."),
    "run": Spec(
        "lava_cli.cli.run",
        "run",
        "Run a command with an ephemeral spend key in its environment, then revoke the key.",
        context={"allow_interspersed_args": False, "ignore_unknown_options": True},
    ),
    "usage": Spec("lava_cli.cli.usage", "usage", "Show spend against limits: every key, one key with a forecast, or the wallet."),
    "wallet": Spec("lava_cli.cli.wallet", "app", "Show the wallet's balance and cards, and top it up.", group=True),
    "login": Spec("lava_cli.cli.auth", "login", "Log in with a Lava secret key and keep it in the OS keyring."),
    "logout": Spec("lava_cli.cli.auth", "logout", "Forget the profile's stored secret key (keyring or file)."),
    "auth": Spec("lava_cli.cli.auth", "auth_app", "Inspect the stored credentials.", group=True),
    "secret-keys": Spec("lava_cli.cli.secret_keys", "app", "Give CI its own revocable secret key (aks_…): list, create, revoke.", group=True),
    "doctor": Spec("lava_cli.cli.doctor", "doctor", "Check the setup end to end and say what to fix."),
    "emulator": Spec("lava_cli.cli.emulator", "app", "Run a local emulator of Lava's API.", group=True),
    "demo": Spec("lava_cli.cli.demo", "demo", "Tour the main job against a throwaway emulator: nothing touches your real config."),

}  # fmt: skip


def load_command(name: str, spec: Spec) -> Any:
    """Import a command's module and turn it into a click command named `name`."""
    import importlib

    from lava_cli.cli.conventions import single_command

    target = getattr(importlib.import_module(spec.module), spec.attr)
    command = (
        lazy_subgroup(name, target) if spec.group else single_command(name, target, spec.context)
    )
    command.name = name
    return command


# Verbs people bring from gh, stripe, docker and the shell, and lava's word for each.
HABITS = {
    "delete": "revoke", "rm": "revoke", "remove": "revoke",
    "ls": "list",
    "new": "create", "add": "create",
    "get": "show", "view": "show",
    "edit": "update",
    "roll": "rotate",
    "unpause": "resume",
    "whoami": "auth status", "status": "auth status",
}  # fmt: skip


class SuggestingGroup(TyperGroup):
    """A group that suggests what was meant: lava's word for a habitual verb (`rm` ->
    `revoke`), a `keys` command typed without `keys`, or the closest name. Typer
    suggests only from commands already built, which lazy groups leave out."""

    def summaries(self) -> dict[str, str]:
        """Each subcommand's one-line summary, without building the commands (lazy)."""
        raise NotImplementedError

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        write_commands(self.summaries(), formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """Command names with their whole summary, then the options."""
        return complete_commands(self.summaries(), incomplete) + option_items(self, ctx, incomplete)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except Exception as exc:
            message = getattr(exc, "message", None)
            if args and isinstance(message, str) and "Did you mean" not in message:
                meant = self.suggest(ctx, args[0])
                if meant:
                    exc.message = f"{message.rstrip('.')}. Did you mean {meant!r}?"  # type: ignore[attr-defined]
            raise

    def suggest(self, ctx: Any, word: str) -> str | None:
        from difflib import get_close_matches

        names = self.list_commands(ctx)
        habit = HABITS.get(word.lower())
        if habit is not None and habit.split()[0] in names:
            return habit
        matches = get_close_matches(word, names)
        return matches[0] if matches else None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """A group given options but no command (`lava -p work`) shows its help, as a
        group given nothing does (unless the group is a command itself: `lava wallet`)."""
        rest = super().parse_args(ctx, args)
        bare = not getattr(ctx, "_protected_args", None) and not rest
        if bare and not ctx.resilient_parsing and not self.invoke_without_command:
            from typer._click.exceptions import NoArgsIsHelpError

            raise NoArgsIsHelpError(ctx)
        return rest


class LazyGroup(SuggestingGroup):
    """The root group: lists every command, imports one only when it is used."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name, COMMANDS[cmd_name])
        return self.commands.get(cmd_name)

    def suggest(self, ctx: Any, word: str) -> str | None:
        """Also `lava rm` -> `keys revoke`, `lava list` -> `keys list`."""
        keys = self.get_command(ctx, "keys")
        meant = keys.suggest(ctx, word) if word.lower() in HABITS else None
        if meant is None and word in keys.list_commands(ctx):
            meant = word
        if meant is not None and meant in keys.list_commands(ctx):
            return f"keys {meant}"
        return super().suggest(ctx, word)

    def summaries(self) -> dict[str, str]:
        """From the command table: no command is imported to list it."""
        return {name: spec.summary for name, spec in COMMANDS.items()}


class LazySubGroup(SuggestingGroup):
    """A command group that converts a subcommand's signature only when it is used.

    Typer turns every parameter of every command into click objects up front; for a
    group of ten commands that is ~15 ms per start, spent on commands that do not run.
    """

    infos: dict[str, Any]

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.infos)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.infos:
            from lava_cli.cli.conventions import command_info_with_class

            self.commands[cmd_name] = typer.main.get_command_from_info(
                command_info_with_class(self.infos[cmd_name]),
                pretty_exceptions_short=True,
                rich_markup_mode=None,
            )
        return self.commands.get(cmd_name)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        from lava_cli.cli.conventions import format_options

        format_options(self, ctx, formatter)
        self.format_commands(ctx, formatter)

    def summaries(self) -> dict[str, str]:
        """From the commands' docstrings: no command is built to list it."""
        return {name: _summary(info) for name, info in self.infos.items()}


def write_commands(summaries: dict[str, str], formatter: Any) -> None:
    """The Commands section: one line per command, its summary shortened only when the
    terminal is too narrow for it (help uses the terminal's whole width)."""
    limit = formatter.width - 6 - max(len(name) for name in summaries)
    rows = [(name, _shorten(summary, limit)) for name, summary in summaries.items()]
    with formatter.section("Commands"):
        formatter.write_dl(rows)


def option_items(group: TyperGroup, ctx: Any, incomplete: str) -> list[Any]:
    """The group's option names for TAB (click's part of TyperGroup.shell_complete)."""
    return list(super(TyperGroup, group).shell_complete(ctx, incomplete))


def complete_commands(summaries: dict[str, str], incomplete: str) -> list[Any]:
    """TAB's command items; TyperGroup's own would cut each summary at 45 characters."""
    from typer._click.shell_completion import CompletionItem

    return [
        CompletionItem(name, help=summary)
        for name, summary in summaries.items()
        if name.startswith(incomplete)
    ]


def _summary(info: Any) -> str:
    doc = info.help or info.callback.__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def lazy_subgroup(name: str, app: typer.Typer) -> Any:
    """A click group for `app` whose subcommands are built on first use.

    A group with a callback of its own (`lava wallet`) runs it without a subcommand too,
    so the group name alone is a command; the others show their help."""
    own = app.registered_callback
    shell = typer.Typer(
        cls=LazySubGroup,
        help=app.info.help if own is None else own.callback.__doc__ if own.callback else None,
        no_args_is_help=own is None,
        subcommand_metavar=None if own is None else "[COMMAND [ARGS]...]",
        add_completion=False,
        rich_markup_mode=None,
    )
    if own is not None and own.callback is not None:
        shell.callback(invoke_without_command=True)(own.callback)
    else:
        shell.callback()(_no_op)
    group = typer.main.get_command(shell)
    assert isinstance(group, LazySubGroup)
    from lava_cli.cli.conventions import add_global_options

    add_global_options(group)
    group.infos = {
        info.name or typer.main.get_command_name(getattr(info.callback, "__name__", "")): info
        for info in app.registered_commands
    }
    return group


def _no_op() -> None:
    """A callback keeps a group a group (Typer collapses one-command apps)."""


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 10)].rstrip() + "..."


def build(holder: list[AppContext]) -> Any:
    """Build the click command for one run; the AppContext it creates lands in `holder`."""
    app = typer.Typer(
        cls=LazyGroup,
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # Plain click help: rich-rendered help costs ~150 ms of imports per --help.
        rich_markup_mode=None,
        # Help uses the terminal's whole width (click stops at 80 columns by default).
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 10_000},
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        profile: Annotated[
            str | None,
            typer.Option(
                "--profile", "-p", help="Profile to use (env LAVA_PROFILE).", show_default=False
            ),
        ] = None,
        base_url: Annotated[
            str | None,
            typer.Option(
                "--base-url", help="API base URL (env LAVA_BASE_URL).", show_default=False
            ),
        ] = None,
        verbose: Annotated[
            bool,
            typer.Option("--verbose", "-v", help="Log each request to stderr (secrets redacted)."),
        ] = False,
        version: Annotated[
            bool,
            typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
        ] = False,
    ) -> None:
        from lava_cli.context import AppContext

        app_ctx = AppContext(profile_flag=profile, base_url_flag=base_url, verbose=verbose)
        holder.append(app_ctx)
        ctx.obj = app_ctx

    from lava_cli.cli import shells
    from lava_cli.cli.conventions import tidy_params

    command = typer.main.get_command(app)
    tidy_params("", command.params)
    shells.install()
    return command
