"""Licence billing against a running `tresen dev`, with Stripe and PayPal played by their local stand-ins
(which sign their webhooks as the real ones do) and mail caught by the dev SMTP sink: invoices issued
once and gap-free, paid by card and by PayPal when the webhook arrives, a saved card charged by the next
run, a declined one mailed and retried, and `tresen verify` checking the platform's journal."""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from stack import RunningStack
from support import staff_token
from tresen.adapters.identity import unsigned_dev_token

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": "Bearer " + unsigned_dev_token(uid="platform-admin", stores={}, platform="admin")}
DECEMBER = "2026-12-01"


@pytest.fixture(scope="module")
def stack():
    with RunningStack(env={"STRIPE_API_KEY": "sk_test_billing"}) as running:
        yield running


def open_store(stack, plan: str = "business") -> tuple[str, str, dict]:
    """A new store: its id, its owner's address, the owner's headers."""
    store_id = f"cafe-{uuid.uuid4().hex[:8]}"
    email = f"owner-{store_id}@example.de"
    body = {
        "store_id": store_id,
        "name": "Café Nord",
        "address": {"street": "Nordstraße 5", "postal_code": "20095", "city": "Hamburg"},
        "vat_id": "DE123456789",
        "owner_email": email,
        "plan": plan,
    }
    made = requests.post(f"{stack.url}/v1/platform/stores", json=body, headers=ADMIN, timeout=30)
    assert made.status_code == 201, made.text
    return store_id, email, {"Authorization": f"Bearer {staff_token({store_id: 'owner'}, uid=f'owner-{store_id}')}"}


def run_job(stack, on: str) -> dict:
    """The day's licence run, as a run of its own: the tests share a stack, and each opens stores of
    its own after the others' runs of the same day are done."""
    run = f"{on}-{uuid.uuid4().hex[:12]}"
    done = requests.post(f"{stack.url}/v1/jobs/licence-invoices", params={"on": on, "run": run}, timeout=60)
    assert done.status_code == 200, done.text
    return done.json()


def billing(stack, store_id: str, owner: dict) -> dict:
    read = requests.get(f"{stack.url}/v1/stores/{store_id}/billing", headers=owner, timeout=30)
    assert read.status_code == 200, read.text
    return read.json()


def eventually(check, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def mails_to(stack, email: str) -> list[dict]:
    listed = requests.get(f"{stack.url}/v1/dev/mail", timeout=10).json()["data"]
    return [mail for mail in listed if mail["to"] == email]


def pay(stack, store_id: str, owner: dict, invoice_id: str, method: str) -> str:
    started = requests.post(
        f"{stack.url}/v1/stores/{store_id}/billing/invoices/{invoice_id}/pay",
        json={"method": method},
        headers=owner,
        timeout=30,
    )
    assert started.status_code == 201, started.text
    return started.json()["checkout_url"]


def paid(stack, store_id: str, owner: dict) -> list[str]:
    return [invoice["status"] for invoice in billing(stack, store_id, owner)["invoices"]]


def test_invoices_are_issued_once_gap_free_mailed_and_downloadable(stack):
    north, north_email, north_owner = open_store(stack, "business")
    south, _, south_owner = open_store(stack, "enterprise")

    first = run_job(stack, DECEMBER)
    again = run_job(stack, DECEMBER)

    assert again["issued"] == [] and first["period"] == "2026-11"
    assert (first["done"], first["busy"], first["run"]["counts"]["issued"]) == (True, False, len(first["issued"]))
    assert first["run"]["id"].startswith(f"licence-invoices:{DECEMBER}-") and first["handled"] >= 2
    numbers = sorted(int(number.rsplit("-", 1)[1]) for number in first["issued"])
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # gap-free
    [invoice] = billing(stack, north, north_owner)["invoices"]
    assert (invoice["gross"], invoice["status"], invoice["period"], invoice["due_date"]) == (
        9401,
        "open",
        "2026-11",
        "2026-12-15",
    )
    document = requests.get(
        f"{stack.url}/v1/stores/{north}/billing/invoices/{invoice['id']}.pdf", headers=north_owner, timeout=30
    )
    assert document.headers["Content-Type"] == "application/pdf" and document.content.startswith(b"%PDF")
    mail = eventually(lambda: [m for m in mails_to(stack, north_email) if m["subject"].startswith("Rechnung")])
    assert mail, stack.output_tail()
    [attachment] = mail[0]["attachments"]
    assert (attachment["filename"], attachment["size"]) == (f"{invoice['number']}.pdf", len(document.content))
    [south_invoice] = billing(stack, south, south_owner)["invoices"]
    assert south_invoice["gross"] == 29631
    hidden = requests.get(
        f"{stack.url}/v1/stores/{north}/billing/invoices/{south_invoice['id']}.pdf", headers=north_owner, timeout=30
    )
    assert hidden.status_code == 404


def test_an_invoice_paid_by_card_reads_paid_once_stripes_webhook_arrives(stack):
    store_id, _, owner = open_store(stack)
    run_job(stack, DECEMBER)
    [invoice] = billing(stack, store_id, owner)["invoices"]

    checkout = pay(stack, store_id, owner, invoice["id"], "card")
    assert pay(stack, store_id, owner, invoice["id"], "card") == checkout  # the open one, not a second
    session_id = urlsplit(checkout).path.rsplit("/", 1)[1]
    settled = requests.post(f"{stack.stripe_url}/_standin/checkout/{session_id}/pay", json={}, timeout=10)
    assert settled.status_code in (200, 303), settled.text

    assert eventually(lambda: paid(stack, store_id, owner) == ["paid"]), stack.output_tail()
    again = requests.post(
        f"{stack.url}/v1/stores/{store_id}/billing/invoices/{invoice['id']}/pay",
        json={"method": "paypal"},
        headers=owner,
        timeout=30,
    )
    assert (again.status_code, again.json()["code"]) == (409, "invoice_paid")


def test_an_invoice_paid_by_paypal_reads_paid_once_the_capture_completes(stack):
    store_id, _, owner = open_store(stack)
    run_job(stack, DECEMBER)
    [invoice] = billing(stack, store_id, owner)["invoices"]

    approve = pay(stack, store_id, owner, invoice["id"], "paypal")
    order_id = parse_qs(urlsplit(approve).query)["token"][0]
    base = f"{urlsplit(approve).scheme}://{urlsplit(approve).netloc}"
    approved = requests.post(f"{base}/_standin/orders/{order_id}/approve", timeout=10)
    assert approved.status_code in (200, 303), approved.text

    # PayPal says approved → Tresen captures → PayPal says the capture completed → paid
    assert eventually(lambda: paid(stack, store_id, owner) == ["paid"]), stack.output_tail()


def test_a_saved_card_is_charged_by_the_next_run(stack):
    store_id, _, owner = open_store(stack)
    setup = requests.post(f"{stack.url}/v1/stores/{store_id}/billing/payment-method", headers=owner, timeout=30)
    assert setup.status_code == 201, setup.text
    session_id = urlsplit(setup.json()["checkout_url"]).path.rsplit("/", 1)[1]
    saved = requests.post(
        f"{stack.stripe_url}/_standin/checkout/{session_id}/setup", json={"card_number": "4242424242424242"}, timeout=10
    )
    assert saved.status_code in (200, 303), saved.text
    card = eventually(lambda: billing(stack, store_id, owner)["card_on_file"])
    assert card == {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034}

    ran = run_job(stack, "2027-01-01")

    [invoice] = billing(stack, store_id, owner)["invoices"]
    assert (invoice["number"] in ran["paid"], invoice["status"]) == (True, "paid")


def test_a_declined_card_leaves_the_invoice_open_mails_the_owner_and_is_retried(stack):
    store_id, email, owner = open_store(stack)
    setup = requests.post(f"{stack.url}/v1/stores/{store_id}/billing/payment-method", headers=owner, timeout=30)
    session_id = urlsplit(setup.json()["checkout_url"]).path.rsplit("/", 1)[1]
    requests.post(
        f"{stack.stripe_url}/_standin/checkout/{session_id}/setup", json={"card_number": "4000000000000341"}, timeout=10
    )
    assert eventually(lambda: billing(stack, store_id, owner)["card_on_file"])

    first = run_job(stack, "2027-02-01")
    [invoice] = billing(stack, store_id, owner)["invoices"]
    assert invoice["number"] in first["failed"] and invoice["status"] == "open"
    dunning = eventually(
        lambda: [m for m in mails_to(stack, email) if m["subject"].startswith("Zahlung fehlgeschlagen")]
    )
    assert dunning and f"invoice={invoice['id']}" in dunning[0]["text"]
    assert invoice["number"] not in run_job(stack, "2027-02-02")["failed"]  # not before day 3
    assert invoice["number"] in run_job(stack, "2027-02-04")["failed"]
    orders = requests.get(f"{stack.url}/v1/stores/{store_id}/menu", timeout=10)
    assert orders.status_code == 200  # billing never stops the store


def test_tresen_verify_checks_the_platforms_journal(stack, tmp_path):
    from test_customer_erasure import run

    from stack import ROOT

    open_store(stack)
    run_job(stack, DECEMBER)
    signed = requests.post(f"{stack.url}/v1/jobs/checkpoints?run={uuid.uuid4().hex}", timeout=60)
    assert signed.status_code == 200, signed.text
    done = run(["verify", "--store", "platform", "--json"], stack.cli_env | {"HOME": str(tmp_path)}, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    [verdict] = json.loads(done.stdout)["stores"]
    assert (verdict["store_id"], verdict["ok"], verdict["problem"]) == ("platform", True, None)
    assert verdict["entries"] >= 2 and verdict["checkpoints"] >= 1  # subscriptions and invoices, signed


def test_tresen_licence_invoices_walks_the_days_run_to_its_end(stack, tmp_path):
    from test_customer_erasure import run

    from stack import ROOT

    store_id, _, owner = open_store(stack)
    env = stack.cli_env | {"HOME": str(tmp_path)}
    first = run(["licence-invoices", "--on", "2027-06-01"], env, ROOT)
    again = run(["licence-invoices", "--on", "2027-06-01"], env, ROOT)
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.startswith("licence invoices for 2027-05: ") and "the day's run done" in first.stdout
    assert again.stdout.startswith("licence invoices for 2027-05: 0 issued, 0 paid by saved card")
    [invoice] = [found for found in billing(stack, store_id, owner)["invoices"] if found["period"] == "2027-05"]
    assert f"  issued {invoice['number']}" in first.stdout.splitlines()
