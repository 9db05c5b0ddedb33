"""`lava wallet` and `lava wallet fund` end to end: the in-process CLI against the
emulator on a real port. Each of the emulator's cards: the default one completes, the
3-D Secure one waits for its page (exit 9) and completes there, the declined one is
exit 5. Amounts and confirmation are refused before anything is sent; a payment is
never retried, and a re-run after a lost answer cannot charge twice."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import httpx
import pytest

from lava_cli.errors import UsageError
from lava_cli.parsing import parse_fund_amount
from tests.conftest import run_lava, wait_for

FUND = "/v1/wallet/fund"


def wallet() -> dict:
    result = run_lava("wallet", "--json")
    assert result.code == 0, result.output
    return json.loads(result.stdout)


def balance() -> Decimal:
    return Decimal(wallet()["wallet"]["balance"])


def card(last4: str) -> dict:
    return next(m for m in wallet()["payment_methods"] if m["last4"] == last4)


def fund_posts(relay) -> list:
    return [call for call in relay.calls if call[:2] == ("POST", FUND)]


def idempotency_keys(relay) -> list[str]:
    keys = []
    for head in relay.requests:
        text = head.decode("latin-1")
        if text.startswith(f"POST {FUND} "):
            keys += re.findall(r"(?im)^idempotency-key: (\S+)", text)
    return keys


# --- lava wallet ---------------------------------------------------------------------------


def test_wallet_json_is_the_wallet_and_every_card_as_the_api_sent_them(logged_in):
    shown = wallet()
    assert set(shown) == {"wallet", "payment_methods"}
    assert shown["wallet"]["wallet_id"].startswith("wal_")
    methods = shown["payment_methods"]
    assert [m["last4"] for m in methods] == ["4242", "3155", "0002"]
    assert [m["is_default"] for m in methods] == [True, False, False]
    declined = methods[2]
    assert declined["has_error"] is True and declined["error_code"] == "card_declined"
    assert set(declined) == {
        "payment_method_id", "last4", "expiry_month", "expiry_year", "brand", "is_default",
        "has_error", "error_code", "error_message", "error_at",
    }  # fmt: skip


def test_wallet_piped_is_tagged_rows(logged_in):
    result = run_lava("wallet")
    assert result.code == 0, result.output
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert rows[0][0] == "wallet" and rows[0][2] == "100.00"
    cards = [row for row in rows if row[0] == "card"]
    assert [row[2] for row in cards] == ["visa ending 4242", "visa ending 3155", "visa ending 0002"]
    assert cards[0][4] == "default" and cards[1][4] == "-"
    assert [row[5] for row in cards] == ["ok", "ok", "error: Your card was declined."]
    assert all(re.fullmatch(r"\d{2}/\d{4}", row[3]) for row in cards)


def test_wallet_on_a_terminal_is_a_balance_and_a_table(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("wallet", tty=True)
    assert result.code == 0, result.output
    assert result.stdout.startswith("Balance: $100.00 (wal_")
    assert "visa ending 3155" in result.stdout and "default" in result.stdout
    assert "error: Your card was" in result.stdout  # the table may wrap the rest
    assert "lava wallet fund AMOUNT" in result.stderr


def test_json_before_the_subcommand_is_a_usage_error(logged_in):
    result = run_lava("wallet", "--json", "fund", "25", "--yes")
    assert result.code == 2
    assert "lava wallet fund --json" in result.stderr


# --- funding with each card ------------------------------------------------------------------


def test_the_default_card_completes_and_the_balance_grows(logged_in):
    before = balance()
    result = run_lava("wallet", "fund", "25", "--yes", "--json")
    assert result.code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["status"] == "completed" and answer["payment_id"].startswith("pay_")
    assert Decimal(answer["balance"]) == before + 25 == balance()


def test_a_completed_payment_on_a_terminal_says_so(logged_in, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("wallet", "fund", "$1,000.50", "--yes", tty=True)
    assert result.code == 0, result.output
    assert re.search(r"✓ Funded \$1,000\.50 from visa ending 4242 \(pay_\w+\); the balance is "
                     r"\$1,100\.50\.", result.stdout)  # fmt: skip


def test_the_3155_card_waits_for_its_page_then_completes_there(logged_in):
    before = balance()
    result = run_lava("wallet", "fund", "40", "--method", "3155", "--yes")
    assert result.code == 9, result.output
    row = result.stdout.rstrip("\n").split("\t")
    assert row[:5] == ["payment", row[1], "requires_action", "40.00", "-"]
    url = row[5]
    assert url == f"{logged_in.root_url}/wallet/confirm/{row[1]}"
    assert url in result.stderr and "exit code 9" in result.stderr
    assert balance() == before  # nothing moved yet
    page = httpx.post(url, data={"decision": "complete"}, timeout=10)
    assert page.status_code == 200 and "Payment complete" in page.text
    assert balance() == before + 40
    again = httpx.post(url, data={"decision": "complete"}, timeout=10)
    assert again.status_code == 200 and balance() == before + 40  # once only


def test_requires_action_json_is_the_api_answer_and_exit_9(logged_in):
    method = card("3155")["payment_method_id"]
    result = run_lava("wallet", "fund", "10", "--method", method, "--yes", "--json")
    assert result.code == 9
    answer = json.loads(result.stdout)
    assert answer["status"] == "requires_action"
    assert answer["redirect_url"].endswith(answer["payment_id"])


@pytest.mark.slow  # starts the stand-in browser
def test_requires_action_opens_the_page_at_a_desktop(logged_in, tmp_path, monkeypatch):
    opened = tmp_path / "opened"
    fake = tmp_path / "fake-browser"
    fake.write_text(f'#!/bin/sh\nprintf %s "$1" > {opened}\n')
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{fake} %s")
    monkeypatch.setenv("NO_COLOR", "1")
    result = run_lava("wallet", "fund", "12", "--method", "3155", tty=True, input="y\n")
    assert result.code == 9, result.output
    url = re.search(r"http://\S+/wallet/confirm/pay_\w+", result.stdout).group(0)
    assert "opened in your browser" in result.stderr
    # webbrowser runs the command in the background: wait for the file it writes.
    wait_for(opened.exists, "the fake browser to run")
    wait_for(lambda: opened.read_text() == url, "the fake browser to get the URL")


def test_requires_action_piped_opens_no_browser(logged_in, tmp_path, monkeypatch):
    fake = tmp_path / "fake-browser"
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path / 'opened'}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("BROWSER", f"{fake} %s")
    result = run_lava("wallet", "fund", "12", "--method", "3155", "--yes")
    assert result.code == 9
    assert "opened in your browser" not in result.stderr
    assert not (tmp_path / "opened").exists()


def test_the_declined_card_is_exit_5_with_a_hint_and_charges_nothing(logged_in):
    before = balance()
    result = run_lava("wallet", "fund", "25", "--method", "0002", "--yes")
    assert result.code == 5, result.output
    assert "declined" in result.stderr
    assert "hint: fund with another card" in result.stderr
    assert "spend limit" not in result.stderr  # not the spend-key hint of a 402
    assert balance() == before


def test_an_unknown_method_is_exit_4_before_any_payment(logged_in, relay):
    seen = relay()
    result = run_lava("wallet", "fund", "25", "--method", "pm_" + "0" * 24, "--yes")
    assert result.code == 4, result.output
    assert "visa ending 4242" in result.stderr  # the hint lists the cards
    assert fund_posts(seen) == []


# --- refused before anything is sent ----------------------------------------------------------


@pytest.mark.parametrize(
    "amount", ["9.99", "10000.01", "0", "1,5", "１０", "25.001", "ten", "1,0000", "$"]
)
def test_amounts_outside_the_range_or_malformed_are_exit_2_before_any_request(
    logged_in, relay, amount
):
    seen = relay()
    result = run_lava("wallet", "fund", amount, "--yes")
    assert result.code == 2, result.output
    assert result.stderr.startswith("error: AMOUNT") and "\nhint: " in result.stderr
    assert seen.calls == []


@pytest.mark.parametrize(
    ("text", "sent"),
    [("10", "10.00"), ("$10,000", "10000.00"), ("25.5", "25.50"), (" 1,234.56 ", "1234.56")],
)
def test_amounts_are_read_like_spend_limits(text, sent):
    assert parse_fund_amount(text) == sent


def test_the_range_is_refused_with_a_hint_naming_it():
    with pytest.raises(UsageError) as refused:
        parse_fund_amount("10000.01")
    assert refused.value.hint == "fund from $10.00 to $10,000.00 at a time"


def test_without_a_terminal_it_needs_yes_and_sends_nothing(logged_in, relay):
    seen = relay()
    result = run_lava("wallet", "fund", "25")
    assert result.code == 2
    assert "--yes" in result.stderr
    assert seen.calls == []


def test_on_a_terminal_it_asks_and_no_charges_nothing(logged_in, relay):
    before = balance()
    seen = relay()
    result = run_lava("wallet", "fund", "25", tty=True, input="n\n")
    assert result.code == 2
    assert "Charge $25.00 to visa ending 4242 (pm_" in result.stderr
    assert fund_posts(seen) == []
    assert balance() == before


def test_on_a_terminal_yes_charges_once(logged_in):
    before = balance()
    result = run_lava("wallet", "fund", "25", tty=True, input="y\n")
    assert result.code == 0, result.output
    assert balance() == before + 25


def test_the_confirmation_names_a_card_with_an_error(logged_in):
    result = run_lava("wallet", "fund", "25", "--method", "0002", tty=True, input="n\n")
    assert "Lava reports a problem with it: Your card was declined." in result.stderr


# --- never twice -------------------------------------------------------------------------------


def test_a_5xx_is_not_retried_and_says_how_to_check(logged_in, relay):
    from tests.helpers.servers import response

    def fail(method: str, path: str, body: object) -> bytes | None:
        if method == "POST":
            return response("503 Service Unavailable", b'{"error": {"message": "down"}}')
        return None

    seen = relay(fail)
    result = run_lava("wallet", "fund", "25", "--yes")
    assert result.code == 6, result.output
    assert len(fund_posts(seen)) == 1  # never retried
    assert "`lava wallet`" in result.stderr and "cannot charge twice" in result.stderr


def test_every_payment_carries_an_idempotency_key(logged_in, relay):
    seen = relay()
    assert run_lava("wallet", "fund", "25", "--yes").code == 0
    assert run_lava("wallet", "fund", "25", "--yes").code == 0
    keys = idempotency_keys(seen)
    assert len(keys) == 2 and keys[0] != keys[1]  # two runs after answers: two payments
    assert all(re.fullmatch(r"lava-cli-[0-9a-f]{32}", key) for key in keys)


def test_a_rerun_after_a_lost_answer_repeats_the_attempt_and_charges_once(logged_in, relay):
    before = balance()
    lost = [0]

    def lose_first(method: str, path: str) -> bool:
        if method == "POST" and path == FUND and not lost[0]:
            lost[0] = 1
            return True
        return False

    seen = relay(lose=lose_first)
    first = run_lava("wallet", "fund", "25", "--yes")
    assert first.code == 6, first.output
    assert "may have gone through" in first.stderr
    assert balance() == before + 25  # the API charged; the answer never came
    again = run_lava("wallet", "fund", "25", "--yes")
    assert again.code == 0, again.output
    assert "Repeating the payment attempt" in again.stderr
    assert "nothing more was charged" in again.stderr
    assert balance() == before + 25  # not twice
    keys = idempotency_keys(seen)
    assert len(keys) == 2 and keys[0] == keys[1]
    # Answered now: the next run is a new payment, as the user means it.
    third = run_lava("wallet", "fund", "25", "--yes")
    assert third.code == 0 and "Repeating" not in third.stderr
    assert balance() == before + 50


def test_a_lost_attempt_is_not_reused_for_another_amount_or_card(logged_in, relay):
    before = balance()
    lost = [0]

    def lose_first(method: str, path: str) -> bool:
        lost[0] += method == "POST" and path == FUND
        return lost[0] == 1 and method == "POST"

    seen = relay(lose=lose_first)
    assert run_lava("wallet", "fund", "25", "--yes").code == 6
    other = run_lava("wallet", "fund", "30", "--yes")
    assert other.code == 0 and "Repeating" not in other.stderr
    keys = idempotency_keys(seen)
    assert keys[0] != keys[1]
    assert balance() == before + 55
