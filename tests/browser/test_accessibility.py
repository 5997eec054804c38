"""Every page, in each state a person sees it, passes axe-core's WCAG 2.0/2.1 A and AA rules.

axe-core (npm, pinned in package.json; `make test` installs it) is injected into the page and run on
the whole document; the tests are skipped without it. The pages forbid inline scripts by their
Content-Security-Policy, and an injected script is one: these pages are opened with CSP bypassed, which
the other browser tests do not do.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from test_web_pages import add, dev_token, fill_customer, open_menu, orders_of, sign_in_staff, unique_email

from conftest import PHONE, STRIPE_KEY, TABLET, watched

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, { runOnly: tags, resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 200), summary: n.failureSummary })),
  }));
}"""


def readable(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} – {v['url']}")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}: {node['html']}")
            lines.extend(f"        {line}" for line in (node["summary"] or "").splitlines())
    return "\n".join(lines)


class Axe:
    """axe-core run in a page: each check is kept under its name, the test fails at the end with all."""

    def __init__(self, script):
        self.script = script
        self.failures: dict[str, list[dict]] = {}
        self.checked: list[str] = []

    def check(self, page, name: str) -> None:
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(self.script))
        violations = page.evaluate(RUN_AXE, WCAG)
        self.checked.append(name)
        if violations:
            self.failures[name] = violations

    def assert_none(self) -> None:
        report = "\n\n".join(f"== {name} ==\n{readable(found)}" for name, found in self.failures.items())
        assert not self.failures, f"axe-core found violations:\n{report}"
        print(f"axe-core: no violations in {', '.join(self.checked)}")


@pytest.fixture
def audit(axe):
    return Axe(axe)


def open_page(browser, size: dict):
    context = browser.new_context(viewport=size, locale="de-DE", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    return page, watched(page)


@pytest.fixture
def phone_page(playwright_browser):
    page, faults = open_page(playwright_browser, PHONE)
    yield page
    page.context.close()
    assert faults == []


@pytest.fixture
def tablet_page(playwright_browser):
    page, faults = open_page(playwright_browser, TABLET)
    yield page
    page.context.close()
    assert faults == []


def test_the_ordering_page_in_each_of_its_states(web_stack, phone_page, audit):
    page = phone_page
    open_menu(page, web_stack.url)
    audit.check(page, "menu")

    add(page, "cappuccino", "oat")
    add(page, "croissant")
    page.locator("#provider-field").wait_for()  # online, with the choice of sandbox or Stripe
    audit.check(page, "cart and checkout with the choice of provider")

    page.get_by_role("button", name="Zahlungspflichtig bestellen").click()  # no name, no e-mail address
    page.locator("#checkout-alert").wait_for(state="visible")
    audit.check(page, "checkout with its problems beside the fields")

    email = unique_email()
    fill_customer(page, email, tip="1")
    page.get_by_label("Karte (Stripe)").check()
    page.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    page.wait_for_url(re.compile(r".*/_standin/checkout/cs_test_\w+$"))
    page.get_by_role("button", name="Cancel").click()  # back on the order's page, to pay again
    page.wait_for_selector("#order-status[data-status=awaiting_payment]")
    page.get_by_role("link", name="Erneut bezahlen").wait_for()
    audit.check(page, "order awaiting payment")

    page.get_by_role("button", name="English").click()
    audit.check(page, "order awaiting payment, in English")
    audit.assert_none()
    [order] = orders_of(web_stack, email)
    assert order["status"] == "awaiting_payment"


def test_the_staff_board_as_owner_with_an_order_its_detail_and_the_stripe_panel(
    web_stack, phone_page, tablet_page, audit
):
    order = requests.post(
        f"{web_stack.url}/v1/stores/demo/orders",
        json={
            "items": [{"product_id": "espresso", "quantity": 2, "options": []}],
            "fulfilment": {"type": "table", "table": "7"},
            "customer": {"name": "Ada Gast", "email": unique_email()},
            "payment": {"method": "on_site"},
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    ).json()
    for page, size in ((tablet_page, "tablet"), (phone_page, "phone")):
        page.goto(f"{web_stack.url}/staff")
        page.locator("#sign-in").wait_for()
        audit.check(page, f"sign-in ({size})")
        sign_in_staff(page, web_stack, role="owner")
        ticket = page.locator(f".ticket[data-order='{order['id']}']")
        ticket.wait_for()
        audit.check(page, f"board with an order ({size})")

        ticket.get_by_role("button", name="Details").click()
        page.locator("#detail[open] #reject").wait_for()
        audit.check(page, f"an order's detail ({size})")
        page.get_by_role("button", name="Schließen").click()

        page.get_by_role("tab", name="Stripe").click()
        page.locator("#stripe-summary").wait_for()
        audit.check(page, f"Stripe panel ({size})")

    page = tablet_page
    page.goto(f"{web_stack.url}/staff?store=demo&stripe=refresh")
    page.get_by_role("button", name="Einrichtung fortsetzen").wait_for()
    audit.check(page, "Stripe panel offering a fresh link")
    page.get_by_role("tab", name="Gutscheine").click()
    audit.check(page, "gift cards")
    not_ready = {
        "account_id": "acct_1NotReadyYet",
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": True,
        "requirements_due": ["business_profile.url", "individual.verification.document"],
        "platform_fee": {"percent": "1.5", "fixed": 10},
    }
    page.route("**/v1/stores/demo/payments/stripe", lambda route: route.fulfill(json=not_ready))
    page.get_by_role("tab", name="Stripe").click()
    page.locator("#stripe-due li").first.wait_for()
    audit.check(page, "Stripe panel, not ready yet")
    page.get_by_role("tab", name="Tagesabschluss").click()
    page.locator("#closings :is(table, p)").first.wait_for()
    audit.check(page, "closing")
    audit.assert_none()


def test_the_stripe_stand_ins_checkout_and_onboarding_pages(web_stack, phone_page, audit):
    """The stand-in's own pages (functions/tresen/standins/), which a person sees in dev as Stripe's."""
    page = phone_page
    open_menu(page, web_stack.url)
    add(page, "espresso")
    fill_customer(page, unique_email())
    page.get_by_label("Karte (Stripe)").check()
    page.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    page.wait_for_url(re.compile(r".*/_standin/checkout/cs_test_\w+$"))
    audit.check(page, "hosted checkout")
    page.get_by_label("Test outcome").select_option("declined")
    page.get_by_role("button", name="Pay").click()
    page.get_by_role("alert").wait_for()
    audit.check(page, "hosted checkout, card declined")
    session_id = page.url.split("/")[-2]
    account = requests.get(
        f"{web_stack.url}/v1/stores/demo/payments/stripe",
        headers={"Authorization": f"Bearer {dev_token('owner')}"},
        timeout=10,
    ).json()["account_id"]
    requests.post(
        f"{web_stack.stripe_url}/v1/checkout/sessions/{session_id}/expire",
        headers={"Authorization": f"Bearer {STRIPE_KEY}", "Stripe-Account": account},
        timeout=10,
    ).raise_for_status()
    page.goto(f"{web_stack.stripe_url}/_standin/checkout/{session_id}")
    page.get_by_text("This checkout has expired.").wait_for()
    audit.check(page, "hosted checkout, expired")

    link = requests.post(
        f"{web_stack.url}/v1/stores/demo/payments/stripe/onboarding",
        headers={"Authorization": f"Bearer {dev_token('owner')}"},
        timeout=10,
    )
    assert link.status_code == 201
    page.goto(link.json()["url"])
    page.get_by_role("button", name="Complete setup").wait_for()
    audit.check(page, "onboarding")
    audit.assert_none()
