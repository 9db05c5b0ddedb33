"""One request record as the API shows it: the SDK's ``RestRequest`` (11.2).

``GET /v1/requests`` and ``GET /v1/requests/{id}`` answer these (reads.py). Every
field of the SDK type is there, always (the optional ones as null), plus the
emulator's own ``spend_key_id``. What the emulator decides where Lava is silent:

- ``status``: ``completed`` once the answer is decided (the offline model: at once),
  ``pending`` while a forwarded request is in flight, ``error`` when its provider
  failed (charged nothing).
- ``provider_key_type``: ``managed`` (contract.GATEWAY_KEY_TYPE).
- ``response_id``: the id of the answer the gateway gave (``chatcmpl-…``/``msg_…``, a
  forwarded provider's own id); null while pending or after an error.
- ``model_usage``: tokens, and ``input_cost + output_cost == total_cost`` exactly
  (catalogue.price); the character and second counters are 0 (text models).
- ``charge``: ``rate_type: fixed``, ``amount`` = ``cost`` (no fee on top), and a
  breakdown of two ``tokens_1m`` tiers starting at 0: the input tokens at the
  model's input rate, then the output tokens at its output rate, each ``cost`` the
  matching part of ``model_usage``.
- ``timestamp`` = ``created_at``: the moment the gateway admitted the call.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from lava_cli.emulator.catalogue import get_model, part_cost
from lava_cli.emulator.contract import CHARGE_RATE_TYPE, CHARGE_TIER_TYPE
from lava_cli.emulator.cycles import iso_z, parse_stored
from lava_cli.emulator.money import decimal_text, money, to_micros

# The fields of a record, in the SDK type's order (the OpenAPI document lists them
# from here; tests hold every one).
REQUEST_FIELDS = (
    "request_id",
    "status",
    "customer_id",
    "meter_id",
    "provider",
    "provider_key_type",
    "model",
    "endpoint",
    "response_id",
    "model_usage",
    "cost",
    "charge",
    "metadata",
    "timestamp",
    "created_at",
    "spend_key_id",  # the emulator's own
)
USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "input_characters",
    "output_characters",
    "total_characters",
    "input_seconds",
    "output_seconds",
    "total_seconds",
    "input_cost",
    "output_cost",
    "total_cost",
)


def _parts(row: sqlite3.Row) -> tuple[int, int, str, str]:
    """(input micros, output micros, input rate, output rate) of a record.

    Rows written before the split (or by a direct `Store.record_request` without
    costs) have NULL parts: they are derived from the catalogue's rates, the input
    part as far as it fits in the recorded cost, the output part the rest, so the two
    still add up to the cost exactly.
    """
    total = int(row["cost_micros"])
    if row["input_cost_micros"] is not None:
        return (
            int(row["input_cost_micros"]),
            int(row["output_cost_micros"]),
            str(row["input_rate"]),
            str(row["output_rate"]),
        )
    model = get_model(row["model"])
    rates = (model.input_price, model.output_price) if model else (Decimal(0), Decimal(0))
    first = min(to_micros(part_cost(row["input_tokens"], rates[0])), total)
    return first, total - first, money(rates[0]), money(rates[1])


def request_json(row: sqlite3.Row) -> dict[str, Any]:
    """One row of the request log as the API shows it (see the module docstring)."""
    input_micros, output_micros, input_rate, output_rate = _parts(row)
    cost = decimal_text(row["cost_micros"])
    inp, out = row["input_tokens"], row["output_tokens"]
    created = iso_z(parse_stored(row["created_at"]))
    tiers = [
        (input_rate, inp, input_micros),
        (output_rate, out, output_micros),
    ]
    return {
        "request_id": row["request_id"],
        "status": row["status"],
        "customer_id": row["customer_id"],
        "meter_id": row["meter_id"],
        "provider": row["provider"],
        "provider_key_type": row["provider_key_type"],
        "model": row["model"],
        "endpoint": row["endpoint"],
        "response_id": row["response_id"],
        "model_usage": {
            "input_tokens": inp,
            "output_tokens": out,
            "total_tokens": inp + out,
            "input_characters": 0,
            "output_characters": 0,
            "total_characters": 0,
            "input_seconds": 0,
            "output_seconds": 0,
            "total_seconds": 0,
            "input_cost": decimal_text(input_micros),
            "output_cost": decimal_text(output_micros),
            "total_cost": cost,
        },
        "cost": cost,
        "charge": {
            "amount": cost,
            "rate_type": CHARGE_RATE_TYPE,
            "breakdown": [
                {
                    "tier": {"start": 0, "rate": rate, "type": CHARGE_TIER_TYPE},
                    "tokens": tokens,
                    "characters": 0,
                    "seconds": 0,
                    "cost": decimal_text(micros),
                }
                for rate, tokens, micros in tiers
            ],
        },
        "metadata": json.loads(row["metadata"] or "{}"),
        "timestamp": created,
        "created_at": created,
        "spend_key_id": row["spend_key_id"],
    }
