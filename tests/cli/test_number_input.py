"""Numbers typed on the command line mean exactly what they say, or exit 2.

`1,5` is one and a half in much of the world: dropping the comma made it $15.00.
And Python's int()/float()/Decimal() read every script's digits (`١٠٠` is 100,
`８７８７` is 8787), so every number the CLI reads takes the digits 0-9 only.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from lava_cli.errors import UsageError
from lava_cli.parsing import parse_amount, parse_request_limit, parse_spend_limit
from tests.conftest import run_lava

ARABIC_100 = "\u0661\u0660\u0660"  # ١٠٠
FULLWIDTH_10 = "\uff11\uff10"  # １０
DECIMAL_HINT = "the decimal separator is '.'"


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,000", "1000.00"),
        ("1,000.50", "1000.50"),
        ("$1,000.50", "1000.50"),
        ("12,345,678.05", "12345678.05"),
        ("1000.5", "1000.50"),
    ],
)
def test_thousands_grouping_is_accepted(text: str, amount: str) -> None:
    assert parse_spend_limit(f"{text}/monthly") == {"amount": amount, "cycle": "monthly"}


@pytest.mark.parametrize("text", ["1,5", "2,50", "1,00,000", ",5", "1,000,5", "1.000,50", "1,"])
def test_other_commas_are_refused_with_the_decimal_hint(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_spend_limit(f"{text}/monthly")
    assert "--spend-limit" in caught.value.message
    assert DECIMAL_HINT in (caught.value.hint or "")


@pytest.mark.parametrize(
    "text", [ARABIC_100, FULLWIDTH_10, "1\u0660", "\u0967\u0966", "5.\u0665\u0660", "\u00b2"]
)
def test_digits_other_than_0_to_9_are_refused(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_amount(text, "--min-remaining")
    assert caught.value.message.startswith("--min-remaining")


def test_counts_take_grouping_and_refuse_the_rest() -> None:
    assert parse_request_limit("1,000/daily") == {"count": 1000, "cycle": "daily"}
    for bad in ("1,5/daily", f"{FULLWIDTH_10}/daily", "1,00,000/daily"):
        with pytest.raises(UsageError):
            parse_request_limit(bad)


def _refused(result: Any, flag: str, hint: str | None = None) -> None:
    assert result.code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and flag in lines[0], result.stderr
    assert lines[1].startswith("hint: "), result.stderr
    if hint is not None:
        assert hint in lines[1], result.stderr
    assert "Traceback" not in result.stderr and "this is a bug" not in result.stderr


@pytest.mark.parametrize(
    ("args", "flag", "hint"),
    [
        (["keys", "create", "--name", "x", "--spend-limit", "1,5/monthly"], "--spend-limit", DECIMAL_HINT),
        (["keys", "create", "--name", "x", "--spend-limit", "2,50/monthly"], "--spend-limit", DECIMAL_HINT),
        (["keys", "create", "--name", "x", "--spend-limit", f"{ARABIC_100}/monthly"], "--spend-limit", "0-9"),
        (["keys", "create", "--name", "x", "--request-limit", f"{FULLWIDTH_10}/daily"], "--request-limit", "0-9"),
        (["keys", "create", "--name", "x", "--rate-limit", f"60/{FULLWIDTH_10}"], "--rate-limit", "0-9"),
        (["keys", "create", "--name", "x", "--expires-in", "\uff12h"], "--expires-in", "0-9"),
        (["keys", "update", "k", "--spend-limit", ",5/daily"], "--spend-limit", DECIMAL_HINT),
        (["keys", "check", "k", "--min-remaining", "1,5"], "--min-remaining", DECIMAL_HINT),
        (["keys", "check", "k", "--expires-within", "\u0667d"], "--expires-within", "0-9"),
        (["usage", "--since", "\u0667d"], "--since", "0-9"),
        (["run", "--spend-limit", "1,5/total", "--", "true"], "--spend-limit", DECIMAL_HINT),
        # Typer's own number options go through click's int()/float():
        (["prompt", "hi", "--max-tokens", FULLWIDTH_10], "--max-tokens", None),
        (["prompt", "hi", "--temperature", "\uff10.\uff15"], "--temperature", None),
    ],
)  # fmt: skip
def test_refused_before_any_request(args: list[str], flag: str, hint: str | None) -> None:
    # No secret, no spend key, no server: exit 2 naming the flag (with a hint) proves the
    # value was refused while parsing, before any credential or request.
    _refused(run_lava(*args), flag, hint)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--port", "\uff18\uff17\uff18\uff17"),  # ８７８７
        ("--token-delay-ms", ARABIC_100),
        ("--reply-tokens", FULLWIDTH_10),
        ("--fault-seed", "\uff13"),
    ],
)
def test_emulator_serve_number_options(
    monkeypatch: pytest.MonkeyPatch, option: str, value: str
) -> None:
    # A secret the serve command refuses: if the number slipped through, the run ends
    # there (naming LAVA_SECRET_KEY) instead of serving forever.
    monkeypatch.setenv("LAVA_SECRET_KEY", "not-a-secret")
    _refused(run_lava("emulator", "serve", option, value), option)


def test_every_number_option_takes_ascii_digits_only() -> None:
    """Walk every command: no Typer int/float option may use click's plain types, which
    call int()/float() on whatever script the digits are in."""
    from typer._click import types as click_types

    from lava_cli.cli.numbers import AsciiFloatRange, AsciiInt, AsciiIntRange
    from lava_cli.cli.root import build

    root = build([])
    checked: list[str] = []

    def walk(command: Any, path: str, ctx: Any) -> None:
        for param in command.params:
            if isinstance(param.type, (click_types.IntParamType, click_types.FloatParamType)):
                assert isinstance(param.type, (AsciiInt, AsciiIntRange, AsciiFloatRange)), (
                    f"{path} {param.opts}: use a lava_cli.cli.numbers type"
                )
                checked.append(f"{path} {param.opts[0]}")
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), f"{path} {name}", ctx)

    import typer

    walk(root, "lava", typer.Context(root))
    assert "lava prompt --max-tokens" in checked and "lava demo --pause" in checked


# --- through the real emulator ------------------------------------------------------------


def _keys() -> list[dict[str, Any]]:
    listed = run_lava("keys", "list", "--json")
    assert listed.code == 0, listed.output
    keys: list[dict[str, Any]] = json.loads(listed.stdout)
    return keys


def test_a_decimal_comma_never_reaches_the_server(logged_in: Any) -> None:
    _refused(
        run_lava("keys", "create", "--name", "eu", "--spend-limit", "2,50/monthly"),
        "--spend-limit",
        DECIMAL_HINT,
    )
    assert _keys() == []  # today: a key with a $250.00 limit
    created = run_lava("keys", "create", "--name", "grouped", "--spend-limit", "1,000.50/monthly", "--json")  # fmt: skip
    assert created.code == 0, created.output
    assert json.loads(created.stdout)["spend_limit"] == {"amount": "1000.50", "cycle": "monthly"}
    updated = run_lava("keys", "update", "grouped", "--spend-limit", "1,5/daily")
    _refused(updated, "--spend-limit", DECIMAL_HINT)
    (key,) = _keys()
    assert Decimal(key["spend_limit"]["amount"]) == Decimal("1000.50")


# --- numbers the server sends ---------------------------------------------------------------


@pytest.mark.parametrize("spend", [ARABIC_100, f"{FULLWIDTH_10}.00"])
def test_amounts_from_the_api_take_ascii_digits_only(spend: str) -> None:
    from lava_cli.api.types import MalformedResponse, SpendKey, money_of

    body = {"spend_key_id": "sk_x", "name": "x", "status": "active", "current_spend": spend}
    with pytest.raises(MalformedResponse, match="current_spend"):
        SpendKey.from_json(body)
    with pytest.raises(MalformedResponse, match="balance"):
        money_of(spend, "balance")
