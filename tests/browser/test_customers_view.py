"""The staff board's customers ("Kunden"): search, a record with its consent and its orders, create and
edit under If-Match, the 409 of a known e-mail, the owner's export and erasure behind the passkey, and
the import of a customer list (dry run, then the real run). Each test acts as a person does and checks
what the API recorded; screenshots at phone and tablet widths land in artifacts/screenshots/, and the
last test runs axe-core over every customer view.

Passkey-protected customer data is tried in a store of its own (`kunden-passkey`): the demo store's
passkey settings belong to the other browser tests.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from test_accessibility import Axe, open_page
from test_web_pages import sign_in_staff, unique_email

from conftest import PHONE, TABLET, screenshot
from stack import TRESEN

PASSKEY_STORE = "kunden-passkey"
PASSKEY = "135790"
STORE_FILE = {
    "store": {
        "id": PASSKEY_STORE,
        "name": "Café Kundendaten",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "invoice_series": "KP",
        "payment_methods": ["on_site"],
        "online_providers": [],
        "fulfilment_types": ["pickup"],
        "address": ["Lindenstraße 5", "10969 Berlin"],
    },
    "products": [
        {"id": "torte", "name": "Hochzeitstorte", "price": 28000, "vat_rate": "7", "available": True},
        {"id": "kaffee", "name": "Filterkaffee", "price": 290, "vat_rate": "19", "available": True},
    ],
}


# ---- helpers -------------------------------------------------------------------------------------


def token(role: str, store: str = "demo", uid: str = "customers-test") -> str:
    from tresen.adapters.identity import unsigned_dev_token

    return unsigned_dev_token(uid=uid, stores={store: role}, lifetime=3600)


def api(stack, method: str, path: str, role: str = "owner", store: str = "demo", **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token(role, store)}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{stack.url}/v1/stores/{store}{path}", headers=headers, timeout=15, **kwargs)


def german_mobile() -> tuple[str, str]:
    """A German mobile number as a person types it, and as E.164 (unique enough for one session)."""
    number = random.randint(2_000_000, 9_999_999)
    return f"0171 {number}", f"+49171{number}"


def place_order(
    stack, email: str, name: str, store: str = "demo", product: str = "espresso", quantity: int = 1
) -> dict:
    answer = requests.post(
        f"{stack.url}/v1/stores/{store}/orders",
        json={
            "items": [{"product_id": product, "quantity": quantity, "options": []}],
            "fulfilment": {"type": "pickup"},
            "customer": {"name": name, "email": email},
            "payment": {"method": "on_site"},
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=15,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def open_customers(page) -> None:
    page.get_by_role("tab", name="Kunden").click()
    page.locator("#customer-search").wait_for()


def search(page, query: str) -> None:
    """Searches and waits for the answer (the list is aria-busy from the click until it is shown)."""
    page.locator("#customer-q").fill(query)
    page.locator("#customer-search button[type=submit]").click()
    page.locator("#customer-results:not([aria-busy])").wait_for(state="attached")


def result(page, customer_id: str):
    return page.locator(f"#customer-results button[data-customer='{customer_id}']")


def opened(page, customer_id: str) -> None:
    """Waits for the record to be shown (the pane is aria-busy while it loads)."""
    page.locator(f"#customer-pane:not([aria-busy]) #customer-record[data-customer='{customer_id}']").wait_for()


def fact(page, name: str) -> str:
    return page.locator(f"#customer-facts dd[data-name='{name}']").inner_text()


def fill_form(page, **values: str) -> None:
    for name, value in values.items():
        page.locator(f"#cf-{name}").fill(value)


def sign_in_to(page, stack, store: str, role: str) -> None:
    page.goto(f"{stack.url}/staff")
    page.get_by_label("Benutzer-ID").fill(f"{role}-browser")
    page.get_by_label("Rolle").select_option(role)
    page.locator("#store").fill(store)
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector("#board .column")


@pytest.fixture(scope="module")
def passkey_store(web_stack, tmp_path_factory) -> str:
    """A store whose passkey protects customer data (and nothing else)."""
    store_file = tmp_path_factory.mktemp("store") / "store.json"
    store_file.write_text(json.dumps(STORE_FILE))
    subprocess.run([str(TRESEN), "store", str(store_file)], env=web_stack.cli_env, check=True, capture_output=True)
    api(
        web_stack, "PUT", "/passkey", store=PASSKEY_STORE, json={"pin": PASSKEY, "protect": ["customer_data"]}
    ).raise_for_status()
    return PASSKEY_STORE


# ---- staff: search, create, edit, consent, orders, 409 -------------------------------------------


def test_staff_create_a_customer_edit_it_record_consent_and_see_its_orders(web_stack, phone):
    page = phone
    email = unique_email().replace("guest", "jürgen")  # an umlaut in the address too
    typed_phone, e164 = german_mobile()
    sign_in_staff(page, web_stack, role="staff")
    open_customers(page)
    screenshot(page, "customers-search-phone")

    page.get_by_role("button", name="Neuer Kunde").click()
    page.locator("#customer-form").wait_for()
    fill_form(
        page,
        given_name="Jürgen",
        family_name="Größe-Äbersold",
        email=email.upper(),
        phone=typed_phone,
        birthday="03.04.1980",
        street="Königstraße 1",
        postal_code="70173",
        city="Stuttgart",
    )
    screenshot(page, "customer-form-phone")
    page.get_by_role("button", name="Speichern").click()
    page.locator("#customer-record").wait_for()
    assert page.locator("#customer-note").inner_text() == "Kunde angelegt."
    assert page.locator("#customer-name").inner_text() == "Jürgen Größe-Äbersold"
    assert fact(page, "email") == email  # lower-case
    assert fact(page, "phone") == e164  # E.164
    assert fact(page, "birthday") == "03.04.1980"
    assert fact(page, "address") == "Königstraße 1, 70173 Stuttgart"
    customer_id = page.locator("#customer-record").get_attribute("data-customer")
    stored = api(web_stack, "GET", f"/customers/{customer_id}", role="staff").json()
    assert (stored["given_name"], stored["family_name"], stored["email"], stored["phone"], stored["birthday"]) == (
        "Jürgen",
        "Größe-Äbersold",
        email,
        e164,
        "1980-04-03",
    )
    assert stored["version"] == 1

    # found by a name's prefix, by the e-mail and by the phone as people type them
    page.get_by_role("button", name="Zur Kundenliste").click()
    for query in ("Jürg", email.upper(), typed_phone.replace(" ", "/"), e164):
        search(page, query)
        result(page, customer_id).wait_for()
    search(page, "Größe")
    result(page, customer_id).click()
    opened(page, customer_id)

    # edit: the note and the company; If-Match carries the version read
    page.get_by_role("button", name="Bearbeiten").click()
    with page.expect_request(re.compile(rf".*/customers/{customer_id}$")) as sent:
        fill_form(page, company="Größe & Söhne", note="Mag Hafermilch,\nkein Zucker")
        page.get_by_role("button", name="Speichern").click()
    assert sent.value.method == "PATCH"
    assert sent.value.headers["if-match"] == "1"
    assert json.loads(sent.value.post_data) == {"company": "Größe & Söhne", "note": "Mag Hafermilch,\nkein Zucker"}
    page.locator("#customer-note", has_text="Gespeichert.").wait_for()
    assert fact(page, "company") == "Größe & Söhne"
    assert fact(page, "note") == "Mag Hafermilch,\nkein Zucker"

    # consent by e-mail: granted on the phone, then withdrawn; the history is newest first
    consent = page.locator("#consent-email")
    assert consent.locator("#consent-email-state").inner_text() == "nie gefragt"
    consent.get_by_label("Woher").select_option("phone")
    wording = consent.get_by_label("Wortlaut, wie er dem Kunden gezeigt wurde").input_value()
    assert wording.startswith("Ja, ich möchte Neuigkeiten und Angebote dieses Geschäfts per E-Mail bekommen.")
    consent.get_by_role("button", name="Einwilligung erfassen").click()
    page.locator("#consent-email-state", has_text="erteilt").wait_for()
    assert page.locator("#customer-note").inner_text() == "Werbung per E-Mail: erteilt erfasst."
    page.locator("#consent-email").get_by_role("button", name="Widerruf erfassen").click()
    page.locator("#consent-email-state", has_text="widerrufen").wait_for()
    history = page.locator("#consent-email-history li").all_inner_texts()
    assert len(history) == 2
    assert re.fullmatch(
        r"[\d.]+, [\d:]+ · widerrufen · im Geschäft, mündlich · von staff-browser \(Personal\)\n„Ja, ich möchte .*“",
        history[0],
    )
    assert re.fullmatch(
        r"[\d.]+, [\d:]+ · erteilt · am Telefon · von staff-browser \(Personal\)\n„Ja, ich möchte .*“", history[1]
    )
    assert page.locator("#consent-sms-state").inner_text() == "nie gefragt"
    screenshot(page, "customer-record-consent-phone")
    recorded = api(web_stack, "GET", f"/customers/{customer_id}", role="staff").json()
    assert recorded["consents"]["email"]["state"] == "withdrawn"
    assert [(c["state"], c["source"], c["wording"]) for c in recorded["consents"]["email"]["history"]] == [
        ("granted", "phone", wording),
        ("withdrawn", "in_person", wording),
    ]
    assert recorded["company"] == "Größe & Söhne" and recorded["version"] == 4  # the edit and two consents

    # its orders: placed with its e-mail, newest first, more on request
    assert page.locator("#customer-record").get_by_text("Noch keine Bestellungen.").is_visible()
    orders = [place_order(web_stack, email, "Jürgen Größe-Äbersold") for _ in range(11)]
    page.get_by_role("button", name="Zur Kundenliste").click()
    result(page, customer_id).click()
    rows = page.locator("#customer-orders tbody tr")
    rows.first.wait_for()
    newest_first = [order["number"] for order in reversed(orders)]
    assert [int(n) for n in rows.evaluate_all("rows => rows.map((r) => r.dataset.number)")] == newest_first[:10]
    assert rows.first.inner_text().split("\t")[2:] == ["an der Kasse zu zahlen", "2,60\xa0€"]
    page.get_by_role("button", name="Ältere Bestellungen zeigen").click()
    rows.nth(10).wait_for()
    assert [int(n) for n in rows.evaluate_all("rows => rows.map((r) => r.dataset.number)")] == newest_first
    assert page.get_by_role("button", name="Ältere Bestellungen zeigen").count() == 0
    screenshot(page, "customer-orders-phone")

    # the order's dialog links back to its customer
    rows.first.get_by_role("button").click()
    page.locator("#detail[open]").wait_for()
    page.get_by_role("button", name="Kunde: Jürgen Größe-Äbersold öffnen").click()
    page.locator("#detail").wait_for(state="hidden")
    opened(page, customer_id)

    # the same e-mail again: 409, and the existing record is offered
    page.get_by_role("button", name="Zur Kundenliste").click()
    page.get_by_role("button", name="Neuer Kunde").click()
    fill_form(page, given_name="Jürgen", family_name="Doppelt", email=email.upper())
    page.get_by_role("button", name="Speichern").click()
    alert = page.locator("#customer-form-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text().startswith(
        "Diesen Kunden gibt es schon. Ein Kunde dieses Geschäfts hat schon diese E-Mail-Adresse oder Telefonnummer."
    )
    screenshot(page, "customer-exists-phone")
    page.get_by_role("button", name="Jürgen Größe-Äbersold öffnen").click()
    opened(page, customer_id)
    found = api(web_stack, "GET", "/customers", role="staff", params={"q": "Jürgen"}).json()["data"]
    assert [c["family_name"] for c in found if c["email"] == email] == ["Größe-Äbersold"]


def test_a_record_changed_meanwhile_is_reloaded_and_the_edit_saved_over_it(web_stack, tablet):
    page = tablet
    email = unique_email()
    created = api(
        web_stack,
        "POST",
        "/customers",
        role="staff",
        json={"given_name": "Özlem", "family_name": "Şahin", "email": email},
    ).json()
    sign_in_staff(page, web_stack, role="supervisor")
    open_customers(page)
    search(page, email)
    result(page, created["id"]).click()
    page.get_by_role("button", name="Bearbeiten").click()
    fill_form(page, company="Bäckerei Şahin")

    # a colleague changes the note meanwhile
    changed = api(
        web_stack,
        "PATCH",
        f"/customers/{created['id']}",
        role="staff",
        json={"note": "Stammgast seit 2019"},
        headers={"If-Match": "1"},
    )
    assert changed.json()["version"] == 2

    page.get_by_role("button", name="Speichern").click()
    alert = page.locator("#customer-form-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text() == (
        "Inzwischen geändert. Jemand anderes hat diesen Kunden geändert, seit Sie ihn geöffnet haben. Der neue Stand "
        "ist geladen, Ihre Eingaben sind erhalten: bitte prüfen und erneut speichern. Geändert wurde: Notiz."
    )
    assert page.locator("#cf-note").input_value() == "Stammgast seit 2019"  # the new state …
    assert page.locator("#cf-company").input_value() == "Bäckerei Şahin"  # … under this person's change
    screenshot(page, "customer-changed-meanwhile-tablet")
    with page.expect_request(re.compile(rf".*/customers/{created['id']}$")) as sent:
        page.get_by_role("button", name="Speichern").click()
    assert sent.value.headers["if-match"] == "2"
    page.locator("#customer-note", has_text="Gespeichert.").wait_for()
    assert (fact(page, "company"), fact(page, "note")) == ("Bäckerei Şahin", "Stammgast seit 2019")
    record = api(web_stack, "GET", f"/customers/{created['id']}", role="staff").json()
    assert (record["company"], record["note"], record["version"]) == ("Bäckerei Şahin", "Stammgast seit 2019", 3)


def test_problems_are_said_beside_their_fields_in_german(web_stack, tablet):
    page = tablet
    sign_in_staff(page, web_stack, role="staff")
    open_customers(page)
    page.get_by_role("button", name="Neuer Kunde").click()
    page.get_by_role("button", name="Speichern").click()
    page.locator("#cf-given_name + .field-error").wait_for()
    assert page.locator(".field-error").all_inner_texts() == [
        "Nötig ist ein Name, eine E-Mail-Adresse oder eine Telefonnummer."
    ]
    assert page.locator("#customer-form-alert").inner_text() == "Bitte die markierten Angaben prüfen."
    fill_form(page, given_name="Jörg", email="jörg@", phone="030 12", birthday="31.02.1990")
    page.get_by_role("button", name="Speichern").click()
    page.locator("#cf-birthday + .field-error").wait_for()
    assert page.locator(".field-error").all_inner_texts() == [
        "Keine gültige E-Mail-Adresse.",
        "Keine gültige Telefonnummer.",
        "Den 31.02.1990 gibt es nicht.",
    ]
    assert page.locator("#cf-email").get_attribute("aria-invalid") == "true"
    screenshot(page, "customer-form-errors-tablet")
    search(page, "030 12")  # an incomplete phone number
    assert page.locator("#customer-q + .field-error").inner_text() == (
        "Bitte die Telefonnummer vollständig eingeben, z. B. 0171 2345678."
    )


# ---- the owner: export and erasure behind the passkey --------------------------------------------


def test_the_owner_exports_and_erases_a_customer_with_the_passkey_and_sees_what_is_kept(
    web_stack, passkey_store, tablet
):
    page = tablet
    email = unique_email()
    typed_phone, e164 = german_mobile()
    sign_in_to(page, web_stack, passkey_store, "owner")
    open_customers(page)

    # making a record asks for the passkey here
    page.get_by_role("button", name="Neuer Kunde").click()
    fill_form(page, given_name="Hildegard", family_name="Knüppel", email=email, phone=typed_phone)
    page.get_by_role("button", name="Speichern").click()
    page.locator("#customer-form #passkey-field").wait_for(state="visible")
    assert "passkey" in page.locator("#customer-form-alert").inner_text().lower()
    assert page.evaluate("document.activeElement.id") == "passkey"
    page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
    page.get_by_role("button", name="Speichern").click()
    page.locator("#customer-record").wait_for()
    assert fact(page, "phone") == e164
    customer_id = page.locator("#customer-record").get_attribute("data-customer")
    small = place_order(web_stack, email, "Hildegard Knüppel", store=passkey_store, product="kaffee")
    large = place_order(web_stack, email, "Hildegard Knüppel", store=passkey_store, product="torte")  # 280 €
    result(page, customer_id).click()  # the list is beside the record at this width
    page.locator("#customer-orders tbody tr").nth(1).wait_for()

    # export: the passkey, then the file
    page.get_by_role("button", name="Daten exportieren").click()
    page.locator("#customer-record #passkey-field").wait_for(state="visible")
    page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
    with page.expect_download() as download:
        page.get_by_role("button", name="Daten exportieren").click()
    assert download.value.suggested_filename == f"kunde-{customer_id}.json"
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["customer"]["email"] == email
    assert sorted(order["id"] for order in exported["orders"]) == sorted([small["id"], large["id"]])
    assert page.locator("#passkey-field").is_hidden()

    # erasure: a dialog says what goes and what stays, then the passkey, then what was kept
    page.get_by_role("button", name="Löschen").click()
    dialog = page.locator("#erase-dialog[open]")
    dialog.wait_for()
    assert dialog.locator("#erase-title").inner_text() == "Hildegard Knüppel löschen?"
    assert "Name auf einer Rechnung über 250 €, 8 Jahre lang" in dialog.inner_text()
    screenshot(page, "customer-erase-dialog-tablet")
    dialog.get_by_role("button", name="Endgültig löschen").click()
    dialog.locator("#passkey-field").wait_for(state="visible")
    page.get_by_label("Passkey (6 Ziffern)").fill("000000")  # wrong first
    dialog.get_by_role("button", name="Endgültig löschen").click()
    dialog.locator("#erase-alert", has_text="Wrong passkey.").wait_for()
    page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
    dialog.get_by_role("button", name="Endgültig löschen").click()
    page.locator("#customer-erased").wait_for()
    assert page.locator("#erase-dialog").is_hidden()
    assert page.locator("#erased-title").inner_text() == "Hildegard Knüppel ist gelöscht."
    assert page.locator("#erased-kept li").all_inner_texts() == [
        f"Bestellung #{large['number']}: der Name auf der Rechnung, bis 31.12.{int(large['created_at'][:4]) + 8}\n"
        "Name des Empfängers einer Rechnung über 250 € (§ 14 Abs. 4 UStG), aufzubewahren 8 Jahre nach dem Jahr der "
        "Rechnung (§ 147 Abs. 3 AO)."
    ]
    screenshot(page, "customer-erased-tablet")

    # gone: from the list, from a search, from the API
    assert result(page, customer_id).count() == 0
    search(page, email)
    assert page.locator("#customer-count").inner_text() == "Niemand gefunden."
    assert api(web_stack, "GET", f"/customers/{customer_id}", store=passkey_store).status_code == 404
    kept = api(web_stack, "GET", f"/orders/{large['id']}", store=passkey_store).json()
    assert (kept["customer"]["name"], kept["customer"]["email"], kept["customer_id"]) == ("Hildegard Knüppel", "", None)


def test_staff_and_supervisors_see_no_export_erase_or_import_where_their_role_may_not(web_stack, tablet):
    page = tablet
    created = api(
        web_stack, "POST", "/customers", role="staff", json={"given_name": "Rosi", "email": unique_email()}
    ).json()
    for role, buttons, importing in (
        ("staff", [], False),
        ("supervisor", [], True),
        ("owner", ["Daten exportieren", "Löschen"], True),
    ):
        sign_in_staff(page, web_stack, role=role)
        open_customers(page)
        assert page.locator("#customer-import").count() == int(importing)
        search(page, created["email"])
        result(page, created["id"]).click()
        opened(page, created["id"])
        shown = page.locator("#customer-record .actions").first.get_by_role("button").all_inner_texts()
        assert shown == ["Bearbeiten", *buttons], role
        page.get_by_role("button", name="Abmelden").click()
    sign_in_staff(page, web_stack, role="finance")
    assert page.get_by_role("tab", name="Kunden").count() == 0


# ---- importing a customer list -------------------------------------------------------------------


def customer_list(tag: str, updated_email: str) -> bytes:
    """As German Excel saves "CSV (Trennzeichen-getrennt)": Windows-1252, separated by `;`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Vorname", "Nachname", "E-Mail", "Telefon", "Geburtstag", "Newsletter"])
    writer.writerow(["Jörg", "Müller", f"joerg-{tag}@example.com", "", "01.02.1975", "ja"])
    writer.writerow(["Änne", "Weiß", f"aenne-{tag}@example.com", "", "", ""])
    writer.writerow(["Björn", "Ölschläger", updated_email, "", "24.12.1990", ""])  # a record that exists
    writer.writerow(["Kaputt", "", "keine-adresse", "", "", ""])
    writer.writerow(["Zukunft", "", "", "", "01.01.2999", ""])
    return out.getvalue().encode("cp1252")


def test_a_customer_list_is_tried_in_a_dry_run_then_imported_with_its_progress_and_errors(web_stack, tablet):
    page = tablet
    tag = uuid.uuid4().hex[:8]
    existing = api(
        web_stack, "POST", "/customers", role="staff", json={"given_name": "Björn", "email": unique_email()}
    ).json()
    file = {"name": "kunden.csv", "mimeType": "text/csv", "buffer": customer_list(tag, existing["email"])}
    sign_in_staff(page, web_stack, role="supervisor")
    open_customers(page)
    form = page.locator("#customer-import")
    form.get_by_role("button", name="Probelauf").click()  # no file yet
    form.locator("#import-alert", has_text="Bitte zuerst eine CSV-Datei wählen.").wait_for()
    assert form.get_by_role("button", name="Importieren").count() == 0

    form.get_by_label("CSV-Datei").set_input_files(file)
    form.get_by_role("button", name="Probelauf").click()
    status = form.locator("#import-status")
    form.locator("#import-status", has_text="Probelauf:").wait_for()
    assert status.inner_text() == (
        "Probelauf: 5 Zeilen – 2 neu, 1 zu ändern, 0 unverändert, 2 mit Fehlern. Noch ist nichts gespeichert."
    )
    assert form.locator("#import-errors tbody tr").all_inner_texts() == [
        "5\tE-Mail\tKeine gültige E-Mail-Adresse.",
        "6\tGeburtstag\tDer Geburtstag liegt in der Zukunft.",
    ]
    assert api(web_stack, "GET", "/customers", params={"q": f"joerg-{tag}@example.com"}).json()["data"] == []
    screenshot(page, "customer-import-dry-run-tablet")

    # the real run: its progress is followed until it is done (held at "running" here until seen)
    holding = [True]

    def still_running(route):
        answer = route.fetch()
        state = answer.json()
        if holding[0]:
            state |= {"status": "running", "rows": None, "processed": 2}
        route.fulfill(response=answer, json=state)

    page.route(re.compile(r".*/customer-imports/imp_\w+$"), still_running)
    with page.expect_request(re.compile(r".*/customer-imports\?dry_run=false$")) as sent:
        form.get_by_role("button", name="Importieren").click()
    assert sent.value.headers["content-type"] == "text/csv"
    assert sent.value.headers["idempotency-key"]
    form.locator("#import-status", has_text="Import läuft: 2 von 5 Zeilen verarbeitet.").wait_for()
    progress = form.get_by_role("progressbar", name="Fortschritt des Imports")
    assert (progress.get_attribute("value"), progress.get_attribute("max")) == ("2", "5")
    screenshot(page, "customer-import-running-tablet")
    holding[0] = False
    form.locator("#import-status", has_text="Import abgeschlossen").wait_for()
    assert progress.count() == 0
    assert status.inner_text() == "Import abgeschlossen: 5 Zeilen – 2 neu, 1 geändert, 0 unverändert, 2 mit Fehlern."
    assert form.get_by_role("button", name="Importieren").count() == 0
    link = form.get_by_role("link", name="Zeilen mit Fehlern herunterladen (CSV)")
    with page.expect_download() as download:
        link.click()
    assert re.fullmatch(r"imp_\w+-errors\.csv", download.value.suggested_filename)
    refused = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert refused == [
        "reason;Vorname;Nachname;E-Mail;Telefon;Geburtstag;Newsletter",
        "email: not an e-mail address;Kaputt;;keine-adresse;;;",
        "birthday: a birthday in the future;Zukunft;;;;01.01.2999;",
    ]
    screenshot(page, "customer-import-done-tablet")

    [joerg] = api(web_stack, "GET", "/customers", params={"q": f"joerg-{tag}@example.com"}).json()["data"]
    assert (joerg["given_name"], joerg["family_name"], joerg["birthday"]) == ("Jörg", "Müller", "1975-02-01")
    assert joerg["consents"]["email"]["state"] == "granted"
    updated = api(web_stack, "GET", f"/customers/{existing['id']}").json()
    assert (updated["family_name"], updated["birthday"]) == ("Ölschläger", "1990-12-24")
    search(page, f"aenne-{tag}@example.com")
    page.locator("#customer-results button", has_text="Änne Weiß").click()
    assert fact(page, "family_name") == "Weiß"


def test_the_import_asks_for_the_passkey_where_the_store_protects_customer_data(web_stack, passkey_store, phone):
    page = phone
    tag = uuid.uuid4().hex[:8]
    sign_in_to(page, web_stack, passkey_store, "supervisor")
    open_customers(page)
    form = page.locator("#customer-import")
    form.get_by_label("CSV-Datei").set_input_files(
        {
            "name": "liste.csv",
            "mimeType": "text/csv",
            "buffer": f"Vorname,E-Mail\nLiesl,liesl-{tag}@example.com\n".encode(),
        }
    )
    form.get_by_role("button", name="Probelauf").click()
    form.locator("#passkey-field").wait_for(state="visible")
    page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
    form.get_by_role("button", name="Probelauf").click()
    form.locator("#import-status", has_text="1 Zeilen – 1 neu").wait_for()
    form.get_by_role("button", name="Importieren").click()  # the passkey typed for the dry run goes with it
    form.locator("#import-status", has_text="Import abgeschlossen").wait_for()
    assert form.locator("#passkey-field").count() == 0
    screenshot(page, "customer-import-phone")
    [liesl] = api(web_stack, "GET", "/customers", store=passkey_store, params={"q": "Liesl"}).json()["data"]
    assert liesl["email"] == f"liesl-{tag}@example.com"


# ---- English, and axe-core over every customer view ----------------------------------------------


def test_the_customer_views_switch_to_english_keeping_what_was_typed(web_stack, tablet):
    page = tablet
    sign_in_staff(page, web_stack, role="staff")
    open_customers(page)
    page.get_by_role("button", name="Neuer Kunde").click()
    fill_form(page, given_name="Mathilde", note="Allergie: Nüsse")
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("tab", name="Customers").is_visible()
    assert page.locator("#customer-form-title").inner_text() == "New customer"
    assert page.locator("label[for=cf-given_name]").inner_text() == "First name"
    assert page.locator("#cf-given_name").input_value() == "Mathilde"
    assert page.locator("#cf-note").input_value() == "Allergie: Nüsse"
    page.get_by_role("button", name="Save").click()
    page.locator("#customer-note", has_text="Customer added.").wait_for()
    assert page.locator("#consent-email legend").inner_text() == "Marketing by e-mail"
    page.get_by_role("button", name="Deutsch").click()
    assert page.locator("#consent-email legend").inner_text() == "Werbung per E-Mail"


def test_every_customer_view_passes_axe_core(web_stack, passkey_store, playwright_browser, axe):
    audit = Axe(axe)
    email = unique_email()
    typed_phone, _ = german_mobile()
    for size, viewport in (("phone", PHONE), ("tablet", TABLET)):
        page, faults = open_page(playwright_browser, viewport)
        sign_in_to(page, web_stack, passkey_store, "owner")
        open_customers(page)
        audit.check(page, f"customers, nothing searched yet ({size})")

        page.get_by_role("button", name="Neuer Kunde").click()
        page.get_by_role("button", name="Speichern").click()  # the passkey is asked before anything else
        page.locator("#customer-form #passkey-field").wait_for(state="visible")
        audit.check(page, f"create form asking for the passkey ({size})")
        page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
        page.get_by_role("button", name="Speichern").click()
        page.locator(".field-error").first.wait_for()
        audit.check(page, f"create form with its problems ({size})")
        fill_form(
            page, given_name="Anneliese", family_name="Brösel", email=email.upper() if size == "tablet" else email
        )
        if size == "phone":
            fill_form(
                page, phone=typed_phone, birthday="1.5.1960", street="Am Markt 3", postal_code="10178", city="Berlin"
            )
        page.get_by_role("button", name="Speichern").click()
        if size == "tablet":  # the e-mail the phone's walk took
            page.locator("#open-existing").wait_for()
            audit.check(page, f"create form offering the existing record ({size})")
            page.locator("#open-existing").click()
        page.locator("#customer-record").wait_for()
        if size == "phone":
            place_order(web_stack, email, "Anneliese Brösel", store=passkey_store, product="kaffee")
            page.locator("#consent-email").get_by_role("button", name="Einwilligung erfassen").click()
            page.locator("#consent-email-history li").first.wait_for()
            page.get_by_role("button", name="Zur Kundenliste").click()
            search(page, "Anneliese")
            page.locator("#customer-results button").first.click()
            page.locator("#customer-orders").wait_for()
        audit.check(page, f"a record with its consent history and orders ({size})")
        page.get_by_role("button", name="Daten exportieren").click()
        page.locator("#customer-record #passkey-field").wait_for(state="visible")
        audit.check(page, f"a record asking for the passkey ({size})")

        if size == "phone":
            page.get_by_role("button", name="Zur Kundenliste").click()
        search(page, "")
        audit.check(page, f"search results ({size})")

        form = page.locator("#customer-import")
        form.get_by_label("CSV-Datei").set_input_files(
            {"name": "k.csv", "mimeType": "text/csv", "buffer": customer_list(uuid.uuid4().hex[:8], unique_email())}
        )
        form.get_by_role("button", name="Probelauf").click()
        form.locator("#passkey-field").wait_for(state="visible")  # moved here from the record, emptied
        page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
        form.get_by_role("button", name="Probelauf").click()
        form.locator("#import-errors").wait_for()
        audit.check(page, f"import, dry run with its errors ({size})")
        form.get_by_role("button", name="Importieren").click()
        form.get_by_role("link", name="Zeilen mit Fehlern herunterladen (CSV)").wait_for()
        audit.check(page, f"import, done ({size})")

        if size == "tablet":
            search(page, email)
            page.locator("#customer-results button").first.click()
            page.get_by_role("button", name="Löschen").click()
            page.locator("#erase-dialog[open]").wait_for()
            audit.check(page, f"erase dialog ({size})")
            page.get_by_role("button", name="Endgültig löschen").click()
            page.locator("#erase-form #passkey-field").wait_for(state="visible")
            page.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
            page.get_by_role("button", name="Endgültig löschen").click()
            page.locator("#customer-erased").wait_for()
            audit.check(page, f"erased, with what is kept ({size})")
            page.get_by_role("button", name="English").click()
            audit.check(page, f"erased, in English ({size})")
        page.context.close()
        assert faults == []
    audit.assert_none()
