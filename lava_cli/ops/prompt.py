"""`lava prompt`: choose the spend key, send the prompt, stream the reply, report cost.

`run` takes the steps in order: the prompt text (argument and stdin), the key
(`choose_key`), the request, then `send` (the whole reply, or `stream` as it comes),
and last the usage line on stderr (`usage_line`).

Which key and which model are `ops.prompt_key`'s. Every gateway error names the key
it was sent with (never its value).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lava_cli.errors import (
    ApiAuthError,
    ApiError,
    ApiPolicyError,
    LavaError,
    UsageError,
)
from lava_cli.ops.prompt_key import KeyChoice, allowed_instead, choose_key, default_model

if TYPE_CHECKING:
    from lava_cli.api.gateway import Completion, GatewayClient, PromptRequest
    from lava_cli.api.types import SpendKey
    from lava_cli.context import AppContext

MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class PromptOptions:
    text: str | None  # the argument; stdin, when piped, is added to it
    model: str | None  # None: the default for the key's request shape
    system: str | None
    max_tokens: int
    temperature: float | None
    key: str | None  # a saved key's id or name
    shape: str | None
    stream: bool
    json: bool
    show_usage: bool  # the usage line on stderr even when it is not a terminal
    read_stdin: bool = True  # False: --no-stdin (a prompt inside `while read …; done < file`)


def prompt_text(app: AppContext, text: str | None, read_stdin: bool = True) -> str:
    """The argument, stdin, or both (stdin as context, after the argument).

    stdin is read when it is a pipe or a file (`git diff | lava prompt "review"`), or
    when it is the only source of the prompt; never from a terminal, and never with
    `--no-stdin`. With a prompt argument, anything else (a socket, a device) is left
    alone: reading it could wait forever for input nobody meant to give.
    """
    kind = stdin_kind(app.stdin)
    piped = ""
    if read_stdin and (kind == "data" or (kind == "other" and not text)):
        piped = app.stdin.read()
    parts = [p for p in (text, piped.strip("\n")) if p and p.strip()]
    if not parts:
        raise UsageError("no prompt", hint='lava prompt "your question", or pipe text into it')
    return "\n\n".join(parts)


def stdin_kind(stream: Any) -> str:
    """`terminal`, `data` (a pipe or a regular file) or `other` (/dev/null, a socket)."""
    import io
    import stat

    try:
        fd = stream.fileno()
    except (AttributeError, ValueError, OSError, io.UnsupportedOperation):
        return "data"  # an in-memory stream: the demo's or a test's, always data
    try:
        if os.isatty(fd):
            return "terminal"
        mode = os.fstat(fd).st_mode
    except OSError:
        return "other"
    return "data" if stat.S_ISFIFO(mode) or stat.S_ISREG(mode) else "other"


def prices(app: AppContext, model: str) -> tuple[Decimal, Decimal] | None:
    """Per-1M input/output prices for `model` from /v1/services, if it is listed.

    A courtesy for the usage line: a catalogue that cannot be read costs the line its
    dollar figure, never the reply.
    """
    try:
        services = app.public_client().list_services()
    except LavaError:
        return None
    for service in services:
        if service.id == model:
            if service.input_per_1m is None or service.output_per_1m is None:
                return None
            return service.input_per_1m, service.output_per_1m
    return None


def cost(
    price: tuple[Decimal, Decimal] | None, ins: int | None, outs: int | None
) -> Decimal | None:
    if price is None or ins is None or outs is None:
        return None
    return (Decimal(ins) * price[0] + Decimal(outs) * price[1]) / MILLION


def explain(app: AppContext, err: ApiError, choice: KeyChoice) -> LavaError:
    """Turn a gateway refusal into the seeds' troubleshooting advice."""
    if isinstance(err, ApiAuthError):
        from lava_cli.ops.refusal import explain_refused_key

        return explain_refused_key(app, err, choice.spend_key_id, choice.raw)
    if isinstance(err, ApiPolicyError) and err.code == "wrong_request_shape":
        other = "anthropic" if choice.shape == "openai" else "openai"
        err.hint = (
            f"this key expects the other request format: try --shape {other}, or use a key "
            f"created with --shape {choice.shape}"
        )
    elif isinstance(err, ApiPolicyError) and err.status == 403:
        allowed = _allowed_models(app, choice)
        if allowed:
            err.hint = (
                f"this key allows: {allowed}; pick one with --model, "
                "or widen it with `lava keys update`"
            )
    return err


def _managed_key(app: AppContext, choice: KeyChoice) -> SpendKey | None:
    """The key's record from the management API, when its id and a secret are known
    (a best effort for advice: None when it cannot be read)."""
    if choice.spend_key_id is None or app.find_secret() is None:
        return None
    try:
        return app.client().get_spend_key(choice.spend_key_id)
    except LavaError:
        return None


def _allowed_models(app: AppContext, choice: KeyChoice) -> str | None:
    key = _managed_key(app, choice)
    if key is None:
        return None
    models = ", ".join(key.allowed_models) if key.allowed_models else "all models"
    if key.allowed_providers:
        models += f" (providers: {', '.join(key.allowed_providers)})"
    return models


def spend_line(app: AppContext, choice: KeyChoice) -> str | None:
    """The key's spend this cycle, when the secret and the key id are known."""
    from lava_cli.render.keys import spend_text

    key = _managed_key(app, choice)
    return None if key is None else "key " + spend_text(key)


def usage_line(app: AppContext, choice: KeyChoice, tally: Tally) -> str:
    """`model · N in / M out tokens · $cost · key $spent / $limit cycle`, what is known."""
    ins, outs = tally.input_tokens, tally.output_tokens
    parts = [
        tally.model or "?",
        f"{ins if ins is not None else '?'} in / {outs if outs is not None else '?'} out tokens",
    ]
    value = cost(prices(app, tally.model), ins, outs)
    if value is not None:
        parts.append(f"${value:.6f}")
    spent = spend_line(app, choice)
    if spent:
        parts.append(spent)
    return " · ".join(parts)


def completion_json(
    completion: Completion, price: tuple[Decimal, Decimal] | None
) -> dict[str, Any]:
    value = cost(price, completion.input_tokens, completion.output_tokens)
    return {
        "model": completion.model,
        "text": completion.text,
        "finish_reason": completion.finish_reason,
        "usage": {
            "input_tokens": completion.input_tokens,
            "output_tokens": completion.output_tokens,
        },
        "cost": f"{value:.6f}" if value is not None else None,
        "request_id": completion.request_id,
        "response": completion.raw,
    }


def run(app: AppContext, opts: PromptOptions) -> None:
    """Read the prompt, choose the key, send, and report the usage."""
    from lava_cli.api.gateway import PromptRequest

    text = prompt_text(app, opts.text, opts.read_stdin)
    choice = choose_key(app, opts.key, opts.shape)
    model = opts.model or default_model(choice)
    request = PromptRequest(model, text, opts.system, opts.max_tokens, opts.temperature)
    try:
        send(app, request, choice, opts)
    except ApiPolicyError as err:  # refused before any reply: sending again is safe
        other = None if opts.model else allowed_instead(app, choice, err, model)
        if other is None:
            raise
        send(app, replace(request, model=other), choice, opts)


@dataclass(frozen=True)
class Tally:
    """What a reply cost in tokens, by the model that answered (None: not reported)."""

    model: str
    input_tokens: int | None
    output_tokens: int | None


def send(app: AppContext, request: PromptRequest, choice: KeyChoice, opts: PromptOptions) -> None:
    """Send through the gateway: the whole reply (or --json), or stream it; then the
    usage line on stderr for people (or anyone who asked with --usage)."""
    gateway = app.gateway(choice.raw, default_timeout=120.0)
    try:
        if opts.json or not opts.stream:
            tally = _whole_reply(app, gateway, request, choice, json_=opts.json)
        else:
            tally = stream(app, gateway, request, choice)
        if tally is not None and (opts.show_usage or app.stderr_tty):
            app.out.note(usage_line(app, choice, tally))
    except ApiError as err:
        err.message = f"{err.message.rstrip('.')}; sent with {choice.describe()}"
        raise
    finally:
        gateway.close()


def _whole_reply(
    app: AppContext,
    gateway: GatewayClient,
    request: PromptRequest,
    choice: KeyChoice,
    *,
    json_: bool,
) -> Tally | None:
    """Wait for the whole reply and print it (or all of it as JSON: then no tally)."""
    try:
        completion = gateway.complete(choice.shape, request)
    except ApiError as err:
        raise explain(app, err, choice) from None
    model = completion.model or request.model
    if json_:
        app.out.json(completion_json(completion, prices(app, model)))
        return None
    app.out.line(completion.text)
    return Tally(model, completion.input_tokens, completion.output_tokens)


def stream(
    app: AppContext, gateway: GatewayClient, request: PromptRequest, choice: KeyChoice
) -> Tally:
    """Write the reply as it arrives, and end it with a newline whatever happens."""
    from lava_cli.api.streaming import stream_decoder
    from lava_cli.safetext import printable

    out = app.stdout
    state = stream_decoder(choice.shape)
    wrote_any = ends_newline = False

    def end_line() -> None:
        out.write("\n")
        out.flush()

    try:
        for text in gateway.stream(choice.shape, request, state):
            # The model's words, not commands to the terminal (lines and tabs stay).
            out.write(printable(text, multiline=True))
            out.flush()  # once per network read: what arrived is on screen now
            wrote_any, ends_newline = True, text.endswith("\n")
    except ApiError as err:
        if wrote_any and not ends_newline:
            end_line()
        raise explain(app, err, choice) from None
    except KeyboardInterrupt:
        if wrote_any:
            end_line()
        raise
    if not ends_newline:
        end_line()
    return Tally(state.model or request.model, state.input_tokens, state.output_tokens)
