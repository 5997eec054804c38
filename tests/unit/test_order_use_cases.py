"""The order use cases around the money ones, on the in-memory backend: a provider's signed webhook
from its bytes to its effect, the expiry job, the passkey's count, the staff's pages of orders, the
customer's view of an order, and the sandbox checkout. (The passkey's lock after five wrong ones:
tests/integration/test_passkeys.py, across two instances.)"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from test_use_cases import CART, STAFF, STORE, journal, order

from support import SANDBOX_SECRET
from tresen.adapters import clock, sandbox_sender
from tresen.domain.errors import DomainError
from tresen.domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from tresen.domain.signatures import sign
from tresen.services.order_views import list_orders, order_for_customer
from tresen.services.orders import PlaceOrder, place_order
from tresen.services.passkeys import SetPasskey, approve, set_passkey
from tresen.services.payments import ExpireOrders, expire_orders
from tresen.services.sandbox_checkout import DECLINED, PressCheckoutButton, press_checkout_button
from tresen.services.webhooks import ReceiveWebhook, receive_webhook, unprocessable_events


def webhook(body: dict | bytes, secret: str = SANDBOX_SECRET, provider: str = "sandbox") -> ReceiveWebhook:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ReceiveWebhook(provider, {"Sandbox-Signature": sign(raw, secret, int(time.time()))}, raw)


def succeeded(placed, event_id: str = "evt_paid") -> dict:
    data = {"payment_id": placed.payment.id, "amount": placed.amount_due, "currency": "EUR"}
    return {"id": event_id, "type": "payment.succeeded", "created": int(time.time()), "data": data}


def test_a_signed_webhook_pays_the_order_once(backend):
    placed = order(backend, "online")
    first = receive_webhook(webhook(succeeded(placed)), backend)
    replay = receive_webhook(webhook(succeeded(placed)), backend)
    assert (first.duplicate, replay.duplicate) == (False, True)
    assert journal(backend) == ["order.placed", "order.paid"]


def test_a_repeated_delivery_is_answered_from_one_read_and_commits_nothing(backend, monkeypatch):
    placed = order(backend, "online")
    receive_webhook(webhook(succeeded(placed)), backend)
    reads, commits = [], []
    get, get_all = backend.docs.get, backend.docs.get_all
    monkeypatch.setattr(backend.docs, "get_all", lambda paths: reads.append(paths) or get_all(paths))
    monkeypatch.setattr(backend.docs, "get", lambda path: reads.append(path) or get(path))
    monkeypatch.setattr(backend.docs, "batch", lambda: commits.append(1))
    assert receive_webhook(webhook(succeeded(placed)), backend).duplicate is True
    read_together = [f"payments/{placed.payment.id}", "webhook_events/sandbox:evt_paid"]
    assert (reads, commits) == ([read_together, *read_together], [])  # (the memory store reads each)


@pytest.mark.parametrize(
    ("provider", "secret", "code"),
    [("sandbox", "whsec_someone_else", "invalid_signature"), ("paypal", SANDBOX_SECRET, "not_found")],
)
def test_a_webhook_not_signed_by_a_provider_taken_here_changes_nothing(backend, provider, secret, code):
    placed = order(backend, "online")
    with pytest.raises(DomainError) as refused:
        receive_webhook(webhook(succeeded(placed), secret, provider), backend)
    assert refused.value.code == code
    assert journal(backend) == ["order.placed"]


def test_a_signed_body_we_cannot_read_is_parked_once_for_an_operator(backend):
    parked = receive_webhook(webhook(b"[1, 2"), backend)
    again = receive_webhook(webhook(b"[1, 2"), backend)
    assert (parked.unprocessable, again.duplicate) == ("the body is not JSON (or nested too deeply)", True)
    [listed] = unprocessable_events(backend, 10)
    assert (listed.provider, listed.event_id[:7], listed.reason, listed.size) == (
        "sandbox",
        "sha256_",
        "the body is not JSON (or nested too deeply)",
        5,
    )


def test_the_expiry_job_cancels_only_orders_unpaid_past_their_window(backend, monkeypatch):
    unpaid, paid = order(backend, "online"), order(backend, "online")
    receive_webhook(webhook(succeeded(paid)), backend)
    assert expire_orders(ExpireOrders(), backend) == 0  # the window is still open
    later = unpaid.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert expire_orders(ExpireOrders(), backend) == 1
    assert expire_orders(ExpireOrders(), backend) == 0  # canceled already
    assert journal(backend) == ["order.placed", "order.placed", "order.paid", "order.canceled"]


def test_a_wrong_passkey_is_counted_towards_the_lock_and_a_right_one_resets_the_count(backend):
    set_passkey(SetPasskey(STORE, "246810", ("refund",), STAFF), backend)
    assert approve(backend, STORE, "discount", "owner", None) is False  # not protected
    with pytest.raises(DomainError) as wrong:
        approve(backend, STORE, "refund", "owner", "111111")
    assert (wrong.value.code, backend.passkeys.read(STORE).state.failures) == ("passkey_invalid", 1)
    assert approve(backend, STORE, "refund", "owner", "246810") is True
    assert backend.passkeys.read(STORE).state.failures == 0
    assert journal(backend) == ["passkey.changed"]  # the counts are no journal entry


def test_staff_page_through_the_orders_newest_first(backend):
    placed = [order(backend) for _ in range(3)]
    first = list_orders(backend, STORE, status=None, since=None, limit=2, cursor=None)
    second = list_orders(backend, STORE, status=None, since=None, limit=2, cursor=first.next_cursor)
    newest_first = [p.id for p in sorted(placed, key=lambda p: (p.created_at, p.id), reverse=True)]
    assert [view.order.id for view in first.orders + second.orders] == newest_first
    assert second.next_cursor is None
    with pytest.raises(DomainError) as refused:
        list_orders(backend, STORE, status=None, since=None, limit=2, cursor="bm90IG91cnM")
    assert refused.value.code == "validation_failed"


def test_the_customer_sees_the_order_and_the_code_of_its_card_once_paid_only_with_its_token(backend):
    request = OrderRequest(
        (*CART, CartItem("giftcard-25", 1)), Fulfilment("pickup"), Customer("Anna", "a@example.com"), "online"
    )
    placed = place_order(PlaceOrder(STORE, request, {"type": "customer"}), backend)
    assert placed.card_codes == (None,)  # not paid yet: the card is not active
    receive_webhook(webhook(succeeded(placed.order)), backend)
    seen = order_for_customer(backend, placed.order.id, placed.access_token)
    [code] = seen.card_codes
    sold = backend.cards.find(code).card
    assert (sold.id, sold.status, sold.balance) == (seen.order.cards_sold[0].card_id, "active", 2500)
    for token in (None, "", placed.access_token + "x"):
        with pytest.raises(DomainError) as hidden:
            order_for_customer(backend, placed.order.id, token)
        assert hidden.value.code == "order_not_found"


def test_pressing_pay_or_fail_reports_the_payment_to_the_webhook(backend, monkeypatch):
    sent: list[dict] = []
    monkeypatch.setattr(sandbox_sender, "send_later", sent.append)
    placed = order(backend, "online")
    press_checkout_button(PressCheckoutButton(placed.payment.id, "fail"), backend)
    press_checkout_button(PressCheckoutButton(placed.payment.id, "pay"), backend)
    assert [(event["type"], event["data"]) for event in sent] == [
        ("payment.failed", {"payment_id": placed.payment.id, "amount": 840, "currency": "EUR", "error": DECLINED}),
        ("payment.succeeded", {"payment_id": placed.payment.id, "amount": 840, "currency": "EUR"}),
    ]
    with pytest.raises(DomainError) as unknown:
        press_checkout_button(PressCheckoutButton("pay_sbx_none", "pay"), backend)
    with pytest.raises(DomainError) as neither:
        press_checkout_button(PressCheckoutButton(placed.payment.id, "refund"), backend)
    assert (unknown.value.code, neither.value.code, len(sent)) == ("not_found", "validation_failed", 2)
