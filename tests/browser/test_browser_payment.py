"""The ``requires_action`` step of funding in a real headless Chromium: the page at
``redirect_url`` shows the payment, "Complete payment" credits the wallet once, and
pressing again (or going back and pressing) changes nothing. Screenshots land in
test-artifacts/browser/. Skipped only where Chromium or playwright is missing, and
never under CI=true (`scripts/ci_system_deps.sh` installs the browser).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from lava_cli.emulator.server import EmulatorHandle, build_app, start_in_thread
from tests.helpers.browser import Browser, Page, launched, shot

SECRET = "aks_test_" + "P" * 32


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emu() -> Iterator[EmulatorHandle]:
    with start_in_thread(secrets=[SECRET], app_factory=build_app) as handle:
        yield handle


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 800, "height": 700})
    yield context.new_page()
    context.close()


@pytest.fixture
def api(emu: EmulatorHandle) -> Iterator[httpx.Client]:
    emu.reset()
    with httpx.Client(
        base_url=emu.base_url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
    ) as client:
        yield client


def _waiting_payment(api: httpx.Client, amount: str) -> dict[str, str]:
    methods = api.get("/payment_methods").json()["data"]
    card = next(m for m in methods if not m["is_default"] and not m["has_error"])
    answer = api.post(
        "/wallet/fund", json={"payment_method_id": card["payment_method_id"], "amount": amount}
    )
    assert answer.status_code == 200 and answer.json()["status"] == "requires_action"
    body: dict[str, str] = answer.json()
    return body


def _balance(api: httpx.Client) -> Decimal:
    return Decimal(api.get("/wallet").json()["balance"])


def test_complete_payment_in_chromium_credits_the_wallet_once(page: Page, api: httpx.Client):
    before = _balance(api)
    payment = _waiting_payment(api, "25.00")
    page.goto(payment["redirect_url"])
    assert page.title() == "Confirm this payment"
    assert page.locator("#amount").inner_text() == "$25.00"
    assert page.locator("#payment").inner_text() == payment["payment_id"]
    assert page.locator("#card").inner_text() == "visa ending 3155"
    shot(page, "payment-confirm-page")
    page.click("#complete")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Payment complete"
    assert page.locator("#balance").inner_text() == f"${before + Decimal('25.00'):.2f}"
    shot(page, "payment-complete-page")
    assert _balance(api) == before + Decimal("25.00")
    page.go_back()  # the form again, from the history: pressing it changes nothing
    page.reload()
    assert page.locator("h1").inner_text() == "Payment complete"
    assert page.locator("#complete").count() == 0
    assert _balance(api) == before + Decimal("25.00")


def test_fail_in_chromium_leaves_the_balance(page: Page, api: httpx.Client):
    before = _balance(api)
    payment = _waiting_payment(api, "60.00")
    page.goto(payment["redirect_url"])
    page.click("#fail")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Payment failed"
    assert _balance(api) == before
