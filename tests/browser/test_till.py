"""The staff board's till ("Kasse"): an owner sets up a workplace with a simulated card terminal, staff
open a shift and take card payments at the counter with the sandbox's reader (approved, one whose
answer was lost and is asked for, declined and canceled), and close the shift to its reconciliation,
printed; a terminal change is refused while the shift is open; finance reads a mismatched
reconciliation without the till's controls.

In a store of its own (`kasse`), loaded as a merchant loads theirs, so that the demo store's orders
and the other tests' shifts stay apart. axe-core checks each state; screenshots at phone and tablet
widths land in artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect
from test_accessibility import Axe
from test_customers_view import api, sign_in_to
from test_web_pages import euro

from conftest import PHONE, TABLET, load_store, screenshot

STORE = "kasse"
STORE_FILE = {
    "store": {
        "id": STORE,
        "name": "Café an der Kasse",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "invoice_series": "KA",
        "payment_methods": ["on_site", "card_present"],
        "online_providers": [],
        "fulfilment_types": ["pickup", "table"],
        "address": ["Kastanienallee 12", "10435 Berlin"],
    },
    "products": [
        {"id": "espresso", "name": "Espresso", "price": 250, "vat_rate": "19", "available": True},
        {"id": "croissant", "name": "Croissant", "price": 320, "vat_rate": "7", "available": True},
        {"id": "apfelkuchen", "name": "Apfelkuchen", "price": 390, "vat_rate": "7", "available": True},
    ],
}
READER = {"model": "Simulated WisePOS E", "serial_number": "SIM-4711", "terminal_id": "62345678"}
READER_NAME = "Simulated WisePOS E (SIM-4711)"
SHIFT_OPEN = (
    "An diesem Arbeitsplatz ist eine Schicht offen: Terminals lassen sich erst nach ihrem Schließen registrieren "
    "oder entfernen, und es ist immer nur eine Schicht offen."
)
PAYMENT_IN_PROGRESS = (
    "Ein Terminal wartet noch auf eine Karte. "
    "Bitte die Zahlung abschließen oder abbrechen und die Schicht dann schließen."
)
LOCAL_TIME = r"\d\d\.\d\d\.\d\d, \d\d:\d\d"  # as de-DE writes a short date and time


@pytest.fixture(scope="module")
def till_store(web_stack, tmp_path_factory) -> str:
    return load_store(web_stack, STORE_FILE, tmp_path_factory.mktemp("store"))


def open_till(page) -> None:
    """Opens the tab and waits for its workplaces (the list is aria-busy while they load)."""
    page.get_by_role("tab", name="Kasse").click()
    page.locator("#workplaces:not([aria-busy])").wait_for(state="attached")


def workplace(page, name: str):
    return page.locator(".workplace", has=page.get_by_role("heading", name=name, exact=True))


def note(page) -> str:
    page.locator("#till-note:not([hidden])").wait_for()
    return page.locator("#till-note").inner_text()


def choose(page, **quantities: int) -> None:
    """Chooses the products by their + button."""
    for product, quantity in quantities.items():
        for _ in range(quantity):
            page.get_by_role("button", name=f"Eins mehr: {product}").click()


def pay(page) -> str:
    """Presses "Mit Karte zahlen"; answers what the page says once the terminal asks for the card."""
    page.get_by_role("button", name="Mit Karte zahlen").click()
    page.locator("#sale-status[data-state=processing]").wait_for()
    return sale_status(page)


def sale_status(page) -> str:
    return page.locator("#sale-status").inner_text()


def settled(page, stack, state: str) -> dict:
    """Waits for the sale to be `state` (the page asks every 1.5 s) and answers its order, as the API has it."""
    page.locator(f"#sale-status[data-state={state}]").wait_for()
    order_id = page.locator("#sale-status").get_attribute("data-order")
    return api(stack, "GET", f"/orders/{order_id}", role="staff", store=STORE).json()


def present(page, brand: str, outcome: str) -> None:
    simulator = page.locator("#simulator")
    simulator.get_by_label("Kartenmarke").select_option(brand)
    button = {"approve": "Zahlung genehmigen", "decline": "Karte ablehnen"}[outcome]
    simulator.get_by_role("button", name=button).click()


def rows(table) -> list[str]:
    """Each brand's row and the total's, their cells tab-separated."""
    return [row.inner_text() for row in table.locator("tbody tr, tfoot tr").all()]


def terminals_at(stack, name: str) -> list[dict]:
    """The terminals in use at the workplace `name`, as the API lists them."""
    [place] = [place for place in api(stack, "GET", "/workplaces", store=STORE).json()["data"] if place["name"] == name]
    return place["terminals"]


def test_an_owner_sets_up_the_till_and_staff_take_card_payments_and_close_the_shift(web_stack, till_store, pages, axe):
    audit = Axe(axe)
    owner = pages(TABLET)
    sign_in_to(owner, web_stack, till_store, "owner")
    open_till(owner)
    audit.check(owner, "the till without a workplace")

    owner.get_by_label("Neuer Arbeitsplatz").fill("Tresen 1")
    owner.get_by_role("button", name="Arbeitsplatz anlegen").click()
    assert note(owner) == "Arbeitsplatz „Tresen 1“ angelegt."
    card = workplace(owner, "Tresen 1")
    card.get_by_text("Terminal registrieren", exact=True).first.click()  # the summary opens the form
    card.get_by_label("Anbieter").select_option("stripe_terminal")
    expect(card.get_by_label("Registrierungscode")).to_be_visible()  # a Stripe reader is paired by its code
    card.get_by_label("Anbieter").select_option("sandbox")
    expect(card.get_by_label("Registrierungscode")).to_be_hidden()
    card.get_by_label("Modell").fill(READER["model"])
    card.get_by_label("Seriennummer").fill(READER["serial_number"])
    card.get_by_label("Terminal-ID der Bank (TID, falls vorhanden)").fill(READER["terminal_id"])
    card.get_by_role("button", name="Registrieren").click()
    assert note(owner) == f"{READER_NAME} ist registriert."
    [registered] = terminals_at(web_stack, "Tresen 1")
    assert {key: registered[key] for key in ("provider", *READER)} == {"provider": "sandbox", **READER}
    terminal = card.locator(f".terminal[data-terminal='{registered['id']}'] p")
    described, serial, connection, _ = terminal.all_inner_texts()
    assert (described, serial) == ("Simulated WisePOS E · Sandbox (Simulator)", "Seriennummer SIM-4711 · TID 62345678")
    assert re.fullmatch(rf"online geprüft {LOCAL_TIME}", connection)
    owner.get_by_role("button", name=f"Verbindung prüfen: {READER_NAME}").click()
    expect(owner.locator("#till-note")).to_have_text(f"{READER_NAME}: online – simulated reader, connected")
    screenshot(owner, "till-setup-tablet")

    # staff open the shift on their phone
    staff = pages(PHONE)
    sign_in_to(staff, web_stack, till_store, "staff")
    open_till(staff)
    staff_card = workplace(staff, "Tresen 1")
    assert staff.locator("#workplace-new, details.register").count() == 0  # the owner's and supervisors' controls
    staff_card.get_by_role("button", name="Schicht öffnen").click()
    assert note(staff) == "Schicht an „Tresen 1“ geöffnet."
    opened = staff_card.locator(".shift-state").inner_text()
    assert re.fullmatch(rf"Schicht offen seit {LOCAL_TIME}, geöffnet von staff-browser\.", opened)
    audit.check(staff, "an open shift with the card payment's form")
    screenshot(staff, "till-shift-open-phone")

    # the owner's page still shows no shift: registering another terminal is refused, and said in words
    card.get_by_text("Terminal registrieren", exact=True).first.click()
    card.get_by_label("Anbieter").select_option("sandbox")
    card.get_by_label("Modell").fill("Zweitgerät")
    card.get_by_label("Seriennummer").fill("SIM-0002")
    card.get_by_role("button", name="Registrieren").click()
    refused = card.locator("form.register .alert")
    expect(refused).to_have_text(SHIFT_OPEN)
    expect(card.get_by_role("button", name="Registrieren")).to_be_disabled()  # read afresh: the shift is open now
    expect(card.get_by_label("Modell")).to_be_disabled()
    expect(card.get_by_label("Modell")).to_have_value("Zweitgerät")  # what was typed is kept
    expect(card.get_by_role("button", name=f"Entfernen: {READER_NAME}")).to_be_disabled()
    expect(card.locator(".notice")).to_have_text(
        "Solange hier eine Schicht offen ist, lassen sich keine Terminals registrieren oder entfernen."
    )
    assert [found["id"] for found in terminals_at(web_stack, "Tresen 1")] == [registered["id"]]
    screenshot(owner, "till-register-refused-tablet")

    # a card payment approved with a Visa card, at table 7
    form = staff.locator("#sale-form")
    expect(form.get_by_label("Terminal")).to_have_value(registered["id"])
    choose(staff, Espresso=2, Croissant=1)
    expect(staff.locator("#sale-sum")).to_have_text(euro(820))
    staff.get_by_label("Tisch (optional)").fill("7")
    assert pay(staff) == f"Bitte Karte vorhalten … {euro(820)} am Terminal {READER_NAME}."
    expect(staff.get_by_role("heading", name="Simulator: Karte vorhalten")).to_be_visible()
    expect(form).to_be_hidden()  # one payment at a time
    audit.check(staff, "a card payment at the terminal, with the simulator")
    screenshot(staff, "till-payment-phone")
    present(staff, "visa", "approve")
    paid = settled(staff, web_stack, "paid")
    assert sale_status(staff) == f"Bezahlt: {euro(820)} mit Visa (Bestellung #{paid['number']})."
    assert (paid["status"], paid["payment"]["brand"], paid["totals"]["total"], paid["fulfilment"]["table"]) == (
        "paid",
        "visa",
        820,
        "7",
    )
    assert paid["customer"] == {"name": "Gast an der Kasse", "email": "kasse@tresen.invalid", "phone": None}
    expect(staff.get_by_role("heading", name="Simulator: Karte vorhalten")).to_have_count(0)

    # one with a girocard, the quantity typed, picked up at the counter; the reader's answer is lost on
    # its way, and "Status abfragen" asks the provider for it
    staff.get_by_role("spinbutton", name=f"Apfelkuchen {euro(390)}").fill("1")
    expect(staff.locator("#sale-sum")).to_have_text(euro(390))
    pay(staff)
    tapped = requests.post(
        f"{web_stack.url}/v1/sandbox/terminals/{registered['id']}/present",
        json={"brand": "girocard", "webhook": False},
        timeout=15,
    )
    assert tapped.json()["status"] == "succeeded"
    staff.get_by_role("button", name="Status abfragen").click()
    giro = settled(staff, web_stack, "paid")
    assert sale_status(staff) == f"Bezahlt: {euro(390)} mit girocard (Bestellung #{giro['number']})."
    assert (giro["fulfilment"]["type"], giro["payment"]["brand"]) == ("pickup", "girocard")

    # one the terminal still asks for: the shift cannot close; declined, then canceled
    choose(staff, Espresso=1)
    pay(staff)
    staff_card.get_by_role("button", name="Schicht schließen").click()
    expect(staff_card.locator(".alert")).to_have_text(PAYMENT_IN_PROGRESS)
    present(staff, "visa", "decline")
    settled(staff, web_stack, "declined")
    assert sale_status(staff) == "Abgelehnt: Die Karte wurde abgelehnt."
    staff.get_by_role("button", name="Abbrechen").click()
    canceled = settled(staff, web_stack, "canceled")
    assert sale_status(staff) == f"Abgebrochen: Bestellung #{canceled['number']} ist storniert."
    assert (canceled["status"], canceled["payment"]["status"]) == ("canceled", "canceled")

    # the shift closed: its reconciliation, matched, per brand
    staff_card.get_by_role("button", name="Schicht schließen").click()
    report = staff.locator("#shift-report")
    expect(report.get_by_role("heading", name="Schichtabgleich – Tresen 1")).to_be_focused()
    assert note(staff) == "Schicht an „Tresen 1“ geschlossen."
    expect(report.locator("#report-verdict")).to_have_text(
        "Alles stimmt überein: Terminals und Tresen haben dieselben Kartenzahlungen."
    )
    table = report.locator(f"#rec-{registered['id']}")
    assert rows(table) == [
        f"girocard\t1\t{euro(390)}\t1\t{euro(390)}",
        f"Visa\t1\t{euro(820)}\t1\t{euro(820)}",
        f"Gesamt\t2\t{euro(1210)}\t2\t{euro(1210)}",
    ]
    assert report.locator(".mismatches").count() == 0
    assert report.locator(".reconciliation h3").inner_text() == f"{READER_NAME} · TID 62345678"
    audit.check(staff, "the shift's reconciliation")
    screenshot(staff, "till-report-phone")
    staff.set_viewport_size(TABLET)
    screenshot(staff, "till-report-tablet")

    # printed: the report alone
    staff.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    report.get_by_role("button", name="Drucken").click()
    assert staff.evaluate("window.printed") == 1
    staff.emulate_media(media="print")
    expect(report).to_be_visible()
    for elsewhere in (".bar", ".tabs", "#till-places", "#till-sale", "#report-print"):
        expect(staff.locator(elsewhere)).to_be_hidden()
    screenshot(staff, "till-report-print")
    staff.emulate_media(media="screen")

    # the past shift, opened again from the list
    report.get_by_role("button", name="Schließen", exact=True).click()
    expect(report).to_be_hidden()
    past = staff_card.locator(".shifts li")
    expect(past).to_have_count(1)
    assert re.fullmatch(rf"{LOCAL_TIME} bis {LOCAL_TIME} · stimmt überein", past.locator("span").inner_text())
    past.get_by_role("button").click()
    expect(report.locator("#report-verdict")).to_be_visible()
    assert rows(table)[-1] == f"Gesamt\t2\t{euro(1210)}\t2\t{euro(1210)}"
    staff.get_by_role("button", name="English").click()
    expect(report.locator("#report-verdict")).to_have_text(
        "Everything matches: the terminals and Tresen hold the same card payments."
    )
    screenshot(staff, "till-report-english-tablet")

    # with the shift closed the owner may take the terminal out of use
    open_till(owner)
    expect(card.get_by_role("button", name="Registrieren")).to_be_enabled()
    card.get_by_role("button", name=f"Entfernen: {READER_NAME}").click()
    assert note(owner) == f"{READER_NAME} ist entfernt."
    expect(card.get_by_text("Noch kein Kartenterminal.")).to_be_visible()
    assert terminals_at(web_stack, "Tresen 1") == []
    audit.assert_none()


def test_finance_reads_a_mismatched_reconciliation_without_the_tills_controls(web_stack, till_store, pages, axe):
    made = api(web_stack, "POST", "/workplaces", store=STORE, json={"name": "Bar"}).json()
    reader = api(
        web_stack,
        "POST",
        f"/workplaces/{made['id']}/terminals",
        role="supervisor",
        store=STORE,
        json={"provider": "sandbox", "model": "Simulated WisePOS E", "serial_number": "SIM-0815"},
    ).json()
    shift = api(web_stack, "POST", f"/workplaces/{made['id']}/shifts", role="staff", store=STORE).json()
    typed = requests.post(  # a sale typed on the terminal itself: Tresen never hears of it
        f"{web_stack.url}/v1/sandbox/terminals/{reader['id']}/present",
        json={"brand": "girocard", "amount": 1250},
        timeout=15,
    ).json()
    closed = api(web_stack, "POST", f"/workplaces/{made['id']}/shifts/{shift['id']}/close", role="staff", store=STORE)
    assert (closed.status_code, closed.json()["matched"]) == (201, False)

    audit = Axe(axe)
    finance = pages(TABLET)
    sign_in_to(finance, web_stack, till_store, "finance")
    open_till(finance)
    card = workplace(finance, "Bar")
    assert finance.locator("#workplace-new, details.register, #till-sale").count() == 0
    assert card.get_by_role("button").all_inner_texts() == ["Abgleich zeigen"]  # nothing to open, close or check
    assert re.fullmatch(rf"{LOCAL_TIME} bis {LOCAL_TIME} · weicht ab", card.locator(".shifts span").inner_text())
    card.locator(".shifts").get_by_role("button").click()
    report = finance.locator("#shift-report")
    expect(report.locator("#report-verdict")).to_have_text("Stimmt nicht überein – bitte die Abweichungen prüfen.")
    assert rows(report.locator(f"#rec-{reader['id']}")) == [
        f"girocard\t1\t{euro(1250)}\t0\t{euro(0)}",
        f"Gesamt\t1\t{euro(1250)}\t0\t{euro(0)}",
    ]
    assert report.locator(".mismatches li").all_inner_texts() == [
        f"Nur am Terminal: {euro(1250)} (Beleg {typed['payment_id']})"
    ]
    audit.check(finance, "finance's view of a mismatched reconciliation")
    screenshot(finance, "till-finance-mismatch-tablet")
    audit.assert_none()
