"""`lava usage --format csv|json`: every view's rows, parsed back with the csv module and
checked against what the emulator recorded; and `lava usage KEY --by day|model`."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from tests.conftest import run_lava
from tests.helpers.ledger import charge
from tests.helpers.servers import answering, response

KEY_HEADER = [
    "spend_key_id", "name", "status",
    "current_spend", "spend_limit", "spend_cycle", "spend_used", "spend_resets_at",
    "current_requests", "request_limit", "request_cycle", "requests_used", "requests_reset_at",
    "total_spend", "total_requests", "last_used_at", "expires_at",
]  # fmt: skip


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def exported(*args: str) -> tuple[list[str], list[dict[str, str]], str]:
    """(header, rows, raw text) of `lava usage ARGS --format csv`, parsed by the csv module."""
    result = run_lava("usage", *args, "--format", "csv")
    assert result.code == 0, result.output
    reader = csv.reader(io.StringIO(result.stdout, newline=""))
    header, *body = list(reader)
    return header, [dict(zip(header, row, strict=True)) for row in body], result.stdout


def as_json(*args: str) -> list[dict]:
    result = run_lava("usage", *args, "--format", "json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def same_rows(csv_rows: list[dict[str, str]], json_rows: list[dict]) -> None:
    """--format json is the machine form of the same rows: equal once written as text."""
    as_text = [{k: "" if v is None else str(v) for k, v in row.items()} for row in json_rows]
    assert as_text == csv_rows


def noon(days_ago: int) -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def test_per_key_rows_with_rfc4180_quoting(logged_in):
    awkward = 'team "alpha", nightly'
    key = create("--name", awkward, "--spend-limit", "10/monthly", "--request-limit", "50/daily")
    plain = create("--name", "plain")
    charge(logged_in, key, "0.000123", n=3)
    header, rows, raw = exported()
    assert header == KEY_HEADER
    assert "\r\n" in raw and '"team ""alpha"", nightly"' in raw  # quoted as RFC 4180 says
    by_id = {r["spend_key_id"]: r for r in rows}
    row = by_id[key["spend_key_id"]]
    assert row["name"] == awkward  # round trip through the csv module
    assert row["current_spend"] == "0.000369" and "$" not in raw
    assert (row["spend_limit"], row["spend_cycle"], row["spend_used"]) == (
        "10.00",
        "monthly",
        "0.0000",
    )
    assert (row["request_limit"], row["request_cycle"], row["requests_used"]) == (
        "50",
        "daily",
        "0.0600",
    )
    assert row["current_requests"] == "3" and row["total_spend"] == "0.000369"
    for column in ("spend_resets_at", "requests_reset_at", "last_used_at"):
        datetime.fromisoformat(row[column].replace("Z", "+00:00"))
    assert row["expires_at"] == ""
    other = by_id[plain["spend_key_id"]]
    assert other["spend_limit"] == other["spend_resets_at"] == other["request_cycle"] == ""
    same_rows(rows, as_json())
    one = exported(key["spend_key_id"])[1]
    assert one == [row]


def test_per_day_rows_agree_with_the_wallet(logged_in):
    key = create("--name", "daily")
    charge(logged_in, key, "1.50", at=noon(2))
    charge(logged_in, key, "0.25", n=2, at=noon(1))
    header, rows, _ = exported("--wallet", "--since", "3d")
    assert header == ["date", "requests", "tokens", "cost"]
    dates = [date.fromisoformat(r["date"]) for r in rows]
    assert dates == sorted(dates) and len(dates) == len(set(dates))
    costs = {r["date"]: r["cost"] for r in rows}
    assert (
        costs[noon(2).date().isoformat()] == "1.50" and costs[noon(1).date().isoformat()] == "0.50"
    )
    totals = json.loads(run_lava("usage", "--wallet", "--since", "3d", "--json").stdout)["totals"]
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal(totals["cost"])
    assert sum(int(r["requests"]) for r in rows) == totals["requests"] == 3
    same_rows(rows, as_json("--wallet", "--since", "3d"))


def test_per_model_rows(logged_in):
    key = create("--name", "models")
    charge(logged_in, key, "0.10", n=3)
    charge(logged_in, key, "1.00", model="gpt-4o")
    header, rows, _ = exported("--wallet", "--by", "model")
    assert header == ["model", "provider", "requests", "tokens", "cost"]
    assert [(r["model"], r["requests"], r["cost"]) for r in rows] == [
        ("gpt-4o", "1", "1.00"),
        ("gpt-4o-mini", "3", "0.30"),
    ]
    same_rows(rows, as_json("--by", "model"))  # --by alone means the wallet


def test_per_key_and_day_rows_count_only_that_key(logged_in):
    mine = create("--name", "mine")
    other = create("--name", "other")
    charge(logged_in, mine, "0.40", at=noon(3))
    charge(logged_in, other, "9.00", n=2, at=noon(3))
    url = logged_in.base_url + "/chat/completions"
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(timeout=10) as http:  # today's spend, through the gateway itself
        for _ in range(2):
            sent = http.post(url, json=body, headers={"Authorization": f"Bearer {mine['key']}"})
            assert sent.status_code == 200
    header, rows, _ = exported("mine", "--by", "day", "--since", "4d")
    assert header == ["date", "spend_key_id", "name", "requests", "tokens", "cost"]
    assert {r["spend_key_id"] for r in rows} == {mine["spend_key_id"]}
    assert len(rows) == 5  # every UTC day the window touches, listed
    by_date = {r["date"]: r for r in rows}
    assert by_date[noon(3).date().isoformat()]["cost"] == "0.40"
    today = by_date[datetime.now(timezone.utc).date().isoformat()]
    current = json.loads(run_lava("usage", "mine", "--json").stdout)
    assert today["requests"] == "2" and Decimal(today["cost"]) > 0
    assert sum(Decimal(r["cost"]) for r in rows) == Decimal(current["total_spend"])
    assert by_date[noon(2).date().isoformat()]["cost"] == "0.00"
    same_rows(rows, as_json("mine", "--by", "day", "--since", "4d"))
    models = exported("mine", "--by", "model", "--since", "4d")[1]
    assert [(m["model"], m["requests"]) for m in models] == [("gpt-4o-mini", "3")]
    report = json.loads(run_lava("usage", "mine", "--by", "day", "--since", "4d", "--json").stdout)
    assert report["complete"] is True and len(report["days"]) == 5


def test_per_key_and_day_refuses_when_the_api_cannot_say_whose_requests(logged_in, raw_server):
    """Lava documents /v1/requests without a spend key on its records: against such an
    API the per-key view is an error, never the wallet's figures under the key's name."""
    key = create("--name", "k")
    shown = json.loads(run_lava("keys", "show", "k", "--json").stdout)
    record = {
        "request_id": "req_1", "status": "completed", "provider": "openai",
        "provider_key_type": "managed", "model": "gpt-4o-mini", "endpoint": "/v1/chat/completions",
        "model_usage": {"total_tokens": 15}, "cost": "0.50",
        "created_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }  # fmt: skip

    def answer(method: str, path: str) -> bytes:
        if path.startswith("/v1/spend_keys/"):
            return response("200 OK", json.dumps(shown).encode())
        page = {"data": [record], "has_more": False, "next_cursor": None}
        return response("200 OK", json.dumps(page).encode())

    server = raw_server(answering(answer))
    result = run_lava(
        "--base-url",
        server.base_url,
        "usage",
        key["spend_key_id"],
        "--by",
        "day",
        "--format",
        "csv",
    )
    assert result.code == 1
    assert "do not say which spend key made them" in result.stderr
    assert "--wallet --by day" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "xml"),
        ("--format", "csv", "--json"),
        ("--by", "week"),
        ("k", "--since", "7d"),
        ("k", "--wallet", "--by", "day"),
    ],
)
def test_export_usage_errors_before_any_request(logged_in, args):
    result = run_lava("usage", *args)
    assert result.code == 2, result.output
