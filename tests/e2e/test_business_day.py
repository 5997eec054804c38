"""A business day against a running `tresen dev`, closed: every Z-report figure equals the sum the
test computes from the orders themselves; the Z-report's checkpoint is signed by the published
key; a refund after the closing lands in the next one; `tresen verify` recomputes both."""

from __future__ import annotations

import subprocess
import uuid
from collections import defaultdict

import pytest
import requests
from test_verifiable_journal import signed_checkpoint

from merchant import Merchant, customer_order, pay_at_checkout
from stack import ROOT, TRESEN, RunningStack

pytestmark = pytest.mark.e2e
BOTH_RATES = [{"product_id": "croissant", "quantity": 2}, {"product_id": "espresso", "quantity": 2}]


def on_site_order(base: str, items: list[dict], tip: int = 0) -> dict:
    body = {
        "items": items,
        "fulfilment": {"type": "pickup"},
        "customer": {"name": "Ben", "email": "ben@example.com"},
        "payment": {"method": "on_site"},
        "tip": tip,
    }
    response = requests.post(
        f"{base}/v1/stores/demo/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_business_day_closed_adds_up_to_the_cent():
    with RunningStack() as stack:
        base, shop = stack.url, Merchant(stack.url)
        reductions = defaultdict(int)

        tipped = on_site_order(base, BOTH_RATES, tip=150)
        on_site_order(base, [{"product_id": "cheesecake", "quantity": 1}])
        voided = customer_order(base, BOTH_RATES)
        after_void = shop.post(
            f"/v1/stores/demo/orders/{voided['id']}/void", {"lines": [{"line_id": "L1", "quantity": 1}]}
        )
        reductions["voids"] += voided["totals"]["total"] - after_void["totals"]["total"]
        pay_at_checkout(base, voided)
        discounted = customer_order(base, BOTH_RATES)
        after_discount = shop.post(f"/v1/stores/demo/orders/{discounted['id']}/discount", {"amount": 100})
        reductions["discounts"] += discounted["totals"]["total"] - after_discount["totals"]["total"]
        pay_at_checkout(base, discounted)
        card = shop.post("/v1/stores/demo/giftcards", {"amount": 2000}, status=201)
        by_card = customer_order(base, BOTH_RATES, [{"code": card["code"], "amount": 500}])
        pay_at_checkout(base, by_card)
        refunded_in_full = pay_at_checkout(base, customer_order(base, [{"product_id": "espresso", "quantity": 1}]))
        partial = shop.post(f"/v1/stores/demo/orders/{voided['id']}/refunds", {"amount": 120}, status=201)
        full = shop.post(
            f"/v1/stores/demo/orders/{refunded_in_full['id']}/refunds",
            {"amount": refunded_in_full["totals"]["total"]},
            status=201,
        )

        z = shop.post("/v1/stores/demo/closings", status=201)

        orders = [
            shop.get(f"/v1/stores/demo/orders/{o['id']}").json()
            for o in (tipped, voided, discounted, by_card, refunded_in_full)
        ]
        orders += [
            o for o in shop.get("/v1/stores/demo/orders").json()["data"] if o["id"] not in {x["id"] for x in orders}
        ]
        sold = [o for o in orders if o["invoice_number"]]
        vat = defaultdict(lambda: defaultdict(int))
        for order in sold:
            for line in order["totals"]["vat"]:
                vat[line["rate"]]["gross"] += line["gross"]
                vat[line["rate"]]["net"] += line["net"]
                vat[line["rate"]]["tax"] += line["tax"]
        assert z["vat"] == [{"rate": rate, **vat[rate]} for rate in sorted(vat, key=int)]
        assert z["sales"] == {key: sum(row[key] for row in vat.values()) for key in ("gross", "net", "tax")}

        def paid(method: str) -> int:
            # an on-site order has no provider `payment`
            return sum(
                o["totals"]["total"] - o["gift_card_amount"]
                for o in sold
                if ("on_site" if o["payment"] is None else "online") == method
            )

        assert z["payments"] == {
            "on_site": paid("on_site") + card["balance"],  # the card was sold at the counter
            "online": paid("online"),
            "giftcard": sum(o["gift_card_amount"] for o in sold),
            "card_present": 0,  # no card terminal that day
        }
        assert z["tips"] == sum(o["totals"]["tip"] for o in sold) == 150
        assert z["refunds"]["amount"] == partial["amount"] + full["amount"]
        assert z["refunds"]["count"] == 2
        assert (z["voids"]["amount"], z["discounts"]["amount"]) == (reductions["voids"], reductions["discounts"])
        assert z["giftcards"] == {"sold": 2000, "redeemed": 500}
        assert (z["counts"]["orders_placed"], z["counts"]["sales"], z["counts"]["orders_on_site"]) == (
            len(orders),
            len(sold),
            2,
        )

        [key] = requests.get(f"{base}/v1/journal/public-keys", timeout=10).json()
        origin, size, _ = signed_checkpoint(z["checkpoint"]["note"], key["vkey"])
        assert (origin, size) == ("tresen/demo-tresen/demo", z["last_seq"])

        late = shop.post(f"/v1/stores/demo/orders/{discounted['id']}/refunds", {"amount": 50}, status=201)
        next_z = shop.post("/v1/stores/demo/closings", status=201)
        assert (next_z["z_number"], next_z["first_seq"], next_z["previous_hash"]) == (2, z["last_seq"] + 1, z["hash"])
        assert (next_z["refunds"]["amount"], next_z["counts"]["sales"]) == (late["amount"], 0)

        verified = subprocess.run(
            [str(TRESEN), "verify", "--store", "demo"],
            cwd=ROOT,
            env=stack.cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "Connection pool is full" not in verified.stderr  # its findings only, no urllib3 warnings
