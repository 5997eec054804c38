"""The DATEV export over HTTP, read back as an accountant's import reads it: cp1252, CRLF, the
header's fields, the 125 headings, decimal commas, every Belegdatum inside the header's period;
then re-summed per account — revenue per rate, the gift-card liability, the till, provider
clearing and the bank come out as the day's orders, refund and payout say."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from support import auth, deliver, order_body, paid_order, refund, sell

HEADER_FIELDS = ['"EXTF"', "700", "21", '"Buchungsstapel"', "13"]


def today() -> date:
    return datetime.now(ZoneInfo("Europe/Berlin")).date()


def export(client, store_id, first, last, role="finance"):
    return client.get(
        f"/v1/stores/{store_id}/export/datev",
        query_string={"from": first.isoformat(), "to": last.isoformat()},
        headers=auth(store_id, role),
    )


def read_as_an_accountant(content: bytes) -> tuple[list[str], list[str], list[list[str]]]:
    text = content.decode("cp1252")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    header, headings, *rows = text.split("\r\n")[:-1]
    return header.split(";"), headings.split(";"), [row.split(";") for row in rows]


def cents(amount: str) -> int:
    euros, _, rest = amount.partition(",")
    assert len(rest) == 2 and euros.isdigit(), amount
    return int(euros) * 100 + int(rest)


@pytest.fixture
def day_of_business(client, store_id):
    """An online order paid (840: 580 at 7 %, 260 at 19 %), 300 of it refunded; an on-site order
    with a 150 tip; a gift card of 2500 sold at the counter; a sandbox payout of the online payment
    (fee 30) and its refund."""
    online = paid_order(client, store_id)
    assert refund(client, store_id, online["id"], {"amount": 300}, role="owner").status_code == 201
    on_site = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(tip=150), headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert on_site.status_code == 201
    sell(client, store_id, 2500)
    provider_refund = client.get(f"/v1/stores/{store_id}/orders/{online['id']}", headers=auth(store_id, "owner"))
    refund_id = provider_refund.get_json()["refunds"][0]["provider_refund_id"]
    items = [
        {"payment_id": online["payment"]["id"], "amount": 840, "fee": 30},
        {"payment_id": online["payment"]["id"], "refund_id": refund_id, "amount": -300, "fee": 0},
    ]
    payout = {"payout_id": f"po_{uuid.uuid4().hex[:12]}", "arrival_date": today().isoformat(), "amount": 510,
              "currency": "EUR", "items": items}  # fmt: skip
    event = {"id": f"evt_{uuid.uuid4().hex}", "type": "payout.paid", "created": int(time.time()), "data": payout}
    assert deliver(client, event).status_code == 200
    return online


def test_the_file_reads_back_and_sums_per_account_to_the_books(client, store_id, day_of_business):
    response = export(client, store_id, today() - timedelta(days=1), today())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type == "text/csv; charset=windows-1252"
    assert response.headers["Content-Disposition"].endswith('.csv"')
    header, headings, rows = read_as_an_accountant(response.data)
    assert header[:5] == HEADER_FIELDS and header[12] == f"{today().year}0101"
    first, last = (datetime.strptime(header[i], "%Y%m%d").date() for i in (14, 15))
    assert (first, last) == (today() - timedelta(days=1), today())
    assert len(headings) == 125 and headings[:3] == [
        "Umsatz (ohne Soll/Haben-Kz)",
        "Soll/Haben-Kennzeichen",
        "WKZ Umsatz",
    ]
    balance = defaultdict(int)  # debit positive
    for row in rows:
        assert len(row) == 125 and row[1] == '"S"' and row[8] == ""  # automatic accounts: no BU key
        day = date(first.year, int(row[9][2:]), int(row[9][:2]))
        assert first <= day <= last
        amount = cents(row[0])
        balance[row[6]] += amount
        balance[row[7]] -= amount
    assert dict(balance) == {
        "8300": -(580 + 580 - 207),  # both orders' 7 % part, less the refund's 7 % share
        "8400": -(260 + 260 - 93),
        "1590": -150,  # the tip, passed on to staff
        "1700": -2500,  # the gift card sold: a liability
        "1000": 580 + 260 + 150 + 2500,  # the till
        "1360": 0,  # clearing: paid 840, refunded 300, paid out 540 (30 of it fees)
        "1200": 510,  # the bank
        "4970": 30,  # the fees
    }


def test_who_may_export_and_what_is_refused(client, store_id):
    assert export(client, store_id, today(), today(), role="owner").status_code == 200
    for role in ("staff", "supervisor"):
        assert export(client, store_id, today(), today(), role=role).status_code == 403
    assert client.get(f"/v1/stores/{store_id}/export/datev?from=2026-11-02&to=2026-11-01").status_code == 401
    backwards = export(client, store_id, today(), today() - timedelta(days=3))
    assert (backwards.status_code, backwards.get_json()["code"]) == (422, "validation_failed")
    missing = client.get(f"/v1/stores/{store_id}/export/datev?from=2026-11-02", headers=auth(store_id, "finance"))
    assert missing.status_code == 422
