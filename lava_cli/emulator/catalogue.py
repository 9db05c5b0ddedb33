"""The emulator's built-in model catalogue: what `/v1/models` and `/v1/services` list
and what the gateway prices requests with.

Prices are US dollars per 1M tokens, as Decimal so that costs are exact. They mirror
the providers' public list prices closely enough for budgeting tests; they are not a
promise about Lava's real prices.

Cost of a request (`price`): the input part ``input/1e6 * input_price`` and the
output part ``output/1e6 * output_price``, each in Decimal rounded half-up to 6
decimals (micro-dollars); the cost is their sum, so a request record's
``input_cost + output_cost == total_cost`` exactly. The same rule for the offline
model's replies and for forwarded ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

COST_QUANTUM = Decimal("0.000001")
_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Provider:
    """An upstream provider: its id (as in `allowed_providers`) and display label."""

    id: str
    label: str


@dataclass(frozen=True)
class Model:
    """One catalogue entry. `created` is a fixed Unix time (OpenAI's list shape wants one)."""

    id: str
    provider: str
    label: str
    input_price: Decimal
    output_price: Decimal
    context_window: int
    created: int


PROVIDERS: tuple[Provider, ...] = (
    Provider("openai", "OpenAI"),
    Provider("anthropic", "Anthropic"),
    Provider("google", "Google"),
    Provider("mistral", "Mistral AI"),
    Provider("deepseek", "DeepSeek"),
)


def _m(id: str, provider: str, label: str, inp: str, out: str, ctx: int, created: int) -> Model:
    return Model(id, provider, label, Decimal(inp), Decimal(out), ctx, created)


MODELS: tuple[Model, ...] = (
    _m("gpt-4o", "openai", "GPT-4o", "2.50", "10.00", 128_000, 1715367049),
    _m("gpt-4o-mini", "openai", "GPT-4o mini", "0.15", "0.60", 128_000, 1721172741),
    _m("gpt-4.1", "openai", "GPT-4.1", "2.00", "8.00", 1_047_576, 1744316542),
    _m("gpt-4.1-mini", "openai", "GPT-4.1 mini", "0.40", "1.60", 1_047_576, 1744318173),
    _m("o3-mini", "openai", "o3-mini", "1.10", "4.40", 200_000, 1737146383),
    _m("claude-opus-4-6", "anthropic", "Claude Opus 4.6", "5.00", "25.00", 200_000, 1770249600),
    _m("claude-sonnet-4-5", "anthropic", "Claude Sonnet 4.5", "3.00", "15.00", 200_000, 1759104000),
    _m("claude-haiku-4-5", "anthropic", "Claude Haiku 4.5", "1.00", "5.00", 200_000, 1760572800),
    _m("gemini-2.5-pro", "google", "Gemini 2.5 Pro", "1.25", "10.00", 1_048_576, 1750118400),
    _m("gemini-2.5-flash", "google", "Gemini 2.5 Flash", "0.30", "2.50", 1_048_576, 1750118400),
    _m("mistral-large-latest", "mistral", "Mistral Large", "2.00", "6.00", 128_000, 1731024000),
    _m("deepseek-chat", "deepseek", "DeepSeek V3", "0.27", "1.10", 64_000, 1735084800),
)

_BY_ID = {model.id: model for model in MODELS}


def get_model(model_id: str) -> Model | None:
    """The catalogue entry for `model_id`, or None when the emulator does not know it."""
    return _BY_ID.get(model_id)


def models_for(provider: str | None = None) -> tuple[Model, ...]:
    """All models, or only one provider's, in catalogue order."""
    if provider is None:
        return MODELS
    return tuple(m for m in MODELS if m.provider == provider)


@dataclass(frozen=True)
class Costs:
    """What a request costs, in its two parts, and the per-1M-token rates they came
    from (a record's charge breakdown shows them)."""

    input_cost: Decimal
    output_cost: Decimal
    input_rate: Decimal
    output_rate: Decimal

    @property
    def total(self) -> Decimal:
        return self.input_cost + self.output_cost


def part_cost(tokens: int, price: Decimal) -> Decimal:
    """`tokens` at `price` per 1M tokens, rounded half-up to micro-dollars."""
    return (Decimal(tokens) * price / _MILLION).quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def price(model: Model, input_tokens: int, output_tokens: int) -> Costs:
    """The cost of `input_tokens` in and `output_tokens` out of `model`."""
    return Costs(
        part_cost(input_tokens, model.input_price),
        part_cost(output_tokens, model.output_price),
        model.input_price,
        model.output_price,
    )
