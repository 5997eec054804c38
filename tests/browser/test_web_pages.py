"""The ordering page and the staff board in headless Chromium, against a running `tresen dev`.

Each test acts as a person does (clicks, typing, the sandbox checkout) and then checks what the API
recorded, with exact amounts. Screenshots at phone and tablet widths land in artifacts/screenshots/.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from conftest import PHONE, TABLET, new_page, screenshot
from stack import TRESEN
from tresen.webserver import PAGES, WEB

PASSKEY = "246810"


def dev_token(role: str, uid: str = "browser-test", lifetime: int = 3600) -> str:
    from tresen.adapters.identity import unsigned_dev_token

    return unsigned_dev_token(uid=uid, stores={"demo": role}, lifetime=lifetime)


def staff_get(stack, path: str) -> dict:
    answer = requests.get(f"{stack.url}{path}", headers={"Authorization": f"Bearer {dev_token('owner')}"}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def orders_of(stack, email: str) -> list[dict]:
    """Every order of the demo store placed with this e-mail address (the newest 1000 are enough)."""
    page = staff_get(stack, "/v1/stores/demo/orders?limit=1000")
    return [order for order in page["data"] if order["customer"]["email"] == email]


def euro(cents: int) -> str:
    """As the page shows money in German: 1.234,50\xa0€ (Intl puts a no-break space before the sign)."""
    return f"{cents / 100:,.2f}\xa0€".replace(",", "_").replace(".", ",").replace("_", ".")


def unique_email() -> str:
    return f"guest-{uuid.uuid4().hex[:10]}@example.com"


def open_menu(page, base: str) -> None:
    page.goto(f"{base}/?store=demo")
    page.wait_for_selector("[data-product=cappuccino]")


def add(page, product: str, *options: str) -> None:
    card = page.locator(f"[data-product={product}]")
    for option in options:
        card.locator(f"input[value={option}]").check()
    card.locator("button.add").click()


def fill_customer(page, email: str, name: str = "Ada Gast", tip: str = "") -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("E-Mail").fill(email)
    if tip:
        page.get_by_label("Trinkgeld (€)").fill(tip)


def sign_in_staff(page, stack, role: str = "staff") -> None:
    page.goto(f"{stack.url}/staff")
    page.get_by_label("Benutzer-ID").fill(f"{role}-browser")
    page.get_by_label("Rolle").select_option(role)
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector("#board .column")


def ticket(page, column: str, number: int):
    return page.locator(f"[data-column={column}] .ticket[data-number='{number}']")


def test_a_customer_orders_pays_online_and_staff_accept_ready_and_refund_a_line_with_the_passkey(
    web_stack, phone, tablet
):
    email = unique_email()
    requests.put(
        f"{web_stack.url}/v1/stores/demo/passkey",
        json={"pin": PASSKEY, "protect": ["refund"]},
        headers={"Authorization": f"Bearer {dev_token('owner')}"},
        timeout=10,
    ).raise_for_status()

    sign_in_staff(tablet, web_stack, role="staff")  # before the order: the board must show it by itself
    open_menu(phone, web_stack.url)
    screenshot(phone, "ordering-menu-phone")
    add(phone, "cappuccino", "oat")
    add(phone, "croissant")
    assert phone.locator("#cart-bar").inner_text() == "Warenkorb: 2 Artikel · 7,20\xa0€ – zur Kasse"
    fill_customer(phone, email, tip="1,50")
    assert phone.locator("#cart-total").inner_text() == "8,70\xa0€"  # 4,30 + 2,90 + 1,50 tip
    screenshot(phone, "ordering-cart-phone")
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()

    phone.wait_for_url(re.compile(r".*/v1/sandbox/checkout/pay_sbx_\w+\?return=.*"))
    screenshot(phone, "sandbox-checkout-phone")
    phone.get_by_role("button", name="Pay").click()
    phone.wait_for_url(re.compile(r".*\?store=demo#order=ord_\w+$"))
    phone.wait_for_selector("#order-status[data-status=paid]")
    invoice = phone.locator("#invoice-number").inner_text()
    assert re.fullmatch(r"DEMO-\d{4}-\d{6}", invoice)
    assert phone.locator("#order-total").inner_text() == "8,70\xa0€"
    vat_rows = phone.locator("#vat-table tbody tr").all_inner_texts()
    assert [row.split("\t") for row in vat_rows] == [
        ["7 %", "2,71\xa0€", "0,19\xa0€", "2,90\xa0€"],
        ["19 %", "3,61\xa0€", "0,69\xa0€", "4,30\xa0€"],
    ]
    screenshot(phone, "order-paid-phone")

    [order] = orders_of(web_stack, email)
    assert order["invoice_number"] == invoice
    assert [(line["product_id"], line["quantity"], [o["id"] for o in line["options"]]) for line in order["lines"]] == [
        ("cappuccino", 1, ["oat"]),
        ("croissant", 1, []),
    ]
    assert (order["totals"]["tip"], order["totals"]["total"], order["payment_status"]) == (150, 870, "paid")

    new = ticket(tablet, "new", order["number"])
    new.wait_for()
    screenshot(tablet, "staff-board-tablet")
    new.get_by_role("button", name="Annehmen").click()
    ticket(tablet, "accepted", order["number"]).get_by_role("button", name="Fertig").click()
    ready = ticket(tablet, "ready", order["number"])
    ready.wait_for()
    phone.wait_for_selector("#order-status[data-status=ready]")  # the customer's page follows live

    ready.get_by_role("button", name="Details").click()
    croissant = next(line for line in order["lines"] if line["product_id"] == "croissant")
    tablet.locator(f".line-qty[data-line='{croissant['id']}']").fill("1")
    tablet.get_by_label("Grund").fill("Croissant war alt")
    tablet.locator("#refund").click()
    tablet.locator("#passkey-field").wait_for(state="visible")
    assert "passkey" in tablet.locator("#detail-alert").inner_text().lower()
    assert orders_of(web_stack, email)[0]["refunded_amount"] == 0
    screenshot(tablet, "staff-refund-passkey-tablet")
    tablet.get_by_label("Passkey (6 Ziffern)").fill(PASSKEY)
    tablet.locator("#refund").click()
    tablet.locator("#detail-done").wait_for(state="visible")
    # the sandbox, like Stripe, confirms a refund later by webhook
    assert tablet.locator("#detail-done").inner_text() == "Erstattet: 2,90\xa0€ (beim Zahlungsanbieter in Bearbeitung)."
    screenshot(tablet, "staff-order-detail-tablet")

    [refunded] = orders_of(web_stack, email)
    assert (refunded["refunded_amount"], refunded["payment_status"], refunded["status"]) == (
        290,
        "partially_refunded",
        "ready",
    )
    assert [refund["amount"] for refund in refunded["refunds"]] == [290]

    tablet.get_by_role("button", name="Schließen").click()
    ready.get_by_role("button", name="Abgeholt").click()
    ready.wait_for(state="detached")  # completed orders leave the board
    phone.wait_for_selector("#order-status[data-status=completed]")


def test_a_gift_card_sold_on_the_board_pays_part_of_an_order_on_the_ordering_page(web_stack, phone, tablet):
    email = unique_email()
    sign_in_staff(tablet, web_stack, role="staff")
    tablet.get_by_role("tab", name="Gutscheine").click()
    tablet.locator("#sell-amount").fill("10")
    tablet.get_by_role("button", name="Verkaufen").click()
    sold = tablet.locator("#sold-code")
    sold.wait_for()
    code = sold.get_attribute("data-code")
    assert re.fullmatch(r"([A-HJKMNP-Z2-9]{4}-){3}[A-HJKMNP-Z2-9]{4}", code)
    screenshot(tablet, "staff-giftcards-tablet")

    open_menu(phone, web_stack.url)
    add(phone, "bagel", "salmon")
    add(phone, "bagel", "salmon")
    fill_customer(phone, email)
    phone.get_by_label("Gutscheincode").fill(code.replace("-", " ").lower())  # as a person types it
    phone.get_by_role("button", name="Guthaben prüfen").click()
    phone.get_by_text("Guthaben: 10,00\xa0€").wait_for()
    phone.get_by_label("An der Kasse bezahlen").check()
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.wait_for_selector("#order-status[data-status=placed]")
    assert phone.locator("#order-total").inner_text() == "16,00\xa0€"
    assert phone.locator("#giftcard-amount").inner_text() == "-10,00\xa0€"
    assert phone.locator("#amount-due").inner_text() == "6,00\xa0€"
    screenshot(phone, "order-giftcard-phone")

    [order] = orders_of(web_stack, email)
    assert (order["totals"]["total"], order["gift_card_amount"], order["amount_due"]) == (1600, 1000, 600)
    tablet.get_by_label("Gutscheincode").fill(code)
    tablet.get_by_role("button", name="Guthaben anzeigen").click()
    tablet.get_by_text("Guthaben 0,00\xa0€").wait_for()


def order_posts(page) -> list[str]:
    """The Idempotency-Key of every order the page sends, as it sends them."""
    keys: list[str] = []

    def sent(request):
        if request.method == "POST" and request.url.endswith("/orders"):
            keys.append(request.headers["idempotency-key"])

    page.on("request", sent)
    return keys


def ready_to_pay_at_the_counter(page, base: str, email: str, *products: str) -> None:
    open_menu(page, base)
    for product in products:
        add(page, product)
    fill_customer(page, email)
    page.get_by_label("An der Kasse bezahlen").check()


def order_at_the_counter(page, base: str, email: str, *products: str) -> None:
    ready_to_pay_at_the_counter(page, base, email, *products)
    page.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    page.wait_for_selector("#order-status[data-status=placed]")


def test_a_double_clicked_pay_creates_one_order(web_stack, phone):
    email = unique_email()
    posts = order_posts(phone)
    ready_to_pay_at_the_counter(phone, web_stack.url, email, "espresso")
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").dblclick()
    phone.wait_for_selector("#order-status[data-status=placed]")
    assert len(orders_of(web_stack, email)) == 1
    assert len(posts) == 1


def test_a_second_submit_past_the_button_joins_the_first_attempt(web_stack, phone):
    """Enter pressed in a field submits even while the button is disabled."""
    email = unique_email()
    posts = order_posts(phone)
    ready_to_pay_at_the_counter(phone, web_stack.url, email, "espresso")
    phone.evaluate(
        "() => { const form = document.getElementById('checkout'); form.requestSubmit(); form.requestSubmit(); }"
    )
    phone.wait_for_selector("#order-status[data-status=placed]")
    assert len(orders_of(web_stack, email)) == 1
    assert len(posts) == 1


def test_an_order_retried_after_a_dropped_connection_is_made_once(web_stack, phone):
    email = unique_email()
    keys: list[str] = []

    def drop_the_first_answer(route):
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the server makes the order …
            route.abort("connectionreset")  # … and the answer is lost on the way back
        else:
            route.continue_()

    phone.route("**/v1/stores/demo/orders", drop_the_first_answer)
    order_at_the_counter(phone, web_stack.url, email, "lemonade")
    assert len(keys) == 2 and keys[0] == keys[1]
    [order] = orders_of(web_stack, email)
    assert order["totals"]["total"] == 450


def test_problems_are_shown_with_their_title_and_beside_the_field(web_stack, phone):
    open_menu(phone, web_stack.url)
    add(phone, "croissant")
    fill_customer(phone, "not-an-address", name="")
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    alert = phone.locator("#checkout-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text() == "Validation failed 2 field(s) are invalid."
    name_error = phone.locator("#name + .field-error")
    assert name_error.inner_text() == "Bitte geben Sie Ihren Namen an."
    assert phone.locator("#email + .field-error").inner_text() == "Bitte eine gültige E-Mail-Adresse angeben."
    assert phone.get_by_label("E-Mail").get_attribute("aria-invalid") == "true"
    screenshot(phone, "ordering-errors-phone")

    fill_customer(phone, unique_email())
    phone.get_by_label("Am Tisch").check()
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.locator("#table + .field-error").wait_for()
    assert phone.locator(".field-error").all_inner_texts() == ["Bitte die Tischnummer angeben."]
    assert alert.inner_text() == "Validation failed 1 field(s) are invalid."

    assert phone.locator("[data-product=soup] button").is_disabled()
    assert phone.locator("[data-product=soup]").get_attribute("class") == "product sold-out"
    assert phone.locator("[data-product=soup] button").inner_text() == "Ausverkauft"


def test_the_receipt_is_verified_in_the_browser_once_a_checkpoint_covers_it(web_stack, phone):
    email = unique_email()
    order_at_the_counter(phone, web_stack.url, email, "cheesecake")
    verify = phone.get_by_role("button", name="Diesen Beleg prüfen")
    verify.click()
    phone.get_by_text("Noch nicht prüfbar").wait_for()

    requests.post(f"{web_stack.url}/v1/jobs/checkpoints?run={uuid.uuid4().hex}", timeout=30).raise_for_status()
    verify.click()
    result = phone.locator("#verify-result.ok")
    result.wait_for()
    [order] = orders_of(web_stack, email)
    proofs = requests.get(
        f"{web_stack.url}/v1/orders/{order['id']}/proof",
        headers={"X-Order-Token": phone.evaluate(f"localStorage.getItem('tresen.order.{order['id']}')")},
        timeout=10,
    ).json()["proofs"]
    size = int(proofs[0]["proof"].split("\n\n")[1].splitlines()[1])  # the checkpoint's tree size
    assert result.inner_text().splitlines() == [
        f"Geprüft: Eintrag {p['seq']} ({p['type']}) steht im signierten Journal von tresen/demo-tresen/demo "
        f"(Stand: {size} Einträge)."
        for p in proofs
    ]
    screenshot(phone, "order-verified-phone")
    phone.set_viewport_size(TABLET)
    screenshot(phone, "order-verified-tablet")


def test_the_day_is_closed_on_the_board_and_its_z_report_opens(web_stack, tablet):
    sign_in_staff(tablet, web_stack, role="supervisor")
    tablet.get_by_role("tab", name="Tagesabschluss").click()
    tablet.get_by_role("button", name="Jetzt abschließen").click()
    note = tablet.locator("#closed-note")
    note.wait_for()
    z = int(re.search(r"Z (\d+)", note.inner_text()).group(1))
    closing = staff_get(web_stack, f"/v1/stores/demo/closings/{z}")
    assert note.inner_text() == f"Abschluss Z {z} erstellt: Umsatz {euro(closing['sales']['gross'])}."
    screenshot(tablet, "staff-closing-tablet")

    with tablet.expect_response(re.compile(rf".*/closings/{z}\.pdf$")) as pdf, tablet.context.expect_page() as opened:
        tablet.locator(f"#closings tr[data-z='{z}']").get_by_role("button").click()
    assert pdf.value.status == 200
    assert pdf.value.headers["content-type"] == "application/pdf"
    assert opened.value.url.startswith("blob:")  # the PDF the page fetched with the staff token, opened


def test_the_ordering_page_loads_under_100_kb_from_its_own_origin_only(web_stack, playwright_browser):
    page = new_page(playwright_browser, PHONE)
    loaded: list = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(f"{web_stack.url}/?store=demo", wait_until="networkidle")
    page.wait_for_selector("[data-product=cappuccino]")
    transferred = sum(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in loaded)
    hosts = {re.match(r"https?://([^/]+)", r.url).group(1) for r in loaded}
    page.context.close()
    assert hosts == {f"127.0.0.1:{web_stack.port}"}
    assert transferred <= 100 * 1024, f"{transferred} bytes"
    print(f"first load: {len(loaded)} requests, {transferred} bytes")


def test_english_is_one_click_away_and_the_pages_fit_a_tablet(web_stack, playwright_browser):
    page = new_page(playwright_browser, TABLET)
    open_menu(page, web_stack.url)
    screenshot(page, "ordering-menu-tablet")
    page.get_by_role("button", name="English").click()
    assert page.locator("#menu-title").inner_text() == "Menu"
    assert page.locator("[data-product=cappuccino] .vat").inner_text() == "incl. 19 % VAT"
    assert page.get_by_role("button", name="Place order and pay").is_visible()
    page.context.close()

    staff = new_page(playwright_browser, PHONE)
    sign_in_staff(staff, web_stack)
    screenshot(staff, "staff-board-phone")
    staff.context.close()


@pytest.fixture
def foreign_origin(playwright_browser, web_stack):
    """The pages served from another origin (as Firebase Hosting serves them), calling the API across
    origins: config.js points at the stack, so every call must pass CORS in a real browser. The origin
    is on 127.0.0.1 too: Chromium refuses a page it thinks public any access to loopback addresses."""
    config = (
        f'window.TRESEN_CONFIG = {{customerApi: "{web_stack.url}", staffApi: "{web_stack.url}", '
        f'exportsApi: "{web_stack.url}", firebase: null}};'
    ).encode()

    class Pages(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(WEB), **kwargs)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/config.js":
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript")
                self.send_header("Content-Length", str(len(config)))
                self.end_headers()
                self.wfile.write(config)
                return
            self.path = PAGES.get(path, path)  # clean URLs, as tresen dev and Firebase Hosting serve them
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = playwright_browser.new_context(viewport=TABLET)
    yield f"http://127.0.0.1:{server.server_port}", context.new_page()
    context.close()
    server.shutdown()


def test_the_pages_work_from_another_origin_through_cors(web_stack, foreign_origin):
    origin, page = foreign_origin
    email = unique_email()
    order_at_the_counter(page, origin, email, "espresso")
    [order] = orders_of(web_stack, email)

    page.goto(f"{origin}/staff")
    page.get_by_label("Rolle").select_option("staff")
    page.locator("#sign-in button[type=submit]").click()
    page.locator(f"[data-column=new] .ticket[data-number='{order['number']}']").get_by_role(
        "button", name="Annehmen"
    ).click()
    page.locator(f"[data-column=accepted] .ticket[data-number='{order['number']}']").wait_for()


# WCAG 2 contrast of every piece of visible text against the first opaque background behind it:
# 4.5:1, or 3:1 for large text. Disabled controls are exempt, as WCAG exempts them.
LOW_CONTRAST = """() => {
  const rgba = (color) => color.match(/[\\d.]+/g).map(Number);
  const channel = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const color = rgba(getComputedStyle(el).backgroundColor);
      if (color.length < 4 || color[3] > 0) return color;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.querySelectorAll("body *")) {
    const text = [...el.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim());
    if (!text || el.closest("[hidden], :disabled") || !el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    const [a, b] = [luminance(rgba(style.color)), luminance(behind(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(`${el.tagName} ${el.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def test_text_contrast_is_at_least_wcag_aa_on_both_pages(web_stack, phone, tablet):
    open_menu(phone, web_stack.url)
    add(phone, "croissant")
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.locator("#checkout-alert").wait_for(state="visible")  # the alert and the field errors too
    assert phone.evaluate(LOW_CONTRAST) == []
    sign_in_staff(tablet, web_stack)
    assert tablet.evaluate(LOW_CONTRAST) == []


def test_every_control_has_a_label_and_the_menu_works_from_the_keyboard(web_stack, phone, tablet):
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => !el.closest('[hidden]'))
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
        .map((el) => el.outerHTML)"""
    open_menu(phone, web_stack.url)
    assert phone.evaluate(unlabelled) == []
    phone.locator("[data-product=bagel] input[value=avocado]").focus()
    phone.keyboard.press("Space")
    phone.keyboard.press("Tab")
    assert (
        phone.evaluate("document.activeElement.getAttribute('aria-label')") == "Bagel mit Frischkäse in den Warenkorb"
    )
    phone.keyboard.press("Enter")
    assert phone.locator("#cart .cart-line").all_inner_texts() == [
        "Bagel mit Frischkäse (Mit Avocado)\n−\n1\n+\n7,00\xa0€"
    ]

    tablet.goto(f"{web_stack.url}/staff")
    assert tablet.evaluate(unlabelled) == []


def test_staff_sign_in_through_firebase_auth_in_production(web_stack, playwright_browser):
    """With `firebase` configured the board signs in by Firebase Auth's REST API and renews the ID
    token with the refresh token before it expires. Google's hosts are not reachable here: they are
    answered behind `page.route`, and the requests are checked against what the real API takes."""
    context = playwright_browser.new_context(viewport=TABLET)
    config = 'window.TRESEN_CONFIG = {customerApi: "", staffApi: "", exportsApi: "", firebase: {apiKey: "AIza-test"}};'
    context.route("**/config.js", lambda route: route.fulfill(body=config, content_type="text/javascript"))
    calls: list[tuple[str, str | None]] = []

    def firebase(route, answer: dict):
        calls.append((route.request.url, route.request.post_data))
        route.fulfill(json=answer, headers={"Access-Control-Allow-Origin": "*"})

    # a token 4 minutes from expiry: the board renews it before its first call
    signed_in = {"idToken": dev_token("staff", uid="fb-user", lifetime=240), "refreshToken": "r1", "expiresIn": "240"}
    renewed = {"id_token": dev_token("staff", uid="fb-user"), "refresh_token": "r2", "expires_in": "3600"}
    context.route("https://identitytoolkit.googleapis.com/**", lambda route: firebase(route, signed_in))
    context.route("https://securetoken.googleapis.com/**", lambda route: firebase(route, renewed))
    page = context.new_page()
    page.goto(f"{web_stack.url}/staff")
    assert page.locator("#sign-in-dev").is_hidden()
    page.get_by_label("E-Mail").fill("ada@example.com")
    page.get_by_label("Passwort").fill("correct horse")
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector("#board .column")
    assert calls == [
        (
            "https://identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=AIza-test",
            '{"email":"ada@example.com","password":"correct horse","returnSecureToken":true}',
        ),
        ("https://securetoken.googleapis.com/v1/token?key=AIza-test", "grant_type=refresh_token&refresh_token=r1"),
    ]
    assert page.locator("#who").inner_text() == "· demo · fb-user (Personal)"
    assert page.evaluate("JSON.parse(sessionStorage.getItem('tresen.staff')).refreshToken") == "r2"
    context.close()


def test_staff_void_a_line_give_a_discount_and_reject_an_unpaid_order(web_stack, phone, tablet):
    email = unique_email()
    order_at_the_counter(phone, web_stack.url, email, "espresso", "cheesecake")
    [order] = orders_of(web_stack, email)
    espresso = next(line for line in order["lines"] if line["product_id"] == "espresso")

    sign_in_staff(tablet, web_stack, role="supervisor")
    ticket(tablet, "new", order["number"]).get_by_role("button", name="Details").click()
    tablet.locator(f".line-qty[data-line='{espresso['id']}']").fill("1")
    tablet.locator("#void").click()
    tablet.locator("#detail-done").wait_for(state="visible")
    tablet.locator("#discount-percent").fill("10")
    tablet.locator("#discount-reason").fill("Stammgast")
    tablet.locator("#discount").click()
    tablet.get_by_text("Zu zahlen: 3,78\xa0€").wait_for()  # 4,20 − 10 %
    screenshot(tablet, "staff-void-discount-tablet")
    [changed] = orders_of(web_stack, email)
    assert (changed["totals"]["subtotal"], changed["totals"]["discount"], changed["amount_due"]) == (420, 42, 378)
    phone.locator("#amount-due", has_text="3,78\xa0€").wait_for()  # the customer's page follows

    tablet.locator("#reject").click()
    tablet.locator("#detail-done").wait_for(state="visible")
    assert orders_of(web_stack, email)[0]["status"] == "rejected"
    phone.wait_for_selector("#order-status[data-status=rejected]")


def test_a_gift_card_is_sold_checked_and_redeemed_at_the_counter(web_stack, tablet):
    sign_in_staff(tablet, web_stack, role="staff")
    tablet.get_by_role("tab", name="Gutscheine").click()
    tablet.locator("#sell-amount").fill("15,00")
    tablet.get_by_role("button", name="Verkaufen").click()
    code = tablet.locator("#sold-code").get_attribute("data-code")
    tablet.get_by_label("Gutscheincode").fill(code)
    tablet.locator("#redeem-amount").fill("5,50")
    tablet.get_by_role("button", name="Einlösen").click()
    tablet.get_by_text("Eingelöst: 5,50\xa0€. Neues Guthaben: 9,50\xa0€.").wait_for()
    tablet.locator("#redeem-amount").fill("10")
    tablet.get_by_role("button", name="Einlösen").click()
    alert = tablet.locator("#card-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text() == "Gift card balance too low The card has 950 cents, not 1000."
    card = staff_get(web_stack, f"/v1/giftcards/{code}")
    assert (card["balance"], card["status"]) == (950, "active")


DELIVERY_STORE = {
    "store": {
        "id": "lieferung-test",
        "name": "Suppenküche Lieferdienst",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "invoice_series": "SK",
        "payment_methods": ["on_site"],
        "online_providers": [],
        "fulfilment_types": ["delivery"],
        "address": ["Gartenstraße 3", "60594 Frankfurt am Main"],
    },
    "products": [{"id": "soup", "name": "Linsensuppe", "price": 650, "vat_rate": "7", "available": True}],
}


def test_a_delivery_asks_for_the_address_beside_its_field(web_stack, phone, tmp_path):
    store_file = tmp_path / "store.json"
    store_file.write_text(json.dumps(DELIVERY_STORE))
    subprocess.run([str(TRESEN), "store", str(store_file)], env=web_stack.cli_env, check=True, capture_output=True)
    phone.goto(f"{web_stack.url}/?store=lieferung-test")
    phone.wait_for_selector("[data-product=soup]")
    assert phone.locator("input[name=fulfilment]").evaluate_all("inputs => inputs.map((i) => i.value)") == ["delivery"]
    assert phone.locator("input[name=payment]").evaluate_all("inputs => inputs.map((i) => i.value)") == ["on_site"]
    add(phone, "soup")
    fill_customer(phone, unique_email())
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.locator("#address + .field-error").wait_for()
    assert phone.locator(".field-error").all_inner_texts() == ["Bitte die Lieferadresse angeben."]

    phone.get_by_label("Lieferadresse").fill("Schweizer Straße 12, 60594 Frankfurt")
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.wait_for_selector("#order-status[data-status=placed]")
    assert phone.locator("#fulfilment-summary").inner_text() == "Lieferung an: Schweizer Straße 12, 60594 Frankfurt"
    assert re.fullmatch(r"SK-\d{4}-000001", phone.locator("#invoice-number").inner_text())


def test_a_declined_payment_is_shown_and_paid_again(web_stack, phone):
    open_menu(phone, web_stack.url)
    add(phone, "espresso")
    fill_customer(phone, unique_email())
    phone.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    phone.get_by_role("button", name="Fail").click()
    phone.get_by_role("link", name="Back to the shop").click()
    declined = phone.get_by_text("Zahlung fehlgeschlagen: The sandbox card was declined.")
    declined.wait_for()
    assert phone.locator("#order-status").get_attribute("data-status") == "awaiting_payment"
    screenshot(phone, "order-declined-phone")
    phone.get_by_role("link", name="Erneut bezahlen").click()
    phone.get_by_role("button", name="Pay").click()
    phone.wait_for_selector("#order-status[data-status=paid]")
    assert declined.count() == 0


def test_finance_downloads_the_three_exports_and_each_role_sees_what_it_may_do(web_stack, tablet):
    sign_in_staff(tablet, web_stack, role="finance")
    tablet.get_by_role("tab", name="Tagesabschluss").click()
    assert tablet.locator("#close-form").is_hidden()
    with tablet.expect_download() as download:
        tablet.get_by_role("button", name="DATEV-Buchungsstapel").click()
    assert re.fullmatch(r"EXTF_Buchungsstapel_demo_(\d{8})_\1\.csv", download.value.suggested_filename)
    assert Path(download.value.path()).read_bytes().startswith(b'"EXTF";700;21;')
    for button in ("DSFinV-K", "GoBD (Z3)"):
        with tablet.expect_download() as download:
            tablet.get_by_role("button", name=button).click()
        with zipfile.ZipFile(download.value.path()) as archive:
            assert "index.xml" in archive.namelist()
    screenshot(tablet, "staff-exports-tablet")

    visible = {"staff": [], "supervisor": ["close-form"], "owner": ["close-form", "export-form"]}
    for role, forms in visible.items():
        tablet.get_by_role("button", name="Abmelden").click()
        sign_in_staff(tablet, web_stack, role=role)
        shown = [
            form for form in ("close-form", "export-form") if tablet.locator(f"#{form}").get_attribute("hidden") is None
        ]
        assert (role, shown) == (role, forms)
        assert tablet.get_by_role("tab", name="Tagesabschluss").is_visible() == (role != "staff")


def test_no_connection_at_all_is_said_and_pressing_again_repeats_the_same_attempt(web_stack, phone):
    email = unique_email()
    posts = order_posts(phone)
    phone.route("**/v1/stores/demo/orders", lambda route: route.abort("internetdisconnected"))
    ready_to_pay_at_the_counter(phone, web_stack.url, email, "espresso")
    pay = phone.get_by_role("button", name="Zahlungspflichtig bestellen")
    pay.click()
    alert = phone.locator("#checkout-alert")
    alert.wait_for(state="visible")  # after the first try and four retries, about 7 s
    assert alert.inner_text() == "Keine Verbindung. Bitte erneut versuchen – es wird nichts doppelt bestellt."
    assert orders_of(web_stack, email) == []

    phone.unroute("**/v1/stores/demo/orders")
    pay.click()
    phone.wait_for_selector("#order-status[data-status=placed]")
    assert len(posts) == 6 and set(posts) == {posts[0]}
    assert len(orders_of(web_stack, email)) == 1


def test_an_unknown_store_is_said_in_words(web_stack, phone):
    phone.goto(f"{web_stack.url}/?store=no-such-shop")
    alert = phone.locator("#page-alert")
    alert.wait_for(state="visible")
    assert alert.inner_text() == "Dieses Geschäft gibt es nicht."
    assert phone.locator("#menu-view").is_hidden()
