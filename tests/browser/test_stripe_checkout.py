"""Paying with Stripe on the ordering page, and the staff board's Stripe panel, in headless Chromium.

`web_stack` runs with a Stripe test key, so Stripe is its local stand-in (`web_stack.stripe_url`): its
hosted checkout page (Pay / Cancel) and onboarding page are driven as a customer and an owner use
Stripe's, and its request log shows what the API asked of Stripe. Screenshots land in
artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from test_web_pages import add, fill_customer, open_menu, orders_of, sign_in_staff, staff_get, unique_email

from conftest import STRIPE_KEY, TABLET, new_page, screenshot

PLACE_ORDER = "Zahlungspflichtig bestellen"


@pytest.fixture(scope="module")
def demo_account(web_stack) -> str:
    """The demo store's connected account, which `tresen dev` onboarded at start."""
    return staff_get(web_stack, "/v1/stores/demo/payments/stripe")["account_id"]


def stand_in_requests(stack) -> list[dict]:
    return requests.get(f"{stack.stripe_url}/_standin/requests", timeout=10).json()["data"]


def webhooks_delivered(stack) -> None:
    requests.post(f"{stack.stripe_url}/_standin/wait", timeout=30).raise_for_status()


def order_with_stripe(page, stack, email: str) -> str:
    """An order placed on the ordering page paying with Stripe: the page is left on Stripe's hosted
    checkout. Its Checkout Session's id."""
    open_menu(page, stack.url)
    add(page, "cappuccino", "oat")
    add(page, "croissant")
    fill_customer(page, email)
    page.get_by_label("Karte (Stripe)").check()
    page.get_by_role("button", name=PLACE_ORDER).click()
    page.wait_for_url(re.compile(rf"^{re.escape(stack.stripe_url)}/_standin/checkout/cs_test_\w+$"))
    return page.url.rsplit("/", 1)[1]


def the_order(stack, email: str) -> dict:
    [order] = orders_of(stack, email)
    return order


def test_the_customer_chooses_how_to_pay_online_default_first_in_either_language(web_stack, phone):
    open_menu(phone, web_stack.url)
    add(phone, "espresso")
    providers = phone.locator("#provider-field")
    assert providers.is_visible()  # online is the first way to pay, so its providers are offered at once
    assert phone.get_by_role("group", name="Online bezahlen mit").is_visible()
    radios = providers.get_by_role("radio")
    assert radios.evaluate_all("inputs => inputs.map((i) => [i.value, i.checked, i.labels[0].textContent])") == [
        ["sandbox", True, "Sandbox (Test)"],
        ["stripe", False, "Karte (Stripe)"],
    ]
    phone.get_by_label("Karte (Stripe)").check()
    screenshot(phone, "ordering-provider-choice-phone")

    phone.get_by_label("An der Kasse bezahlen").check()  # no provider at the counter
    assert providers.is_hidden()
    phone.get_by_label("Jetzt online bezahlen").check()
    assert providers.is_visible()

    phone.get_by_role("button", name="English").click()  # the choices stay as they were
    assert phone.get_by_label("Card (Stripe)").is_checked()
    assert phone.get_by_label("Sandbox (test)").is_visible()
    assert phone.get_by_role("group", name="Pay online with").is_visible()
    phone.get_by_role("button", name="Deutsch").click()


def test_with_one_online_provider_nothing_is_asked_and_none_is_sent(web_stack, phone):
    """A deployment without Stripe: the store's one provider is its default, the API picks it."""

    def one_provider(route):
        menu = route.fetch().json()
        menu["store"]["online_providers"] = ["sandbox"]
        route.fulfill(json=menu)

    phone.route("**/v1/stores/demo/menu", one_provider)
    bodies: list[dict] = []
    phone.on("request", lambda r: r.method == "POST" and r.url.endswith("/orders") and bodies.append(r.post_data_json))
    open_menu(phone, web_stack.url)
    add(phone, "espresso")
    fill_customer(phone, unique_email())
    assert phone.locator("#provider-field").is_hidden()
    assert phone.locator("input[name=provider]").count() == 0
    phone.get_by_role("button", name=PLACE_ORDER).click()
    phone.wait_for_url(re.compile(r".*/v1/sandbox/checkout/pay_sbx_\w+\?return=.*"))
    assert [body["payment"] for body in bodies] == [{"method": "online"}]


def test_a_customer_pays_with_stripe_on_its_checkout_and_comes_back_to_the_paid_order(web_stack, demo_account, phone):
    email = unique_email()
    bodies: list[dict] = []
    phone.on("request", lambda r: r.method == "POST" and r.url.endswith("/orders") and bodies.append(r.post_data_json))
    session_id = order_with_stripe(phone, web_stack, email)
    assert [body["payment"] for body in bodies] == [{"method": "online", "provider": "stripe"}]
    order = the_order(web_stack, email)
    # Stripe's own address, as the API gave it: nothing appended
    assert order["payment"]["checkout_url"] == phone.url == f"{web_stack.stripe_url}/_standin/checkout/{session_id}"
    assert (order["payment"]["provider"], order["payment"]["id"], order["status"]) == (
        "stripe",
        session_id,
        "awaiting_payment",
    )
    assert phone.locator("tfoot").inner_text().split() == ["Total", "€7.20"]  # 4,30 + 2,90
    screenshot(phone, "stripe-checkout-phone")

    phone.get_by_label("Test outcome").select_option("paid")
    phone.get_by_role("button", name="Pay").click()
    phone.wait_for_url(re.compile(rf".*/\?store=demo#order={order['id']}$"))  # Stripe sends the customer back
    phone.wait_for_selector("#order-status[data-status=paid]")  # once its webhook has arrived
    assert phone.locator("#order-status").inner_text() == "Bezahlt"
    invoice = phone.locator("#invoice-number").inner_text()
    assert re.fullmatch(r"DEMO-\d{4}-\d{6}", invoice)
    assert phone.locator("#order-total").inner_text() == "7,20\xa0€"
    assert phone.get_by_role("link", name="Erneut bezahlen").count() == 0
    screenshot(phone, "order-paid-stripe-phone")

    paid = the_order(web_stack, email)
    assert (paid["payment_status"], paid["invoice_number"], paid["totals"]["total"]) == ("paid", invoice, 720)
    webhooks_delivered(web_stack)
    made = [r for r in stand_in_requests(web_stack) if r["params"].get("client_reference_id") == order["id"]]
    assert [(r["method"], r["path"], r["stripe_account"], r["status"]) for r in made] == [
        ("POST", "/v1/checkout/sessions", demo_account, 200)
    ]


def test_a_canceled_checkout_leaves_the_order_to_pay_on_the_same_session(web_stack, phone):
    email = unique_email()
    session_id = order_with_stripe(phone, web_stack, email)
    checkout_url = phone.url
    phone.get_by_role("button", name="Cancel").click()
    order = the_order(web_stack, email)
    phone.wait_for_url(re.compile(rf".*/\?store=demo#order={order['id']}$"))
    phone.wait_for_selector("#order-status[data-status=awaiting_payment]")
    assert phone.locator("#order-status").inner_text() == "Wartet auf Zahlung"
    pay_again = phone.get_by_role("link", name="Erneut bezahlen")
    assert pay_again.get_attribute("href") == checkout_url  # the same session, Stripe's address as it is
    screenshot(phone, "order-stripe-canceled-checkout-phone")

    pay_again.click()
    phone.wait_for_url(checkout_url)
    phone.get_by_role("button", name="Pay").wait_for()  # the session is still open: the customer may pay
    assert the_order(web_stack, email)["payment"]["id"] == session_id


def test_an_expired_checkout_cancels_the_order_and_the_order_page_says_so(web_stack, demo_account, phone):
    email = unique_email()
    session_id = order_with_stripe(phone, web_stack, email)
    expired = requests.post(
        f"{web_stack.stripe_url}/v1/checkout/sessions/{session_id}/expire",
        headers={"Authorization": f"Bearer {STRIPE_KEY}", "Stripe-Account": demo_account},
        timeout=10,
    )
    assert expired.json()["status"] == "expired"
    webhooks_delivered(web_stack)  # checkout.session.expired

    phone.reload()  # the customer still on Stripe's page: it says the checkout expired
    phone.get_by_text("This checkout has expired.").wait_for()
    phone.get_by_role("link", name="Return to the shop").click()
    order = the_order(web_stack, email)
    phone.wait_for_url(re.compile(rf".*/\?store=demo#order={order['id']}$"))
    phone.wait_for_selector("#order-status[data-status=canceled]")
    assert phone.locator("#order-status").inner_text() == "Storniert"
    assert phone.get_by_role("link", name="Erneut bezahlen").count() == 0
    assert phone.locator("#invoice-number").count() == 0
    screenshot(phone, "order-stripe-expired-phone")
    assert (order["status"], order["payment_status"]) == ("canceled", "unpaid")


def licence_billing(request: dict) -> bool:
    """The platform's own Checkout Sessions (a licence invoice paid, a card saved in the portal), made
    on its own account by the portal's tests that share this stand-in."""
    return request["stripe_account"] is None and any(key.startswith("metadata[tresen_") for key in request["params"])


def test_every_request_for_the_demo_stores_checkouts_was_made_on_its_stripe_account(web_stack, demo_account):
    """Run after the checkouts above (pytest keeps the file's order); it also stands alone."""
    webhooks_delivered(web_stack)
    checkout = [
        r
        for r in stand_in_requests(web_stack)
        if r["path"].startswith(("/v1/checkout/", "/v1/payment_intents/", "/v1/refunds")) and not licence_billing(r)
    ]
    assert [r for r in checkout if r["stripe_account"] != demo_account] == []
    sessions = [r for r in checkout if (r["method"], r["path"]) == ("POST", "/v1/checkout/sessions")]
    assert all(r["params"]["metadata[store_id]"] == "demo" for r in sessions)
    print(f"{len(checkout)} checkout requests, {len(sessions)} sessions, all on {demo_account}")


# ---- the staff board's Stripe panel ---------------------------------------------------------------


def open_stripe_panel(page):
    page.get_by_role("tab", name="Stripe").click()
    page.locator("#stripe-summary").wait_for()


def test_the_owner_sees_that_the_store_takes_card_payments_with_stripe(web_stack, demo_account, phone, tablet):
    for page, size in ((phone, "phone"), (tablet, "tablet")):
        sign_in_staff(page, web_stack, role="owner")
        open_stripe_panel(page)
        assert page.locator("#stripe-summary").inner_text() == "Dieses Geschäft nimmt Kartenzahlungen mit Stripe an."
        facts = page.locator("#stripe-status dl").inner_text().split("\n")
        assert [fact.strip() for fact in facts if fact.strip()] == [
            "Kartenzahlungen",
            "aktiv",
            "Auszahlungen",
            "aktiv",
            "Stripe braucht noch",
            "nichts",
            "Stripe-Konto",
            demo_account,
        ]
        assert page.locator("#stripe-setup").is_hidden()  # nothing left to set up
        screenshot(page, f"staff-stripe-{size}")

    tablet.get_by_role("button", name="English").click()
    assert tablet.locator("#stripe-summary").inner_text() == "This store takes card payments with Stripe."
    tablet.get_by_role("button", name="Deutsch").click()


def test_the_owner_gets_a_fresh_link_comes_back_from_stripes_onboarding_and_the_panel_says_so(
    web_stack, demo_account, tablet
):
    sign_in_staff(tablet, web_stack, role="owner")
    tablet.goto(f"{web_stack.url}/staff?store=demo&stripe=refresh")  # Stripe: the link was spent
    back = tablet.locator("#stripe-back")
    back.wait_for()
    assert back.inner_text() == (
        "Der Link zu Stripe war abgelaufen oder schon benutzt. Bitte die Einrichtung erneut starten."
    )
    assert tablet.get_by_role("tab", name="Stripe").get_attribute("aria-selected") == "true"
    assert tablet.url == f"{web_stack.url}/staff?store=demo"  # said once: a reload does not say it again
    setup = tablet.get_by_role("button", name="Einrichtung fortsetzen")
    setup.wait_for()
    screenshot(tablet, "staff-stripe-refresh-tablet")

    setup.click()
    tablet.wait_for_url(re.compile(rf"^{re.escape(web_stack.stripe_url)}/_standin/onboarding/link_\w+$"))
    assert demo_account in tablet.title()
    screenshot(tablet, "stripe-onboarding-tablet")
    tablet.get_by_role("button", name="Complete setup").click()
    tablet.wait_for_url(f"{web_stack.url}/staff?store=demo")  # via ?stripe=return, then dropped
    back.wait_for()
    assert back.inner_text() == "Zurück von Stripe: der Stand unten ist aktualisiert."
    assert tablet.locator("#stripe-charges").inner_text() == "aktiv"
    assert tablet.locator("#stripe-setup").is_hidden()
    screenshot(tablet, "staff-stripe-return-tablet")


def test_supervisors_see_the_panel_without_the_setup_and_staff_do_not_see_it(web_stack, tablet):
    sign_in_staff(tablet, web_stack, role="supervisor")
    open_stripe_panel(tablet)
    assert tablet.locator("#stripe-form").is_hidden()
    tablet.get_by_role("button", name="Abmelden").click()
    sign_in_staff(tablet, web_stack, role="staff")
    tablet.wait_for_timeout(300)  # nothing is asked of the API for staff: the tab just stays away
    assert tablet.get_by_role("tab", name="Stripe").count() == 0


@pytest.mark.parametrize("code", ["connect_disabled", "provider_not_ready"])
def test_without_stripe_in_the_deployment_the_panel_is_not_shown_and_nothing_is_said(
    web_stack, playwright_browser, code
):
    page = new_page(playwright_browser, TABLET)
    asked: list[str] = []

    def no_stripe(route):
        asked.append(route.request.url)
        problem = {"type": f"https://tresen.dev/problems/{code}", "title": "x", "status": 409, "code": code}
        route.fulfill(status=409, body=json.dumps(problem), content_type="application/problem+json")

    page.route("**/v1/stores/demo/payments/stripe", no_stripe)
    sign_in_staff(page, web_stack, role="owner")
    page.wait_for_timeout(300)
    assert asked  # the board asked …
    assert page.get_by_role("tab", name="Stripe").count() == 0  # … and shows nothing of Stripe
    assert page.locator("#page-alert").is_hidden() and page.locator("#stripe-alert").is_hidden()
    page.goto(f"{web_stack.url}/staff?store=demo&stripe=return")  # nor after a (stray) return from Stripe
    page.wait_for_selector("#board .column")
    page.wait_for_timeout(300)
    assert page.get_by_role("tab", name="Stripe").count() == 0
    assert page.locator("#board-panel").is_visible()
    page.context.close()


NOT_READY = {
    "account_id": "acct_1NotReadyYet",
    "charges_enabled": False,
    "payouts_enabled": False,
    "details_submitted": True,
    "requirements_due": ["business_profile.url", "external_account", "individual.verification.document"],
    "platform_fee": {"percent": "1.5", "fixed": 10},
}
NO_ACCOUNT = NOT_READY | {"account_id": None, "details_submitted": False, "requirements_due": [], "platform_fee": None}


def test_the_owner_is_told_what_stripe_still_needs_and_is_offered_the_setup(web_stack, phone):
    """States the demo store's (onboarded) account is not in, answered by the page's route."""
    answer = {"body": NO_ACCOUNT}
    phone.route("**/v1/stores/demo/payments/stripe", lambda route: route.fulfill(json=answer["body"]))
    sign_in_staff(phone, web_stack, role="owner")
    open_stripe_panel(phone)
    assert phone.locator("#stripe-summary").inner_text() == (
        "Noch kein Stripe-Konto: Kartenzahlungen sind noch nicht möglich."
    )
    assert phone.get_by_role("button", name="Stripe einrichten").is_visible()
    screenshot(phone, "staff-stripe-no-account-phone")

    answer["body"] = NOT_READY
    phone.get_by_role("tab", name="Bestellungen").click()
    open_stripe_panel(phone)  # asked again
    phone.get_by_role("button", name="Einrichtung fortsetzen").wait_for()
    assert phone.locator("#stripe-summary").inner_text() == (
        "Die Einrichtung bei Stripe ist noch nicht abgeschlossen: Kartenzahlungen sind noch nicht möglich."
    )
    assert (phone.locator("#stripe-charges").inner_text(), phone.locator("#stripe-payouts").inner_text()) == (
        "noch nicht möglich",
        "noch nicht möglich",
    )
    assert phone.locator("#stripe-due li").all_inner_texts() == [
        "Website des Geschäfts business_profile.url",
        "Bankkonto für Auszahlungen external_account",
        "individual.verification.document",  # Stripe's own name where the board knows no words for it
    ]
    assert "1,5 % + 0,10\xa0€ je Zahlung" in phone.locator("#stripe-status dl").inner_text()
    screenshot(phone, "staff-stripe-not-ready-phone")
