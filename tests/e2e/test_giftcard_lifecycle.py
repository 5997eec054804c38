"""The whole gift-card lifecycle over HTTP against a running `tresen dev`, as a merchant and its
customers use it: sell, inquire, buy online, pay with a card, refund to it, redeem offline,
block, unblock, replace, and a block of cards with its codes CSV."""

from __future__ import annotations

import csv
import io
import signal
import time

import pytest
import requests

from merchant import Merchant, customer_order, pay_at_checkout
from stack import RunningStack

pytestmark = pytest.mark.e2e


def balance(base: str, code: str) -> int:
    response = requests.post(f"{base}/v1/giftcards/balance", json={"code": code}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["balance"]


def test_the_gift_card_lifecycle_end_to_end():
    stack = RunningStack()
    try:
        base, shop = stack.url, Merchant(stack.url)
        counter = Merchant(base, role="staff")

        # sold at the counter, then the holder checks it (typing it sloppily)
        card = counter.post("/v1/stores/demo/giftcards", {"amount": 5000}, status=201)
        assert balance(base, card["code"].lower().replace("-", " ")) == 5000

        # bought online: pending until paid, then the customer sees the code on the paid order
        bought = customer_order(base, [{"product_id": "giftcard-25", "quantity": 1}])
        assert bought["gift_cards_sold"][0]["status"] == "pending"
        paid = pay_at_checkout(base, bought)
        present = paid["gift_cards_sold"][0]
        assert (present["status"], balance(base, present["code"])) == ("active", 2500)

        # paying an order partly by card: held at once, captured when the rest is paid online
        order = customer_order(
            base, [{"product_id": "croissant", "quantity": 4}], [{"code": card["code"], "amount": 1000}]
        )
        assert (order["gift_card_amount"], order["amount_due"]) == (1000, 160)
        assert balance(base, card["code"]) == 4000
        assert pay_at_checkout(base, order)["gift_cards"][0]["status"] == "captured"

        # a refund goes back to the card first
        refund = shop.post(f"/v1/stores/demo/orders/{order['id']}/refunds", {"amount": 500}, status=201)
        assert (refund["status"], refund["giftcard_amount"], refund["provider_amount"]) == ("succeeded", 500, 0)
        assert balance(base, card["code"]) == 4500

        # an offline redeem authorized by phone, captured later; a plain redeem at the counter
        held = counter.post(f"/v1/giftcards/{card['code']}/authorizations", {"type": "redeem", "amount": 1500}, 201)
        counter.post(f"/v1/giftcards/{card['code']}/redeem", {"amount": 1500, "auth_code": held["auth_code"]})
        assert counter.post(f"/v1/giftcards/{card['code']}/redeem", {"amount": 1000})["balance"] == 2000

        # lost and found, then replaced by a new card
        counter.post(f"/v1/giftcards/{card['code']}/deactivate", {"reason": "lost"})
        assert shop.post(f"/v1/giftcards/{card['code']}/reactivate")["status"] == "active"
        replaced = shop.post(f"/v1/giftcards/{card['code']}/transfer", status=201)
        assert (replaced["old"]["balance"], replaced["new"]["balance"]) == (0, 2000)
        history = counter.get(f"/v1/giftcards/{card['code']}").json()["activities"]
        assert [a["type"] for a in history][:4] == ["transfer_out", "reactivate", "deactivate", "redeem"]
        assert sum(a["balance_change"] for a in history) == 0

        # a block of 150 cards for a promotion, with its codes CSV
        started = shop.post("/v1/stores/demo/giftcards", {"amount": 1000, "count": 150}, status=202)
        status_path = f"/v1/stores/demo/giftcard-activations/{started['activation_id']}"
        deadline = time.monotonic() + 60
        while (progress := shop.get(status_path).json())["status"] != "done" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (progress["status"], progress["activated"], len(progress["chunks"])) == ("done", 150, 2)
        rows = list(csv.DictReader(io.StringIO(shop.get(f"{status_path}/codes.csv").text)))
        assert len({row["code"] for row in rows}) == 150
        assert balance(base, rows[-1]["code"]) == 1000
    finally:
        code = stack.stop(signal.SIGINT)
    assert code == 0
