"""Live updates in headless Chromium: the staff board and the order page follow their streams, and the
driver's page sends where the phone is (Playwright's geolocation), queued while offline.

These tests run a `tresen dev` of their own whose streams last 15 s (TRESEN_LIVE_SECONDS), so every
test sees streams end and resume, and which counts every document read (TRESEN_COUNT_READS): the
idle board's cost is measured there. Each wait for something live is bounded by the 2 s promised.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest
import requests
from test_accessibility import Axe
from test_web_pages import add, fill_customer, sign_in_staff, ticket, unique_email

from conftest import PHONE, TABLET, screenshot, watched
from stack import TRESEN, RunningStack

PROMISED_MS = 2000
LIFETIME_S = 15
PRODUCTION_LIFETIME_S = 300  # http/live_routes.py STREAM_SECONDS
# A reconnect every 15 s from the first stream on; the idle window ends 7 s away from one, so it holds
# exactly three, whole.
IDLE_S = 52
STORE = "tour-live"
DELIVERY_STORE = {
    "store": {
        "id": STORE,
        "name": "Suppenküche Lieferdienst",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "invoice_series": "TL",
        "payment_methods": ["on_site"],
        "online_providers": [],
        "fulfilment_types": ["delivery"],
        "address": ["Gartenstraße 3", "60594 Frankfurt am Main"],
    },
    "products": [{"id": "soup", "name": "Linsensuppe", "price": 650, "vat_rate": "7", "available": True}],
}
RÖMER = {"lat": 50.1106, "lng": 8.6821}
# the driver's way, a few hundred metres each, north of the Römer
WAY = [(50.1180, 8.6821), (50.1160, 8.6830), (50.1140, 8.6840), (50.1125, 8.6830), (50.1110, 8.6825)]


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory):
    with RunningStack(env={"TRESEN_LIVE_SECONDS": str(LIFETIME_S), "TRESEN_COUNT_READS": "1"}) as stack:
        store_file = tmp_path_factory.mktemp("store") / "store.json"
        store_file.write_text(json.dumps(DELIVERY_STORE))
        subprocess.run([str(TRESEN), "store", str(store_file)], env=stack.cli_env, check=True, capture_output=True)
        yield stack


def page_of(browser, size: dict, **options):
    context = browser.new_context(viewport=size, locale="de-DE", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    return page, watched(page)


@pytest.fixture
def pages(playwright_browser):
    """Pages of their own context each; any fault inside one fails the test."""
    opened = []

    def open_page(size: dict, **options):
        page, faults = page_of(playwright_browser, size, **options)
        opened.append((page, faults))
        return page

    yield open_page
    for page, faults in opened:
        page.context.close()
        assert faults == []


def as_role(role: str, store: str = "demo", uid: str = "browser-test") -> dict[str, str]:
    from tresen.adapters.identity import unsigned_dev_token

    return {"Authorization": f"Bearer {unsigned_dev_token(uid=uid, stores={store: role}, lifetime=3600)}"}


def api(stack, method: str, path: str, headers: dict, **options) -> dict:
    answer = requests.request(method, f"{stack.url}{path}", headers=headers, timeout=10, **options)
    assert answer.ok, answer.text
    return answer.json()


def place(stack, store: str = "demo", fulfilment: dict | None = None) -> dict:
    body = {
        "items": [{"product_id": "soup" if store == STORE else "espresso", "quantity": 1}],
        "fulfilment": fulfilment or {"type": "pickup"},
        "customer": {"name": "Ada Gast", "email": unique_email(), "phone": "+4917112345678"},
        "payment": {"method": "on_site"},
    }
    return api(stack, "POST", f"/v1/stores/{store}/orders", {"Idempotency-Key": str(uuid.uuid4())}, json=body)


def planned_tour(stack, driver_uid: str, order_id: str | None = None) -> tuple[dict, dict]:
    """A delivery order (a new one, unless named) accepted and planned on a tour of its own driver, to the Römer."""
    order = None
    if order_id is None:
        order = place(stack, STORE, {"type": "delivery", "address": "Römerberg 1, 60311 Frankfurt"})
        order_id = order["id"]
    staff = as_role("staff", STORE)
    api(stack, "POST", f"/v1/stores/{STORE}/orders/{order_id}/status", staff, json={"status": "accepted"})
    body = {
        "driver_uid": driver_uid,
        "driver_name": "Max Fahrer",
        "order_ids": [order_id],
        "destinations": {order_id: RÖMER},
    }
    return order, api(stack, "POST", f"/v1/stores/{STORE}/tours", staff, json=body)


def driver(uid: str) -> dict[str, str]:
    """Each test has drivers of its own: a driver's page lists every tour of theirs not finished."""
    return as_role("driver", STORE, uid)


def reads(stack) -> dict[str, int]:
    return api(stack, "GET", "/v1/dev/reads", {})


# ---- the staff board ------------------------------------------------------------------------------


def test_the_staff_board_shows_a_new_order_within_two_seconds_without_a_reload(live_stack, pages):
    board = pages(TABLET)
    sign_in_staff(board, live_stack, role="staff")
    board.locator("#live-status[data-state=live]").wait_for()
    assert board.locator("#live-status").inner_text() == "Live"
    board.evaluate("window.sameDocument = true")  # gone if the page reloaded

    placed = place(live_stack)
    ticket(board, "new", placed["number"]).wait_for(timeout=PROMISED_MS)
    api(
        live_stack,
        "POST",
        f"/v1/stores/demo/orders/{placed['id']}/status",
        as_role("staff"),
        json={"status": "accepted"},
    )
    ticket(board, "accepted", placed["number"]).wait_for(timeout=PROMISED_MS)
    assert ticket(board, "new", placed["number"]).count() == 0

    time.sleep(LIFETIME_S + 1)  # the stream ends and the next resumes where it stopped
    later = place(live_stack)
    ticket(board, "new", later["number"]).wait_for(timeout=PROMISED_MS)
    assert board.evaluate("window.sameDocument") is True
    screenshot(board, "live-board-tablet")


def test_the_board_says_when_it_lost_its_stream_and_catches_up_once_back(live_stack, pages):
    board = pages(TABLET)
    sign_in_staff(board, live_stack, role="staff")
    board.locator("#live-status[data-state=live]").wait_for()
    board.context.set_offline(True)
    status = board.locator("#live-status[data-state=down]")
    status.wait_for(timeout=(LIFETIME_S + 5) * 1000)  # noticed at the latest when the stream ends
    assert status.inner_text() == "Verbindung unterbrochen – verbinde neu …"
    screenshot(board, "live-board-reconnecting-tablet")
    missed = place(live_stack)
    board.context.set_offline(False)
    board.locator("#live-status[data-state=live]").wait_for(timeout=40_000)  # the back-off grows to 30 s
    ticket(board, "new", missed["number"]).wait_for(timeout=PROMISED_MS)


def test_an_idle_board_reads_at_most_120_documents_an_hour(live_stack, pages):
    board = pages(TABLET)
    columns = []
    board.on("response", lambda response: "/orders?status=" in response.url and columns.append(response.status))
    before = reads(live_stack)
    sign_in_staff(board, live_stack, role="staff")
    board.locator("#live-status[data-state=live]").wait_for()
    wait_for(board, lambda: columns == [200] * 5)  # the board read its five columns once, as it became live
    filled = reads(live_stack)
    board.wait_for_timeout(IDLE_S * 1000)
    idle = reads(live_stack)
    assert board.locator("#live-status").get_attribute("data-state") == "live"

    def total(counts):
        return counts["documents"] + counts["listener_reads"]

    streams = idle["listeners"] - filled["listeners"]
    per_stream = (total(idle) - total(filled)) / streams
    start_up = total(filled) - total(before)  # sign-in, the five columns, the first stream
    per_hour = start_up + per_stream * 3600 / PRODUCTION_LIFETIME_S
    print(f"idle board: {start_up} reads to start, {per_stream:g} per stream, {per_hour:g} in its first hour")
    assert streams == 3  # each stream ended after its lifetime and the next one opened
    # each reconnect: the staff member's roles (one document) and the listener's query that finds nothing
    assert per_stream == 2
    assert per_hour <= 120


# ---- the order page and the driver --------------------------------------------------------------


def order_page(browser_page, stack, email: str):
    """The order placed on the page (its token stays there), to the Römer."""
    browser_page.goto(f"{stack.url}/?store={STORE}")
    browser_page.wait_for_selector("[data-product=soup]")
    add(browser_page, "soup")
    fill_customer(browser_page, email)
    browser_page.get_by_label("Lieferadresse").fill("Römerberg 1, 60311 Frankfurt")
    browser_page.get_by_role("button", name="Zahlungspflichtig bestellen").click()
    browser_page.wait_for_selector("#order-status[data-status=placed]")
    return browser_page.url.rsplit("#order=", 1)[1]


def send_position(stack, tour_id: str, uid: str, seq: int, lat: float, lng: float) -> None:
    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    position = {"lat": lat, "lng": lng, "accuracy": 8, "at": at, "seq": seq}
    api(stack, "POST", f"/v1/stores/{STORE}/tours/{tour_id}/positions", driver(uid), json={"positions": [position]})


def test_the_order_page_shows_the_driver_moving_within_two_seconds_and_nothing_after_delivery(live_stack, pages):
    customer = pages(PHONE)
    order_id = order_page(customer, live_stack, unique_email())
    _, tour = planned_tour(live_stack, "driver-order-page", order_id)
    assert customer.locator("#delivery").is_hidden()  # nothing before it is on its way

    api(live_stack, "POST", f"/v1/stores/{STORE}/tours/{tour['id']}/start", driver("driver-order-page"))
    customer.locator("#order-status[data-status=out_for_delivery]").wait_for(timeout=PROMISED_MS)
    customer.locator("#delivery-driver").wait_for(timeout=PROMISED_MS)
    assert customer.locator("#delivery-driver").inner_text() == "Max bringt Ihre Bestellung."

    for seq, (lat, lng) in enumerate(WAY[:3], start=1):
        send_position(live_stack, tour["id"], "driver-order-page", seq, lat, lng)
        position = customer.locator("#delivery-position", has_text=f"Position: {lat:.5f}, {lng:.5f}")
        position.wait_for(timeout=PROMISED_MS)
    assert customer.locator("#delivery-eta").inner_text() == "Ankunft in etwa 2 min"  # 0.38 km at 20 km/h
    assert customer.locator("#delivery-age").inner_text().startswith("Stand: vor ")
    assert customer.locator("svg.trail circle").count() == 1
    screenshot(customer, "order-delivery-phone")

    api(
        live_stack,
        "POST",
        f"/v1/stores/{STORE}/tours/{tour['id']}/orders/{order_id}/delivered",
        driver("driver-order-page"),
    )
    customer.locator("#order-status[data-status=delivered]").wait_for(timeout=PROMISED_MS)
    assert customer.locator("#delivery").is_hidden()  # nor after
    assert customer.locator("#delivery").inner_text() == ""


def latest_seq(stack, tour: dict) -> int | None:
    tour = api(stack, "GET", f"/v1/stores/{STORE}/tours/{tour['id']}", driver(tour["driver_uid"]))
    return tour["latest_position"]["seq"] if tour["latest_position"] else None


def wait_for(page, check, timeout_s: float = 15):
    """Until `check()` is truthy (its value), or fail after `timeout_s`. It waits in the page, so the
    page's events (its requests and answers) reach the test meanwhile."""
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        assert time.monotonic() < deadline, "still not so"
        page.wait_for_timeout(200)
    return value


def open_driver_page(page, stack, uid: str):
    page.goto(f"{stack.url}/driver")
    page.get_by_label("Benutzer-ID").fill(uid)
    page.get_by_label("Geschäft").fill(STORE)
    page.get_by_role("button", name="Anmelden").click()
    page.locator("#tours .tour, #no-tours").first.wait_for()


def positions_recorded(stack, tour_id: str, monkeypatch) -> list[dict]:
    """The tour's history of positions as the stack's Firestore holds it, by seq."""
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{stack.firestore_port}")
    found = firestore.Client(project="demo-tresen").collection(f"tours/{tour_id}/positions").get()
    return sorted((doc.to_dict() for doc in found), key=lambda position: position["seq"])


def test_the_driver_page_sends_positions_as_it_moves_and_its_offline_backlog_once_back(live_stack, pages, monkeypatch):
    order, tour = planned_tour(live_stack, "driver-moving")
    phone = pages(PHONE, permissions=["geolocation"], geolocation={"latitude": WAY[0][0], "longitude": WAY[0][1]})
    open_driver_page(phone, live_stack, "driver-moving")
    screenshot(phone, "driver-tours-phone")
    phone.locator(f"[data-tour='{tour['id']}'] button").click()
    phone.get_by_role("button", name="Tour starten").click()
    wait_for(phone, lambda: latest_seq(live_stack, tour) == 1)
    assert phone.locator("#sending").inner_text() == "Standort wird gesendet."

    phone.context.set_geolocation({"latitude": WAY[1][0], "longitude": WAY[1][1]})  # 230 m on: sent after 5 s
    wait_for(phone, lambda: latest_seq(live_stack, tour) == 2)
    screenshot(phone, "driver-on-tour-phone")

    phone.context.set_offline(True)
    for queued, (lat, lng) in enumerate(WAY[2:4], start=1):
        phone.context.set_geolocation({"latitude": lat, "longitude": lng})
        offline = f"Offline – {queued} Positionen warten und werden gesendet, sobald wieder Netz da ist."
        phone.locator("#sending", has_text=offline).wait_for()
    screenshot(phone, "driver-offline-phone")
    assert latest_seq(live_stack, tour) == 2
    phone.context.set_offline(False)
    wait_for(phone, lambda: latest_seq(live_stack, tour) == 4)
    history = positions_recorded(live_stack, tour["id"], monkeypatch)
    assert [(p["seq"], p["lat"], p["lng"]) for p in history] == [(seq, *at) for seq, at in enumerate(WAY[:4], start=1)]
    arrivals = [p["received_at"] for p in history]
    assert arrivals[0] < arrivals[1] < arrivals[2] == arrivals[3]  # the backlog came in one call
    tracking = api(live_stack, "GET", f"/v1/orders/{order['id']}/tracking", {"X-Order-Token": order["access_token"]})
    assert (tracking["position"]["lat"], tracking["position"]["lng"]) == WAY[3]

    phone.get_by_role("button", name=f"Zugestellt: #{order['number']}").click()
    phone.get_by_role("button", name="Alles zugestellt – Tour beenden").click()
    phone.locator("#no-tours").wait_for()  # the driver's only tour is over
    assert (
        api(live_stack, "GET", f"/v1/orders/{order['id']}", {"X-Order-Token": order["access_token"]})["status"]
        == "delivered"
    )
    assert phone.evaluate(f"localStorage.getItem('tresen.driver.trip.{tour['id']}')") is None


def test_the_driver_page_says_when_location_permission_is_missing(live_stack, pages):
    _, tour = planned_tour(live_stack, "driver-denied")
    phone = pages(PHONE)  # no permission granted: the browser refuses the location
    open_driver_page(phone, live_stack, "driver-denied")
    phone.locator(f"[data-tour='{tour['id']}'] button").click()
    phone.get_by_role("button", name="Tour starten").click()
    alert = phone.locator("#location-alert")
    alert.wait_for()
    assert alert.inner_text().startswith("Standortfreigabe fehlt: Bitte erlauben Sie dieser Seite den Standort")
    assert phone.locator("#sending").inner_text() == "Standortfreigabe fehlt – es werden keine Positionen gesendet."
    screenshot(phone, "driver-no-permission-phone")


def test_the_driver_page_says_when_positions_stop(live_stack, pages):
    _, tour = planned_tour(live_stack, "driver-standing")
    phone = pages(PHONE, permissions=["geolocation"], geolocation={"latitude": WAY[0][0], "longitude": WAY[0][1]})
    phone.clock.install()
    open_driver_page(phone, live_stack, "driver-standing")
    phone.locator(f"[data-tour='{tour['id']}'] button").click()
    phone.get_by_role("button", name="Tour starten").click()
    phone.locator("#sending", has_text="Standort wird gesendet.").wait_for()
    phone.clock.run_for(31_000)  # the phone stands still and its GPS says nothing more
    stale = phone.locator("#sending").inner_text()
    assert stale.startswith("Keine Positionen seit ") and stale.endswith(" – GPS/Empfang prüfen.")
    screenshot(phone, "driver-positions-stopped-phone")


# ---- accessibility --------------------------------------------------------------------------------


def test_the_driver_page_and_the_delivery_box_pass_axe(live_stack, playwright_browser, axe):
    audit = Axe(axe)
    order, tour = planned_tour(live_stack, "driver-axe")
    geolocated = {"permissions": ["geolocation"], "geolocation": {"latitude": WAY[0][0], "longitude": WAY[0][1]}}
    phone, faults = page_of(playwright_browser, PHONE, bypass_csp=True, **geolocated)
    phone.goto(f"{live_stack.url}/driver")
    phone.locator("#sign-in").wait_for()
    audit.check(phone, "driver: sign-in")
    open_driver_page(phone, live_stack, "driver-axe")
    audit.check(phone, "driver: tours")
    phone.locator(f"[data-tour='{tour['id']}'] button").click()
    phone.get_by_role("button", name="Tour starten").wait_for()
    audit.check(phone, "driver: a planned tour")
    phone.get_by_role("button", name="Tour starten").click()
    phone.locator("#sending", has_text="Standort wird gesendet.").wait_for()
    audit.check(phone, "driver: on the way, sending")
    phone.context.set_offline(True)
    phone.context.set_geolocation({"latitude": WAY[1][0], "longitude": WAY[1][1]})
    phone.locator("#sending", has_text="Offline").wait_for()
    audit.check(phone, "driver: offline with positions waiting")
    phone.context.set_offline(False)
    wait_for(phone, lambda: latest_seq(live_stack, tour) == 2)

    denied, denied_faults = page_of(playwright_browser, PHONE, bypass_csp=True)
    _, other = planned_tour(live_stack, "driver-axe-denied")
    open_driver_page(denied, live_stack, "driver-axe-denied")
    denied.locator(f"[data-tour='{other['id']}'] button").click()
    denied.get_by_role("button", name="Tour starten").click()
    denied.locator("#location-alert").wait_for()
    audit.check(denied, "driver: location permission missing")

    customer, customer_faults = page_of(playwright_browser, PHONE, bypass_csp=True)
    customer.goto(f"{live_stack.url}/?store={STORE}")
    customer.evaluate(f"localStorage.setItem('tresen.order.{order['id']}', '{order['access_token']}')")
    customer.goto(f"{live_stack.url}/?store={STORE}#order={order['id']}")
    customer.locator("#delivery-position").wait_for()
    audit.check(customer, "order page: the delivery box")
    for page in (phone, denied, customer):
        page.context.close()
    assert faults == denied_faults == customer_faults == []
    audit.assert_none()
