"""The Stripe stand-in's card setup page (Checkout in `setup` mode on the platform's own account), where a
merchant saves the card its monthly licence is charged to: in headless Chromium, each of its states
checked with axe-core (opened as test_accessibility.py opens pages). Screenshots land in
artifacts/screenshots/."""

from __future__ import annotations

import pytest
import requests
from test_accessibility import Axe, open_page

from conftest import PHONE, STRIPE_KEY, screenshot

RETURN_URL = "https://billing.example/card-saved"  # answered by the page's route: never reached


@pytest.fixture(scope="module")
def stand_in() -> str:
    """A Stripe stand-in of this test's own: the shared stack's is asked only for the demo store's
    checkouts (test_stripe_checkout.py counts them)."""
    from tresen.standins.stripe_api import StripeStandIn, start

    server, url = start(StripeStandIn(None, "whsec_card_setup", "whsec_card_setup_connect"))
    yield url
    server.shutdown()


def platform_call(stand_in: str, method: str, path: str, params: dict) -> dict:
    """A call on the platform's own Stripe account: no Stripe-Account header."""
    answer = requests.request(
        method,
        f"{stand_in}{path}",
        **({"params": params} if method == "GET" else {"data": params}),
        headers={"Authorization": f"Bearer {STRIPE_KEY}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def phone_page(playwright_browser):
    page, faults = open_page(playwright_browser, PHONE)
    yield page
    page.context.close()
    assert faults == []


def test_a_merchant_saves_a_card_on_the_setup_page_in_each_of_its_states(stand_in, phone_page, axe):
    page, audit = phone_page, Axe(axe)
    customer = platform_call(stand_in, "POST", "/v1/customers", {"email": "owner@cafe.example"})
    session = platform_call(
        stand_in,
        "POST",
        "/v1/checkout/sessions",
        {
            "mode": "setup",
            "currency": "eur",
            "customer": customer["id"],
            "success_url": f"{RETURN_URL}?session={{CHECKOUT_SESSION_ID}}",
            "cancel_url": RETURN_URL,
        },
    )
    page.route(f"{RETURN_URL}?*", lambda route: route.fulfill(content_type="text/html", body="<title>Saved</title>"))
    page.goto(session["url"])
    number = page.get_by_label("Card number")
    assert number.input_value() == "4242 4242 4242 4242"
    assert page.get_by_label("Expiry (MM/YY)").input_value() == "12/34"
    audit.check(page, "card setup")
    screenshot(page, "stripe-card-setup-phone")

    number.fill("4242 4242 4242 4241")
    page.get_by_role("button", name="Save card").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_role("alert").inner_text() == "Your card number is invalid."
    assert number.input_value() == "4242 4242 4242 4241"  # kept, to be corrected
    audit.check(page, "card setup, the number invalid")
    screenshot(page, "stripe-card-setup-invalid-phone")

    number.fill("4000 0027 6000 3184")
    page.get_by_label("Expiry (MM/YY)").fill("09/33")
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url(f"{RETURN_URL}?session={session['id']}")
    done = platform_call(
        stand_in, "GET", f"/v1/checkout/sessions/{session['id']}", {"expand[]": "setup_intent.payment_method"}
    )
    method = done["setup_intent"]["payment_method"]
    assert (done["status"], done["setup_intent"]["status"], method["customer"]) == (
        "complete",
        "succeeded",
        customer["id"],
    )
    card = method["card"]
    assert (card["brand"], card["last4"], card["exp_month"], card["exp_year"]) == ("visa", "3184", 9, 2033)

    page.goto(session["url"])
    page.get_by_text("This checkout is complete.").wait_for()
    audit.check(page, "card setup, complete")
    audit.assert_none()
