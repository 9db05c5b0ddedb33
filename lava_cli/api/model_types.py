"""Typed views of the catalogue: `GET /v1/models` and `GET /v1/services`.

Strict like `api.types` (a wrong shape is `MalformedResponse`), and kept apart from it so
that commands which never list models do not define these classes at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lava_cli.api.types import as_object, decimal_field, str_field


@dataclass(frozen=True)
class Model:
    """An entry of `GET /v1/models` (OpenAI's list shape): what the gateway routes to."""

    id: str
    owned_by: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Model:
        obj = as_object(value, "model")
        return cls(str_field(obj, "id") or "", str_field(obj, "owned_by", optional=True), obj)


@dataclass(frozen=True)
class Service:
    """An entry of `GET /v1/services`: a model with its prices per 1M tokens, when known."""

    id: str
    provider: str | None
    input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, value: Any) -> Service:
        obj = as_object(value, "service")
        pricing = obj.get("pricing")
        prices = {} if pricing is None else as_object(pricing, "pricing")
        return cls(
            id=str_field(obj, "id") or "",
            provider=str_field(obj, "provider", optional=True),
            input_per_1m=decimal_field(prices, "input", optional=True),
            output_per_1m=decimal_field(prices, "output", optional=True),
            raw=obj,
        )
