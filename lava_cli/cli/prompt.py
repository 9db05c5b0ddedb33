"""`lava prompt`: use a spend key through the gateway."""

from __future__ import annotations

from typing import Annotated

import typer

from lava_cli.cli.common import JsonOpt, app_of
from lava_cli.cli.numbers import AsciiFloatRange, AsciiIntRange
from lava_cli.errors import UsageError

DEFAULT_MODEL = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


def prompt(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The prompt (stdin is appended).")] = None,
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
    json_: JsonOpt = False,
) -> None:
    """Send a prompt through Lava with a spend key and stream the reply.

    Example: git diff | lava prompt "review this" --model claude-sonnet-4-5
    """
    from lava_cli.api.gateway import PromptRequest
    from lava_cli.ops.prompt import choose_key, prompt_text, run_prompt

    app = app_of(ctx)
    body = prompt_text(app, text)
    choice = choose_key(app, key, shape)
    chosen = model or DEFAULT_MODEL.get(choice.shape, "gpt-4o-mini")
    if not chosen.strip():
        raise UsageError("--model cannot be empty")
    request = PromptRequest(chosen, body, system, max_tokens, temperature)
    run_prompt(app, request, choice, stream=not no_stream, json_=json_, show_usage=usage)
