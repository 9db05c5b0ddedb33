"""`lava usage`: the numbers against what the emulator recorded, and every output form."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from lava_cli.api.types import SpendKey
from lava_cli.contract import cycle_start, next_reset
from lava_cli.ops.usage import forecast
from lava_cli.render.usage import bar, level
from tests.conftest import run_lava
from tests.helpers.ledger import charge
from tests.helpers.terminal import lava_env, run_lava_process


def create(*args: str) -> dict:
    result = run_lava("keys", "create", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def chat(emulator, key: dict, model: str, words: int = 50) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hello " * words}]}
    return httpx.post(
        emulator.base_url + "/chat/completions",
        headers={"Authorization": f"Bearer {key['key']}"},
        json=body,
        timeout=10,
    )


def usage_json(*args: str) -> dict:
    result = run_lava("usage", *args, "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


# --- numbers ---------------------------------------------------------------------------


def test_numbers_match_the_emulator_after_real_gateway_traffic(logged_in):
    emu = logged_in
    a = create("--name", "a", "--spend-limit", "5/monthly", "--request-limit", "100/daily")
    b = create("--name", "b")
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4o"):
        assert chat(emu, a, model).status_code == 200
    assert chat(emu, b, "claude-haiku-4-5", words=300).status_code == 200
    report = usage_json()
    by_id = {k["spend_key_id"]: k for k in report["keys"]}
    total = Decimal(0)
    for key in (a, b):
        recorded = emu.store.key_usage(emu.store.get_key(key["wallet_id"], key["spend_key_id"]))
        shown = by_id[key["spend_key_id"]]
        assert Decimal(shown["current_spend"]) == recorded.current_spend > 0
        assert shown["current_requests"] == recorded.current_requests
        total += recorded.current_spend
    assert by_id[a["spend_key_id"]]["current_requests"] == 3
    assert Decimal(by_id[a["spend_key_id"]]["remaining"]) == Decimal(5) - Decimal(
        by_id[a["spend_key_id"]]["current_spend"]
    )
    assert Decimal(report["totals"]["current_spend"]) == total
    assert report["totals"]["current_requests"] == 4
    balance = emu.store.wallet_balance(a["wallet_id"])
    assert Decimal(report["wallet"]["balance"]) == balance

    wallet = usage_json("--wallet", "--since", "1d")
    assert Decimal(wallet["totals"]["cost"]) == total
    assert wallet["totals"]["requests"] == 4
    models = {m["model"]: m for m in wallet["by_model"]}
    assert models["gpt-4o"]["requests"] == 2 and models["claude-haiku-4-5"]["requests"] == 1
    assert sum(Decimal(m["cost"]) for m in wallet["by_model"]) == total
    assert wallet["by_model_complete"] is True


def test_amounts_stay_exact_decimals(logged_in):
    key = create("--name", "tiny", "--spend-limit", "1/daily")
    charge(logged_in, key, "0.000123", n=3)
    shown = usage_json()["keys"][0]
    assert shown["current_spend"] == "0.000369"
    assert shown["remaining"] == "0.999631"
    tty = run_lava("usage", tty=True)
    assert "<$0.01" in tty.stdout  # below half a cent still shows as spend


# --- output forms ------------------------------------------------------------------------------


def test_piped_rows_are_tab_separated_by_kind(logged_in):
    key = create("--name", "piped", "--spend-limit", "2/weekly")
    charge(logged_in, key, "0.50")
    lines = run_lava("usage").stdout.splitlines()
    rows = [line.split("\t") for line in lines]
    assert [r[0] for r in rows] == ["key", "wallet"]
    row = rows[0]
    assert len(row) == 15  # the request limit's cycle and reset came last (#12)
    assert row[1:8] == [key["spend_key_id"], "piped", "active", "0.50", "2.00", "weekly", "25%"]
    reset = datetime.fromisoformat(row[10].replace("Z", "+00:00"))
    assert reset.weekday() == 0 and reset.hour == 0 and reset > datetime.now(timezone.utc)
    assert row[13:] == ["-", "-"]  # no request limit
    assert "\x1b[" not in "".join(lines)


def test_terminal_table_fits_the_width_and_states_rounding(logged_in, monkeypatch):
    key = create("--name", "wide", "--spend-limit", "10/daily", "--request-limit", "50/daily")
    charge(logged_in, key, "1.005")
    monkeypatch.setenv("NO_COLOR", "1")
    for columns in ("160", "80"):
        monkeypatch.setenv("COLUMNS", columns)
        out = run_lava("usage", tty=True).stdout
        assert "wide" in out and "$1.01 / $10.00 daily" in out  # 1.005 rounds half-up
        assert "1 / 50 daily" in out and "█" in out and "░" in out
        assert "Wallet balance:" in out and "rounded half-up to cents" in out
        assert max(len(line) for line in out.splitlines()) <= int(columns)
        assert "\x1b[" not in out
    assert "last used" not in out  # dropped on a narrow terminal


@pytest.mark.parametrize(("spent", "colour"), [("1", "32"), ("8", "33"), ("9.5", "31")])
def test_bar_colour_follows_how_close_the_limit_is(logged_in, monkeypatch, spent, colour):
    key = create("--name", "c", "--spend-limit", "10/daily")
    charge(logged_in, key, spent)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "120")
    out = run_lava("usage", tty=True).stdout
    assert f"\x1b[{colour}m█" in out


def test_no_keys_still_shows_the_wallet(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    out = run_lava("usage", tty=True).stdout
    assert "No spend keys yet" in out and "Wallet balance: $" in out
    assert usage_json()["keys"] == []


# --- one key ------------------------------------------------------------------------------------


def test_one_key_with_a_forecast(logged_in, monkeypatch):
    key = create("--name", "burn", "--spend-limit", "100/monthly")
    charge(logged_in, key, "0.25", n=4)
    detail = usage_json("burn")
    assert detail["current_spend"] == "1.00" and detail["current_requests"] == 4
    fc = detail["forecast"]
    assert Decimal(fc["spend_per_hour"]) > 0
    assert detail["by_model"] == [
        {"model": "gpt-4o-mini", "provider": "openai", "requests": 4, "tokens": 60, "cost": "1.00"}
    ]
    reset = datetime.fromisoformat(detail["resets_at"].replace("Z", "+00:00"))
    assert reset.day == 1 and reset.hour == 0
    if fc["limit_reached_at"] is not None:  # at this pace, unless the month ends first
        assert fc["before_reset"] is True
    monkeypatch.setenv("NO_COLOR", "1")
    out = run_lava("usage", "burn", tty=True).stdout
    assert "pace" in out and "/h since" in out and "gpt-4o-mini" in out
    piped = dict(line.split("\t", 1) for line in run_lava("usage", "burn").stdout.splitlines())
    assert piped["spend"] == "1.00" and piped["remaining"] == "99.00"


def test_one_key_says_when_there_is_not_enough_data(logged_in):
    key = create("--name", "fresh", "--spend-limit", "5/daily")
    charge(logged_in, key, "0.10")
    detail = usage_json(key["spend_key_id"])
    assert detail["forecast"]["spend_per_hour"] is None
    assert "not enough data" in detail["forecast"]["note"]
    assert "not enough data" in run_lava("usage", "fresh").stdout


def test_one_key_counts_only_its_own_requests(logged_in):
    mine = create("--name", "mine")
    other = create("--name", "other")
    charge(logged_in, mine, "0.10", n=2)
    charge(logged_in, other, "0.30", n=3, model="gpt-4o")
    detail = usage_json("mine")
    assert [m["model"] for m in detail["by_model"]] == ["gpt-4o-mini"]
    assert detail["by_model"][0]["requests"] == 2


@pytest.mark.slow
def test_an_expiry_at_the_end_of_time_shows_on_a_terminal_east_of_utc(logged_in):
    # 9999-12-31 23:30 UTC is past the year 9999 in Tokyo: shown in UTC, not a crash.
    create("--name", "far", "--expires-at", "9999-12-31T23:30:00Z")
    env = lava_env(
        LAVA_SECRET_KEY=logged_in.secrets[0], LAVA_BASE_URL=logged_in.base_url, TZ="JST-9"
    )
    shown = run_lava_process(["usage", "far"], env, terminal=True)
    assert shown.code == 0, shown.output
    assert "9999-12-31T23:30:00Z" in shown.stdout and "far" in shown.stdout


# --- the wallet ---------------------------------------------------------------------------------


def test_wallet_days_and_models_page_through_requests(logged_in, monkeypatch):
    key = create("--name", "busy")
    charge(logged_in, key, "0.01", n=150)  # more than one /v1/requests page
    charge(logged_in, key, "0.50", n=2, model="gpt-4o")
    old = datetime.now(timezone.utc) - timedelta(days=10)
    charge(logged_in, key, "9.00", model="o3-mini", at=old)  # outside the window
    report = usage_json("--wallet", "--since", "7d")
    models = {m["model"]: m for m in report["by_model"]}
    assert set(models) == {"gpt-4o-mini", "gpt-4o"}
    assert models["gpt-4o-mini"]["requests"] == 150 and models["gpt-4o-mini"]["cost"] == "1.50"
    assert report["by_model"][0]["model"] == "gpt-4o-mini"  # most expensive first
    assert report["totals"] == {"cost": "2.50", "requests": 152, "tokens": 152 * 15}
    assert len(report["days"]) in (7, 8)  # a window starting mid-day touches 8 dates
    rows = [line.split("\t") for line in run_lava("usage", "--wallet").stdout.splitlines()]
    assert {r[0] for r in rows} == {"wallet", "day", "model"}
    assert sum(Decimal(r[2]) for r in rows if r[0] == "day") == Decimal("2.50")
    monkeypatch.setenv("NO_COLOR", "1")
    out = run_lava("usage", "--wallet", tty=True).stdout
    assert "By model" in out and "$2.50 over 152 requests" in out and "█" in out


def test_wallet_window_by_dates(logged_in):
    key = create("--name", "dated")
    day = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    charge(logged_in, key, "1.00", at=day - timedelta(days=3))
    charge(logged_in, key, "2.00", at=day - timedelta(days=1))
    start = (day - timedelta(days=3)).date().isoformat()
    end = (day - timedelta(days=2)).date().isoformat()
    report = usage_json("--start", start, "--end", end)  # a range implies --wallet
    assert [d["date"] for d in report["days"]] == [start, end]
    assert report["totals"]["cost"] == "1.00"
    assert [m["cost"] for m in report["by_model"]] == ["1.00"]


@pytest.mark.parametrize(
    "args",
    [
        ("k", "--wallet"),
        ("k", "--since", "7d"),
        ("--since", "7d", "--start", "2025-01-01"),
        ("--start", "2025-02-01", "--end", "2025-01-01"),
        ("--since", "soon"),
    ],
)
def test_usage_errors_before_any_request(logged_in, args):
    result = run_lava("usage", *args)
    assert result.code == 2, result.output


def test_not_logged_in(emulator):
    result = run_lava("usage")
    assert result.code == 3 and "not logged in" in result.stderr


# --- figures people read (#12) ---------------------------------------------------------------


def _on_terminal(logged_in, *args: str, columns: int = 160) -> str:
    env = lava_env(
        LAVA_SECRET_KEY=logged_in.secrets[0],
        LAVA_BASE_URL=logged_in.base_url,
        NO_COLOR="1",
        COLUMNS=str(columns),
    )
    shown = run_lava_process(["usage", *args], env, terminal=True)
    assert shown.code == 0, shown.output
    return shown.stdout


@pytest.mark.slow
def test_terminal_amounts_are_in_cents_as_the_footer_says(logged_in):
    key = create("--name", "cents", "--spend-limit", "1/monthly")
    charge(logged_in, key, "0.00963")
    for args in ((), ("cents",), ("--wallet",)):
        out = _on_terminal(logged_in, *args)
        assert "rounded half-up to cents" in out
        assert "0.00963" not in out and "$0.01" in out, out
    assert usage_json("cents")["current_spend"] == "0.00963"  # --json stays exact


def _month_start() -> datetime:
    now = datetime.now(timezone.utc)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def test_the_wallet_total_agrees_with_the_wallet_and_says_what_it_covers(logged_in, monkeypatch):
    """#12: "Total this cycle" summed each key's own cycle and dropped revoked keys."""
    kept = create("--name", "kept", "--spend-limit", "5/daily")
    gone = create("--name", "gone")
    charge(logged_in, kept, "1.25")
    charge(logged_in, gone, "2.50", n=2)
    yesterday = datetime.now(timezone.utc) - timedelta(days=1)
    if yesterday >= _month_start():  # this month, but outside the daily cycle
        charge(logged_in, kept, "0.75", at=yesterday)
    assert run_lava("keys", "revoke", "gone", "--yes").code == 0
    start = _month_start().isoformat()
    wallet = usage_json("--wallet", "--start", start)["totals"]
    report = usage_json()
    month = report["wallet_month"]
    assert (month["cost"], month["requests"]) == (wallet["cost"], wallet["requests"])
    assert Decimal(month["cost"]) >= Decimal("6.25") and "revoked" in month["covers"]
    assert "own current cycle" in report["totals"]["covers"]
    rows = [line.split("\t") for line in run_lava("usage").stdout.splitlines()]
    wallet_row = next(r for r in rows if r[0] == "wallet")
    assert wallet_row[3:] == [wallet["cost"], str(wallet["requests"]), month["start"]]
    monkeypatch.setenv("NO_COLOR", "1")
    out = run_lava("usage", tty=True).stdout
    shown = f"${Decimal(wallet['cost']).quantize(Decimal('0.01')):,}"
    assert f"Wallet this month: {shown} over {wallet['requests']} requests" in out
    assert "revoked ones too" in out and "its own current cycle" in out


@pytest.mark.slow
def test_each_limit_shows_its_own_reset(logged_in):
    """#12: the reset shown was the spend cycle's even beside a daily request limit."""
    create("--name", "two", "--spend-limit", "5/monthly", "--request-limit", "100/daily")
    now = datetime.now(timezone.utc)
    daily, monthly = next_reset("daily", now), next_reset("monthly", now)
    assert daily is not None and monthly is not None
    iso = {c: t.strftime("%Y-%m-%dT%H:%M:%SZ") for c, t in (("d", daily), ("m", monthly))}
    detail = dict(line.split("\t", 1) for line in run_lava("usage", "two").stdout.splitlines())
    assert detail["spend resets"] == iso["m"] and detail["requests reset"] == iso["d"]
    row = run_lava("usage").stdout.splitlines()[0].split("\t")
    assert row[10] == iso["m"] and row[13:] == ["daily", iso["d"]]
    shown = usage_json("two")
    assert (shown["spend_resets_at"], shown["requests_reset_at"]) == (iso["m"], iso["d"])
    out = _on_terminal(logged_in, "two")
    assert "spend resets" in out and "requests reset" in out
    table = _on_terminal(logged_in)
    assert "spend " in table and "requests " in table and "in 1" in table


def test_pace_says_its_unit_when_piped(logged_in):
    """#12: piped, the pace was a bare number."""
    key = create("--name", "paced", "--spend-limit", "100/monthly")
    charge(logged_in, key, "0.25", n=4)
    piped = dict(line.split("\t", 1) for line in run_lava("usage", "paced").stdout.splitlines())
    number, unit = piped["pace"].split(" ")
    assert unit == "USD/h" and Decimal(number) > 0


def test_start_alone_is_judged_on_its_own(logged_in):
    """#12: `--start` alone complained about `--end`, which nobody had given."""
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    result = run_lava("usage", "--start", tomorrow)
    assert result.code == 2
    assert f"--start: {tomorrow} is in the future" in result.stderr
    assert "--end" not in result.stderr.split("hint:")[0]
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    report = usage_json("--start", yesterday)  # runs to now
    assert report["days"][0]["date"] == yesterday


# --- the pure parts ------------------------------------------------------------------------------


def test_cycle_resets_are_calendar_aligned_utc():
    wed = datetime(2025, 1, 15, 12, 30, tzinfo=timezone.utc)
    assert next_reset("daily", wed) == datetime(2025, 1, 16, tzinfo=timezone.utc)
    assert next_reset("weekly", wed) == datetime(2025, 1, 20, tzinfo=timezone.utc)  # Monday
    assert next_reset("monthly", wed) == datetime(2025, 2, 1, tzinfo=timezone.utc)
    dec = datetime(2025, 12, 31, 23, 59, tzinfo=timezone.utc)
    assert next_reset("monthly", dec) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert next_reset("total", wed) is None


def test_cycles_start_at_utc_midnight_whatever_the_callers_zone():
    tokyo = timezone(timedelta(hours=9))
    monday_morning_in_tokyo = datetime(2025, 1, 20, 8, 0, tzinfo=tokyo)  # Sunday 23:00 UTC
    assert cycle_start("daily", monday_morning_in_tokyo) == datetime(
        2025, 1, 19, tzinfo=timezone.utc
    )
    assert cycle_start("weekly", monday_morning_in_tokyo) == datetime(
        2025, 1, 13, tzinfo=timezone.utc
    )
    assert cycle_start("monthly", datetime(2025, 3, 1)) == datetime(2025, 3, 1, tzinfo=timezone.utc)
    assert cycle_start("total", monday_morning_in_tokyo) is None
    with pytest.raises(ValueError, match="unknown cycle"):
        next_reset("yearly", monday_morning_in_tokyo)


def test_bars_and_levels():
    assert bar(Decimal(0), 4) == "░░░░"
    assert bar(Decimal("0.001"), 4) == "█░░░"  # any spend shows
    assert bar(Decimal("2"), 4) == "████"
    assert bar(None, 3) == "···"
    assert [level(Decimal(x)) for x in ("0.5", "0.75", "0.9")] == ["ok", "warn", "danger"]


def _key(**over: object) -> SpendKey:
    base = {
        "spend_key_id": "sk_x", "name": "x", "status": "active",
        "spend_limit": {"amount": "10.00", "cycle": "daily"},
        "current_spend": "2.00", "total_spend": "2.00",
        "current_requests": 4, "total_requests": 4,
        "created_at": "2025-01-01T00:00:00Z",
    }  # fmt: skip
    base.update(over)
    return SpendKey.from_json(base)


def test_forecast_extrapolates_the_pace_of_the_cycle():
    now = datetime(2025, 1, 15, 4, 0, tzinfo=timezone.utc)  # 4 h into the day
    fc = forecast(_key(), now)
    assert fc.per_hour == Decimal("0.5")
    assert fc.limit_at == datetime(2025, 1, 15, 20, 0, tzinfo=timezone.utc)  # $8 left at $0.50/h
    assert fc.before_reset
    slow = forecast(_key(current_spend="0.40"), now)
    assert slow.limit_at is None and "resets before" in slow.reason
    assert forecast(_key(current_requests=1), now).per_hour is None
    assert forecast(_key(current_spend="0"), now).per_hour is None
