"""The staff board tells the owner and finance of an overdue licence invoice, with the way to the
portal to pay it; staff see nothing, and the board works as ever."""

from __future__ import annotations

import uuid

import requests
from test_accessibility import RUN_AXE, WCAG, open_page, readable
from test_portal import platform_admin_token

from conftest import PHONE, screenshot


def overdue_store(stack) -> str:
    """A store the platform opened, billed for a month long past: its invoice is overdue today."""
    store_id = f"late-{uuid.uuid4().hex[:8]}"
    opened = requests.post(
        f"{stack.url}/v1/platform/stores",
        json={
            "store_id": store_id,
            "name": "Café Spät",
            "address": {"street": "Hafenstraße 3", "postal_code": "20359", "city": "Hamburg"},
            "owner_email": f"owner-{store_id}@example.com",
            "plan": "business",
        },
        headers={"Authorization": f"Bearer {platform_admin_token()}"},
        timeout=15,
    )
    assert opened.status_code == 201, opened.text
    run = requests.post(f"{stack.url}/v1/jobs/licence-invoices", params={"on": "2026-01-01"}, timeout=60)
    assert run.status_code == 200, run.text
    return store_id


def sign_in_as(page, stack, store_id: str, role: str) -> None:
    page.goto(f"{stack.url}/staff")
    page.get_by_label("Benutzer-ID").fill(f"{role}-{store_id}")
    page.get_by_label("Rolle").select_option(role)
    page.get_by_label("Geschäft").fill(store_id)
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector("#board .column")


def test_the_owner_sees_the_overdue_invoice_and_the_way_to_the_portal_staff_do_not(web_stack, playwright_browser, axe):
    store_id = overdue_store(web_stack)
    page, faults = open_page(playwright_browser, PHONE)

    sign_in_as(page, web_stack, store_id, "owner")
    notice = page.locator("#licence-overdue")
    notice.wait_for()

    assert notice.inner_text() == (
        "Eine Lizenzrechnung (94,01\u00a0€) ist überfällig. "
        "Ihre Bestellungen laufen weiter – bitte bezahlen Sie sie im Kundenportal."
    )
    assert notice.get_by_role("link", name="Kundenportal").get_attribute("href") == f"portal?store={store_id}"
    page.add_script_tag(path=str(axe))
    violations = page.evaluate(RUN_AXE, WCAG)
    assert violations == [], readable(violations)
    screenshot(page, "staff-licence-overdue")
    page.get_by_role("button", name="English").click()
    assert notice.inner_text().startswith("A licence invoice (€94.01) is overdue.")
    page.get_by_role("button", name="Deutsch").click()

    page.get_by_role("button", name="Abmelden").click()
    sign_in_as(page, web_stack, store_id, "staff")
    assert page.locator("#licence-overdue").is_hidden()
    page.context.close()
    assert faults == []
