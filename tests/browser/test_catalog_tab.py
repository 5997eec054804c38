"""The staff board's catalog ("Sortiment"): an owner adds a product whose stock is counted, changes its
stock (a change below 0 refused in words) and hides another behind a confirmation; a supervisor makes
promotions and ends one; an owner orders goods from a supplier, staff receive them line by line on
their phone and the stock rises; finance reads it all without a control to change it.

In a store of its own (`sortiment`), loaded as a merchant loads theirs, so that the demo store's
catalog stays as the other tests know it. What the page says is checked against what the API
recorded; axe-core checks each state; screenshots at phone and tablet widths land in
artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from playwright.sync_api import expect
from test_accessibility import Axe
from test_customers_view import api, sign_in_to
from test_web_pages import euro

from conftest import PHONE, TABLET, load_store, screenshot

STORE = "sortiment"
STORE_FILE = {
    "store": {
        "id": STORE,
        "name": "Backstube Sortiment",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "invoice_series": "SO",
        "payment_methods": ["on_site"],
        "online_providers": [],
        "fulfilment_types": ["pickup"],
        "address": ["Bergmannstraße 7", "10961 Berlin"],
    },
    "products": [
        {"id": "espresso", "name": "Espresso", "price": 250, "vat_rate": "19", "available": True, "category": "Kaffee"},
        {
            "id": "croissant",
            "name": "Croissant",
            "price": 320,
            "vat_rate": "7",
            "available": True,
            "category": "Gebäck",
        },
        {
            "id": "zimtschnecke",
            "name": "Zimtschnecke",
            "price": 350,
            "vat_rate": "7",
            "available": True,
            "category": "Gebäck",
            "stock_tracked": True,
            "low_stock_at": 4,
        },
        {"id": "tagessuppe", "name": "Tagessuppe", "price": 690, "vat_rate": "7", "available": True},
    ],
}
PO_NUMBER = r"PO-\d{4}-\d{6}"


@pytest.fixture(scope="module")
def catalog_store(web_stack, tmp_path_factory) -> str:
    return load_store(web_stack, STORE_FILE, tmp_path_factory.mktemp("store"))


def open_catalog(page, part: str = "Artikel") -> None:
    """Opens the tab and one of its parts, once its lists are read (they are aria-busy while they load)."""
    page.get_by_role("tab", name="Sortiment").click()
    page.locator("#products:not([aria-busy])").wait_for(state="attached")
    page.get_by_role("tab", name=part, exact=True).click()


def note(page) -> str:
    page.locator("#catalog-note:not([hidden])").wait_for()
    return page.locator("#catalog-note").inner_text()


def card(page, name: str):
    """A product's, a promotion's or a purchase order's card, by its heading."""
    return page.locator("li", has=page.get_by_role("heading", name=name, exact=True))


def product(stack, product_id: str) -> dict | None:
    listed = api(stack, "GET", "/products", role="finance", store=STORE).json()["data"]
    return next((found for found in listed if found["id"] == product_id), None)


def mail_to(stack, address: str, timeout: float = 15.0) -> dict:
    """The newest mail the sink received for `address`: the outbox sends it in the background, after
    the request that wrote it, so it is waited for."""
    deadline = time.monotonic() + timeout
    while True:
        found = [
            mail
            for mail in requests.get(f"{stack.url}/v1/dev/mail", timeout=10).json()["data"]
            if mail["to"] == address
        ]
        if found or time.monotonic() > deadline:
            assert found, f"no mail to {address} within {timeout:.0f} s"
            return found[0]
        time.sleep(0.1)


def test_an_owner_adds_a_counted_product_changes_its_stock_and_hides_another(web_stack, catalog_store, pages, axe):
    audit = Axe(axe)
    owner = pages(TABLET)
    sign_in_to(owner, web_stack, catalog_store, "owner")
    open_catalog(owner)
    expect(owner.locator("#products-count")).to_have_text("4 Artikel, 1 mit niedrigem Bestand")
    audit.check(owner, "the catalog's products")

    owner.get_by_role("button", name="Neuer Artikel").click()
    form = owner.locator("#product-form")
    expect(form.get_by_role("heading", name="Neuer Artikel")).to_be_focused()
    form.get_by_label("Name").fill("Laugenbrezel groß")
    form.get_by_label("Preis (€)").fill("1,2")
    form.get_by_role("button", name="Artikel anlegen").click()
    assert note(owner) == "„Laugenbrezel groß“ ist angelegt."
    made = product(web_stack, "laugenbrezel-gross")
    assert (made["price"], made["vat_rate"], made["stock_tracked"], made["category"]) == (120, "7", False, None)

    # changed: a counted product of the bakery's, on a phone
    owner.set_viewport_size(PHONE)
    owner.get_by_role("button", name="Bearbeiten: Laugenbrezel groß").click()
    form.get_by_label("Preis (€)").fill("3.9x")
    form.get_by_role("button", name="Speichern").click()
    expect(owner.locator("#product-form-alert")).to_have_text("Bitte die markierten Angaben prüfen.")
    expect(form.get_by_label("Preis (€)")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(".field-error")).to_have_text("Bitte einen Preis wie 3,90 eingeben.")
    form.get_by_label("Preis (€)").fill("3,90")
    form.get_by_label("Mehrwertsteuer").select_option("19")
    form.get_by_label("Kategorie (optional)").fill("Gebäck")
    form.get_by_label("Beschreibung (optional)").fill("Mit grobem Salz, frisch aus dem Ofen")
    expect(form.get_by_label("Bestand niedrig ab (Stück, optional)")).to_be_hidden()
    form.get_by_label("Bestand zählen").check()
    form.get_by_label("Bestand niedrig ab (Stück, optional)").fill("5")
    audit.check(owner, "the product's form")
    screenshot(owner, "catalog-product-form-phone")
    form.get_by_role("button", name="Speichern").click()
    assert note(owner) == "„Laugenbrezel groß“ ist gespeichert."
    assert {key: value for key, value in product(web_stack, "laugenbrezel-gross").items() if key != "options"} == {
        "id": "laugenbrezel-gross",
        "name": "Laugenbrezel groß",
        "price": 390,
        "vat_rate": "19",
        "available": False,  # counted, and nothing counted yet
        "kind": "item",
        "stock": 0,
        "stock_tracked": True,
        "low_stock_at": 5,
        "category": "Gebäck",
        "description": "Mit grobem Salz, frisch aus dem Ofen",
        "sold_out_by_hand": False,
    }
    brezel = card(owner, "Laugenbrezel groß")
    expect(brezel.locator(".product-facts")).to_have_text(f"{euro(390)} · MwSt. 19 % · Gebäck")
    expect(brezel.locator(".stock-line")).to_have_text("Bestand: 0 (niedrig ab 5)")
    expect(brezel.locator(".badge")).to_have_text(["ausverkauft", "Bestand niedrig"])

    # 12 delivered; 20 taken away is more than there is; 8 wasted leaves it low
    brezel.get_by_role("button", name="Bestand ändern: Laugenbrezel groß").click()
    stock_form = brezel.locator("form.stock-form")
    expect(stock_form.get_by_label("Zugang (+)")).to_be_focused()
    expect(stock_form.get_by_label("Grund")).to_have_value("delivery")
    stock_form.get_by_label("Stück").fill("12")
    stock_form.get_by_role("button", name="Buchen").click()
    assert note(owner) == "Bestand von „Laugenbrezel groß“: 12."
    expect(brezel.locator(".stock")).to_have_text("12")
    expect(brezel.locator(".badge")).to_have_text(["im Angebot"])

    brezel.get_by_role("button", name="Bestand ändern: Laugenbrezel groß").click()
    stock_form.get_by_label("Abgang (−)").check()
    expect(stock_form.get_by_label("Grund")).to_have_value("waste")  # what taking away suggests
    stock_form.get_by_label("Stück").fill("20")
    stock_form.get_by_role("button", name="Buchen").click()
    expect(stock_form.locator(".alert")).to_have_text(
        "So viel ist nicht da: „Laugenbrezel groß“ hat 12 Stück, und der Bestand kann nicht unter 0 fallen."
    )
    expect(stock_form.locator(".alert")).to_be_focused()
    audit.check(owner, "a stock change refused")
    screenshot(owner, "catalog-stock-refused-phone")
    stock_form.get_by_label("Stück").fill("8")
    stock_form.get_by_role("button", name="Buchen").click()
    assert note(owner) == "Bestand von „Laugenbrezel groß“: 4."
    expect(brezel.locator(".badge")).to_have_text(["im Angebot", "Bestand niedrig"])
    assert product(web_stack, "laugenbrezel-gross")["stock"] == 4

    brezel.get_by_role("button", name="Bestand ändern: Laugenbrezel groß").click()
    stock_form.get_by_label("Gezählt (=)").check()
    expect(stock_form.get_by_label("Grund")).to_have_value("count")
    stock_form.get_by_label("Gezählter Bestand (Stück)").fill("6")
    stock_form.get_by_role("button", name="Buchen").click()
    assert note(owner) == "Bestand von „Laugenbrezel groß“: 6."
    expect(brezel.locator(".badge")).to_have_text(["im Angebot"])
    screenshot(owner, "catalog-products-phone")

    # hidden, once confirmed: off the list and the menu
    owner.set_viewport_size(TABLET)
    owner.get_by_role("button", name="Ausblenden: Tagessuppe").click()
    dialog = owner.get_by_role("dialog", name="„Tagessuppe“ ausblenden?")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Abbrechen")).to_be_focused()
    audit.check(owner, "the confirmation before hiding")
    screenshot(owner, "catalog-hide-confirm-tablet")
    dialog.get_by_role("button", name="Abbrechen").click()
    expect(dialog).to_be_hidden()
    assert product(web_stack, "tagessuppe") is not None
    owner.get_by_role("button", name="Ausblenden: Tagessuppe").click()
    dialog.get_by_role("button", name="Ausblenden").click()
    assert note(owner) == "„Tagessuppe“ ist ausgeblendet."
    expect(card(owner, "Tagessuppe")).to_have_count(0)
    assert product(web_stack, "tagessuppe") is None
    menu = requests.get(f"{web_stack.url}/v1/stores/{STORE}/menu", timeout=10).json()
    assert "tagessuppe" not in [found["id"] for found in menu["products"]]
    audit.check(owner, "the products after the changes")
    screenshot(owner, "catalog-products-tablet")

    owner.get_by_role("button", name="English").click()
    expect(owner.locator("#products-count")).to_have_text("4 products, 1 low on stock")
    expect(card(owner, "Laugenbrezel groß").locator(".stock-line")).to_have_text("Stock: 6 (low at 5)")
    audit.assert_none()


def test_a_supervisor_makes_promotions_and_ends_one(web_stack, catalog_store, pages, axe):
    audit = Axe(axe)
    supervisor = pages(PHONE)
    sign_in_to(supervisor, web_stack, catalog_store, "supervisor")
    open_catalog(supervisor, "Aktionen")
    expect(supervisor.locator("#promotions")).to_have_text("Noch keine Aktionen.")

    # 10 % on the bakery's goods, at the counter only, 50 times, with a code
    supervisor.get_by_role("button", name="Neue Aktion").click()
    form = supervisor.locator("#promotion-form")
    expect(form.get_by_role("heading", name="Neue Aktion")).to_be_focused()
    form.get_by_label("Prozent (z. B. 10 oder 12,5)").fill("12,5")
    form.get_by_label("Kategorien").check()
    form.get_by_label("Gebäck").check()
    form.get_by_label("Online").uncheck()
    form.get_by_label("Höchstens so oft (optional)").fill("50")
    form.get_by_role("button", name="Aktion anlegen").click()
    expect(form.locator(".field-error")).to_have_text("Ohne Code braucht die Aktion einen Namen: er steht auf dem Bon.")
    form.get_by_label("Code (optional)").fill("gebaeck-12")
    audit.check(supervisor, "the promotion's form")
    screenshot(supervisor, "catalog-promotion-form-phone")
    form.get_by_role("button", name="Aktion anlegen").click()
    assert note(supervisor) == "Aktion „GEBAECK-12“ ist angelegt."

    # 0,50 € off the espresso, online and at the counter, by its name
    supervisor.get_by_role("button", name="Neue Aktion").click()
    form.get_by_label("Betrag", exact=True).check()
    form.get_by_label("Betrag (€)").fill("0,50")
    form.get_by_label("Bestimmte Artikel").check()
    form.get_by_label("Espresso").check()
    form.get_by_label("Name (für den Bon; ohne Code nötig)").fill("Espresso-Stunde")
    form.get_by_role("button", name="Aktion anlegen").click()
    assert note(supervisor) == "Aktion „Espresso-Stunde“ ist angelegt."

    made = {
        found["code"] or found["name"]: found
        for found in api(web_stack, "GET", "/promotions", store=STORE).json()["data"]
    }
    gebaeck, espresso = made["GEBAECK-12"], made["Espresso-Stunde"]
    assert {
        key: gebaeck[key] for key in ("percent", "amount", "applies_to", "channels", "max_uses", "uses", "status")
    } == {
        "percent": "12.5",
        "amount": None,
        "applies_to": {"products": [], "categories": ["Gebäck"]},
        "channels": ["counter"],
        "max_uses": 50,
        "uses": 0,
        "status": "active",
    }
    assert {key: espresso[key] for key in ("percent", "amount", "applies_to", "channels", "max_uses", "code")} == {
        "percent": None,
        "amount": 50,
        "applies_to": {"products": ["espresso"], "categories": []},
        "channels": ["online", "counter"],
        "max_uses": None,
        "code": None,
    }
    listed = card(supervisor, "GEBAECK-12").locator("p")
    terms, window, channels, state = listed.all_inner_texts()[:4]
    assert (terms, channels, state) == (
        "12,5 % Rabatt auf alles aus „Gebäck“",
        "An der Kasse",
        "läuft\nGenutzt: 0 von 50",
    )
    assert re.fullmatch(r"\d\d\.\d\d\.\d\d, \d\d:\d\d bis \d\d\.\d\d\.\d\d, \d\d:\d\d", window)
    expect(card(supervisor, "Espresso-Stunde").locator(".promotion-terms")).to_have_text(
        f"{euro(50)} Rabatt auf Espresso"
    )
    expect(card(supervisor, "Espresso-Stunde").locator(".uses")).to_have_text("Genutzt: 0, ohne Grenze")
    audit.check(supervisor, "the promotions")
    screenshot(supervisor, "catalog-promotions-phone")

    supervisor.get_by_role("button", name="Beenden: Espresso-Stunde").click()
    supervisor.get_by_role("dialog", name="Aktion „Espresso-Stunde“ beenden?").get_by_role(
        "button", name="Beenden"
    ).click()
    assert note(supervisor) == "Aktion „Espresso-Stunde“ ist beendet."
    expect(card(supervisor, "Espresso-Stunde").locator(".badge")).to_have_text("beendet")
    expect(supervisor.get_by_role("button", name="Beenden: Espresso-Stunde")).to_have_count(0)
    ended = api(web_stack, "GET", "/promotions", store=STORE).json()["data"]
    assert {found["code"] or found["name"]: found["status"] for found in ended} == {
        "GEBAECK-12": "active",
        "Espresso-Stunde": "ended",
    }
    supervisor.set_viewport_size(TABLET)
    screenshot(supervisor, "catalog-promotions-tablet")
    audit.assert_none()


def test_goods_ordered_from_a_supplier_are_received_by_staff_and_the_stock_rises(web_stack, catalog_store, pages, axe):
    counted = api(
        web_stack, "POST", "/products/zimtschnecke/stock", role="staff", store=STORE, json={"set": 3, "reason": "count"}
    )
    assert counted.json()["stock"] == 3
    audit = Axe(axe)
    owner = pages(TABLET)
    sign_in_to(owner, web_stack, catalog_store, "owner")
    open_catalog(owner, "Einkauf")
    expect(owner.locator("#order-form-box")).to_have_text("Für eine Bestellung zuerst einen Lieferanten anlegen.")

    owner.get_by_text("Lieferant hinzufügen", exact=True).click()  # the summary opens the form
    suppliers = owner.locator("#supplier-form")
    suppliers.get_by_label("Name").fill("Mühle am Bach")
    suppliers.get_by_label("E-Mail für Bestellungen").fill("bestellung@muehle")
    suppliers.get_by_role("button", name="Lieferant anlegen").click()
    expect(suppliers.locator(".field-error")).to_have_text(
        "Bitte eine E-Mail-Adresse wie bestellung@lieferant.de angeben."
    )
    suppliers.get_by_label("E-Mail für Bestellungen").fill("bestellung@muehle.example")
    suppliers.get_by_label("Kundennummer beim Lieferanten (optional)").fill("K-4711")
    suppliers.get_by_role("button", name="Lieferant anlegen").click()
    assert note(owner) == "Lieferant „Mühle am Bach“ ist angelegt."
    expect(owner.locator("#suppliers li")).to_have_text("Mühle am Bachbestellung@muehle.example · Kd.-Nr. K-4711")

    # 24 Zimtschnecken from the catalog and 25 kg of flour as free text
    order_form = owner.locator("#order-form")
    expect(order_form.get_by_label("Lieferant")).to_have_text("Mühle am Bach")
    first = order_form.locator(".order-line").nth(0)
    first.get_by_label("Artikel").select_option(label="Zimtschnecke")
    first.get_by_label("Menge").fill("24")
    order_form.get_by_role("button", name="Weitere Position").click()
    second = order_form.locator(".order-line").nth(1)
    expect(second.get_by_label("Artikel")).to_be_focused()
    second.get_by_label("Artikel").select_option(label="Freier Text (nicht im Sortiment)")
    second.get_by_label("Bezeichnung").fill("Weizenmehl Type 550")
    second.get_by_label("Menge").fill("25")
    second.get_by_label("Einheit").fill("kg")
    # left, as a person leaves it: with its suggestions open a full-page screenshot shifts the page under a click
    second.get_by_label("Einheit").press("Tab")
    audit.check(owner, "a purchase order being written")
    screenshot(owner, "catalog-purchase-order-form-tablet")
    order_form.get_by_role("button", name="Bestellen und per E-Mail senden").click()
    sent = rf"Bestellung ({PO_NUMBER}) ist an Mühle am Bach \(bestellung@muehle\.example\) gesendet\."
    expect(owner.locator("#catalog-note")).to_have_text(re.compile(sent))
    number = re.fullmatch(sent, owner.locator("#catalog-note").inner_text()).group(1)
    [order] = api(web_stack, "GET", "/purchase-orders", store=STORE).json()["data"]
    assert (order["number"], order["status"]) == (number, "sent")
    assert [(line["product_id"], line["name"], line["quantity"], line["unit"]) for line in order["lines"]] == [
        ("zimtschnecke", "Zimtschnecke", 24, "Stück"),
        (None, "Weizenmehl Type 550", 25, "kg"),
    ]
    assert number in mail_to(web_stack, "bestellung@muehle.example")["subject"]
    ordered = card(owner, f"{number} · Mühle am Bach")
    expect(ordered.locator(".badge")).to_have_text("gesendet")
    expect(ordered.locator(".line-state")).to_have_text(
        ["24 Stück bestellt · 0 geliefert", "25 kg bestellt · 0 geliefert"]
    )
    screenshot(owner, "catalog-purchase-order-sent-tablet")

    # staff receive it on their phone: all the Zimtschnecken, 20 kg of the flour so far
    staff = pages(PHONE)
    sign_in_to(staff, web_stack, catalog_store, "staff")
    open_catalog(staff, "Einkauf")
    assert staff.locator("#supplier-add, #order-form").count() == 0  # owners' and supervisors' controls
    arrived = card(staff, f"{number} · Mühle am Bach")
    expect(arrived.get_by_label("Angekommen (Stück)")).to_have_value("24")  # what is still open
    audit.check(staff, "a purchase order to receive")
    screenshot(staff, "catalog-receive-phone")
    arrived.get_by_role("button", name="Wareneingang buchen: Zimtschnecke").click()
    assert note(staff) == "Wareneingang gebucht: 24 Stück Zimtschnecke. Bestand jetzt 27."
    expect(arrived.locator(".badge")).to_have_text("teilweise geliefert")
    arrived.get_by_label("Angekommen (kg)").fill("30")
    arrived.get_by_role("button", name="Wareneingang buchen: Weizenmehl Type 550").click()
    expect(arrived.locator(".alert")).to_have_text("Bitte eine ganze Zahl von 1 bis 25 eingeben.")
    arrived.get_by_label("Angekommen (kg)").fill("20")
    arrived.get_by_role("button", name="Wareneingang buchen: Weizenmehl Type 550").click()
    assert note(staff) == "Wareneingang gebucht: 20 kg Weizenmehl Type 550."
    expect(arrived.locator(".line-state")).to_have_text(
        ["24 Stück bestellt · 24 geliefert", "25 kg bestellt · 20 geliefert"]
    )
    expect(arrived.get_by_label("Angekommen (Stück)")).to_have_count(0)  # nothing of it is open
    expect(arrived.get_by_label("Angekommen (kg)")).to_have_value("5")
    [received] = api(web_stack, "GET", "/purchase-orders", store=STORE).json()["data"]
    assert [(line["line"], line["received"]) for line in received["lines"]] == [(1, 24), (2, 20)]
    assert received["status"] == "partially_received"
    assert product(web_stack, "zimtschnecke")["stock"] == 27
    audit.check(staff, "a purchase order partly received")
    screenshot(staff, "catalog-received-phone")

    staff.get_by_role("tab", name="Artikel", exact=True).click()
    zimt = card(staff, "Zimtschnecke")
    expect(zimt.locator(".stock")).to_have_text("27")
    assert staff.locator("#product-new").count() == 0
    assert zimt.get_by_role("button").all_inner_texts() == ["Bestand ändern"]  # staff count the stock, nothing more
    audit.assert_none()


def test_finance_reads_the_catalog_without_its_controls(web_stack, catalog_store, pages, axe):
    audit = Axe(axe)
    finance = pages(TABLET)
    sign_in_to(finance, web_stack, catalog_store, "finance")
    finance.get_by_role("tab", name="Sortiment").click()
    finance.locator("#products:not([aria-busy])").wait_for(state="attached")
    assert finance.locator("#cat-products li").count() >= 3
    assert finance.get_by_role("tab", name="Aktionen").count() == 0  # the API shows finance no promotions
    assert finance.locator("#catalog-panel").get_by_role("button").all_inner_texts() == []
    finance.get_by_role("tab", name="Einkauf").click()
    assert finance.locator("#supplier-add, #order-form, .receive").count() == 0
    audit.check(finance, "finance's view of the purchasing")
    screenshot(finance, "catalog-finance-tablet")
    audit.assert_none()
