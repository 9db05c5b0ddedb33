"""`lava prompt`: the flags of a prompt; choosing the key and sending are `ops.prompt`'s."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.cli.numbers import AsciiFloatRange, AsciiIntRange
from lava_cli.errors import UsageError


def prompt(
    ctx: typer.Context,
    text: Annotated[
        str | None,
        typer.Argument(
            metavar="PROMPT", help="The prompt; piped stdin is added after it as context."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id.")] = None,
    system: Annotated[str | None, typer.Option("--system", "-s", help="System prompt.")] = None,
    max_tokens: Annotated[
        int,
        typer.Option(
            "--max-tokens", help="Longest reply, in tokens.", click_type=AsciiIntRange(1, 200_000)
        ),
    ] = 1024,
    temperature: Annotated[
        float | None,
        typer.Option(
            "--temperature", help="Sampling temperature (0–2).", click_type=AsciiFloatRange(0, 2)
        ),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="A key saved with --save (id or name).")
    ] = None,
    shape: Annotated[
        str | None, typer.Option("--shape", help="Request format for a raw LAVA_SPEND_KEY.")
    ] = None,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Wait for the whole reply.")
    ] = False,
    usage: Annotated[
        bool, typer.Option("--usage", help="Print tokens and cost on stderr even when piped.")
    ] = False,
    no_stdin: Annotated[
        bool,
        typer.Option(
            "--no-stdin", help="Do not read stdin (in a `while read` loop, stdin is the loop's)."
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Send a prompt through Lava with a spend key and stream the reply.

    stdin is read when it is a pipe or a file, and added after PROMPT. In a loop that
    reads a file (`while read f; do lava prompt "… $f"; done < list`), stdin is that
    file: the first prompt would take the rest of it, so pass --no-stdin there.

    Example: git diff | lava prompt "review this" --model claude-sonnet-4-5
    """
    from lava_cli.ops import prompt as ops_prompt

    # Before any request: choosing a key may create one.
    if model is not None and not model.strip():
        raise UsageError("--model cannot be empty", hint="leave it out for the key's default model")
    opts = ops_prompt.PromptOptions(
        text,
        model,
        system,
        max_tokens,
        temperature,
        key,
        shape,
        not no_stream,
        json_,
        usage,
        read_stdin=not no_stdin,
    )
    ops_prompt.run(app_of(ctx), opts)
