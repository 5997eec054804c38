"""A statement against a running `tresen dev`: orders over two closings, a sandbox payout covering
some payments and a refund, then a statement of the week. Every payment's fee, net and payout is
as the payout said, the ones not paid out are listed, the totals equal the closings', and the four
files download through their signed URLs (no credentials), hash to what the manifest lists, and the
manifest's signature verifies with the published key."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from test_business_day import on_site_order
from test_verifiable_journal import verified_text

from merchant import Merchant, customer_order, pay_at_checkout
from stack import RunningStack
from tresen.domain.signatures import sign

pytestmark = pytest.mark.e2e
SANDBOX_SECRET = "whsec_sandbox_dev"
ONE = [{"product_id": "croissant", "quantity": 1}]
TWO = [{"product_id": "croissant", "quantity": 2}, {"product_id": "espresso", "quantity": 1}]


def send_payout(base: str, payout: dict) -> None:
    event = {"id": f"evt_{uuid.uuid4().hex}", "type": "payout.paid", "created": int(time.time()), "data": payout}
    raw = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "Sandbox-Signature": sign(raw, SANDBOX_SECRET, int(time.time()))}
    response = requests.post(f"{base}/v1/webhooks/sandbox", data=raw, headers=headers, timeout=30)
    assert response.status_code == 200, response.text


def test_a_week_statement_matches_the_payout_ties_out_with_two_closings_and_its_files_verify():
    with RunningStack() as stack:
        base, shop, finance = stack.url, Merchant(stack.url), Merchant(stack.url, role="finance")
        owner = Merchant(stack.url, role="owner")

        on_site_order(base, TWO, tip=150)
        paid_early = [pay_at_checkout(base, customer_order(base, TWO)) for _ in range(3)]
        refund = owner.post(f"/v1/stores/demo/orders/{paid_early[0]['id']}/refunds", {"amount": 200}, status=201)
        first = shop.post("/v1/stores/demo/closings", status=201)
        paid_late = [pay_at_checkout(base, customer_order(base, ONE)) for _ in range(2)]
        on_site_order(base, TWO)
        second = shop.post("/v1/stores/demo/closings", status=201)

        fees = {p["payment"]["id"]: 25 + i for i, p in enumerate(paid_early)}
        provider_refund_id = shop.get(f"/v1/stores/demo/orders/{paid_early[0]['id']}").json()["refunds"][0][
            "provider_refund_id"
        ]
        items = [
            {"payment_id": pid, "amount": paid_early[i]["totals"]["total"], "fee": fee}
            for i, (pid, fee) in enumerate(fees.items())
        ]
        items.append(
            {"payment_id": paid_early[0]["payment"]["id"], "refund_id": provider_refund_id, "amount": -200, "fee": 0}
        )
        send_payout(
            base,
            {
                "payout_id": "po_week1",
                "arrival_date": "2026-11-20",
                "currency": "EUR",
                "amount": sum(i["amount"] - i["fee"] for i in items),
                "items": items,
            },
        )

        today = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(hours=5)).date()
        week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
        made = finance.post("/v1/stores/demo/statements", week, status=201)
        assert made["closings"]["z_numbers"] == [first["z_number"], second["z_number"]]
        assert made["closings"]["covered"] and made["closings"]["ties_out"], made["closings"]
        closed = {m: first["payments"][m] + second["payments"][m] for m in first["payments"]}
        assert made["totals"]["payments"] == closed
        assert made["counts"] == {"payments": 5, "refunds": 1, "unmatched": 2, "mismatched": 0, "payouts": 1}

        statement = finance.get(f"/v1/stores/demo/statements/{made['id']}").json()
        files = {f["name"]: f for f in statement["files"]}
        assert len(files) == 6 and {"manifest.json", "manifest.sig"} <= set(files)
        downloaded = {}
        for name, file in files.items():
            response = requests.get(file["url"], timeout=30)  # no credentials: the URL is the permission
            assert response.status_code == 200, (name, response.status_code)
            downloaded[name] = response.content
            assert hashlib.sha256(response.content).hexdigest() == file["sha256"]
        manifest = json.loads(downloaded["manifest.json"])
        listed = {f["name"]: f for f in manifest["files"]}
        assert set(listed) == set(files) - {"manifest.json", "manifest.sig"}
        for name, entry in listed.items():
            assert (len(downloaded[name]), hashlib.sha256(downloaded[name]).hexdigest()) == (
                entry["size"],
                entry["sha256"],
            )
        kinds = sorted(name.rsplit(".", 1)[1] for name in listed)
        assert kinds in (["csv", "csv", "json", "pdf"], ["csv", "json", "pdf", "zip"])
        assert downloaded[next(n for n in listed if n.endswith(".pdf"))].startswith(b"%PDF")

        keys = requests.get(f"{base}/v1/journal/public-keys", timeout=30).json()
        vkey = next(k["vkey"] for k in keys if k["key_id"] == statement["key_id"])
        text = verified_text(downloaded["manifest.sig"].decode(), vkey)
        digest = base64.b64encode(hashlib.sha256(downloaded["manifest.json"]).digest()).decode()
        assert text.split("\n")[1:3] == [f"statement {made['id']}", digest]

        body = json.loads(downloaded[next(n for n in listed if n.endswith(".json"))])
        by_payment = {p["payment_id"]: p for p in body["payments"]}
        for payment_id, fee in fees.items():
            line = by_payment[payment_id]
            assert (line["fee"], line["net"], line["payout_id"], line["matched"]) == (
                fee,
                line["amount"] - fee,
                "po_week1",
                True,
            )
        assert {u["id"] for u in body["unmatched"]} == {p["payment"]["id"] for p in paid_late}
        assert [(r["refund_id"], r["provider_refund_id"], r["net"], r["payout_id"]) for r in body["refunds"]] == [
            (refund["id"], provider_refund_id, -200, "po_week1")
        ]
        rows = list(
            csv.reader(
                io.StringIO(downloaded[next(n for n in listed if n.endswith(".csv") and "datev" not in n)].decode())
            )
        )
        assert len(rows) == 1 + 5 + 1
