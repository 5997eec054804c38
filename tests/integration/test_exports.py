"""Exports over HTTP against the emulators: CSV and JSON Lines byte for byte, the BOM, the change
feed's page, what is refused (422, 404) and who may export (401, 403)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest

from support import auth, idem, paid_order, read, refund

ORDER_HEADER = (
    "id,number,business_day,created_at,updated_at,status,payment_status,payment_method,provider,payment_id,"
    "invoice_number,fulfilment,currency,subtotal,discount,tip,giftcards_sold,total,net_7,vat_7,gross_7,"
    "net_19,vat_19,gross_19,gift_card_amount,amount_due,refunded_amount\r\n"
)
REFUND_HEADER = (
    "id,order_id,payment_id,created_at,provider,to,status,reason,currency,amount,provider_amount,giftcard_amount,"
    "net_7,vat_7,gross_7,net_19,vat_19,gross_19,untaxed,provider_refund_id\r\n"
)
REASON = 'zu kalt, "sehr"\nnächstes Mal heiß'  # a comma, quotes, a line break and UTF-8


def export(client, store_id, kind, role="finance", **params):
    return client.get(f"/v1/stores/{store_id}/export/{kind}", query_string=params, headers=auth(store_id, role))


@pytest.fixture
def refunded(client, store_id):
    """An order paid online (2 croissants at 7 %, an espresso at 19 %: 840) and refunded 300 of."""
    placed = paid_order(client, store_id)
    answer = refund(client, store_id, placed["id"], {"amount": 300, "reason": REASON}, role="owner")
    assert answer.status_code == 201
    return read(client, placed), answer.get_json()["id"]


def day_of(order) -> str:
    return order["created_at"][:10]  # the store-local day: times are shown in the store's zone


def test_the_csv_of_orders_is_the_header_and_one_line_per_order(client, store_id, refunded):
    order, _ = refunded
    day = day_of(order)
    answer = export(client, store_id, "orders", format="csv", **{"from": day, "to": day})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="tresen-{store_id}-orders-{day}-{day}.csv"'
    line = (
        f"{order['id']},{order['number']},{order['business_day']},{order['created_at']},{order['updated_at']},"
        f"paid,partially_refunded,online,sandbox,{order['payment']['id']},{order['invoice_number']},pickup,EUR,"
        "840,0,0,0,840,542,38,580,218,42,260,0,840,300\r\n"
    )
    assert answer.get_data(as_text=True) == ORDER_HEADER + line


def test_a_csv_cell_with_commas_quotes_or_line_breaks_is_quoted(client, store_id, refunded):
    order, refund_id = refunded
    day = day_of(order)
    answer = export(client, store_id, "refunds", format="csv", **{"from": day, "to": day})
    body = answer.get_data()
    assert body.decode("utf-8").startswith(REFUND_HEADER)
    created = body.decode("utf-8")[len(REFUND_HEADER) :].split(",", 4)[3]
    expected = (
        f"{refund_id},{order['id']},{order['payment']['id']},{created},sandbox,original,succeeded,"
        '"zu kalt, ""sehr""\nnächstes Mal heiß",EUR,300,300,0,193,14,207,78,15,93,0,'
        f"sbx_{refund_id}\r\n"
    )
    assert body == (REFUND_HEADER + expected).encode("utf-8")
    assert created.startswith(day)


def test_bom_true_starts_the_csv_with_a_utf8_bom(client, store_id, refunded):
    day = day_of(refunded[0])
    plain = export(client, store_id, "orders", format="csv", **{"from": day, "to": day}).get_data()
    marked = export(client, store_id, "orders", format="csv", bom="true", **{"from": day, "to": day}).get_data()
    assert not plain.startswith(b"\xef\xbb\xbf")
    assert marked == b"\xef\xbb\xbf" + plain


def test_jsonl_has_one_object_per_line_with_the_csv_columns_typed(client, store_id, refunded):
    order, refund_id = refunded
    day = day_of(order)
    answer = export(client, store_id, "refunds", format="jsonl", **{"from": day, "to": day})
    assert answer.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert answer.headers["Content-Disposition"].endswith(f'-refunds-{day}-{day}.jsonl"')
    lines = answer.get_data(as_text=True).split("\n")
    assert lines[-1] == ""  # every line ends with \n, the last one too
    (row,) = [json.loads(line) for line in lines[:-1]]
    assert list(row) == REFUND_HEADER.strip().split(",")
    assert (row["id"], row["reason"], row["amount"], row["gross_7"], row["untaxed"]) == (refund_id, REASON, 300, 207, 0)


def test_the_journal_csv_writes_an_entrys_data_as_compact_json(client, store_id, refunded):
    order, _ = refunded
    day = day_of(order)
    rows = export(client, store_id, "journal", format="jsonl", **{"from": day, "to": day}).get_data(as_text=True)
    entries = [json.loads(line) for line in rows.splitlines()]
    assert [e["type"] for e in entries] == ["order.placed", "order.paid", "refund.created", "refund.succeeded"]
    text = export(client, store_id, "journal", format="csv", **{"from": day, "to": day}).get_data(as_text=True)
    header, first, *_ = csv.reader(io.StringIO(text, newline=""))
    assert header == ["seq", "at", "type", "v", "actor", "data", "prev_hash", "hash"]
    assert first[:5] == ["1", entries[0]["at"], "order.placed", "", '{"type":"customer"}']  # no `v`: version 1
    assert first[5] == json.dumps(entries[0]["data"], ensure_ascii=False, separators=(",", ":"))
    assert json.loads(first[5])["order_id"] == order["id"]


def test_a_range_with_nothing_in_it_is_the_header_alone(client, store_id):
    answer = export(client, store_id, "orders", format="csv", **{"from": "2020-01-01", "to": "2020-12-31"})
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, ORDER_HEADER)
    empty = export(client, store_id, "orders", format="jsonl", **{"from": "2020-01-01", "to": "2020-01-01"})
    assert (empty.status_code, empty.get_data()) == (200, b"")


def test_the_change_feed_answers_pages_with_a_cursor_to_poll_with(client, store_id, refunded):
    order, refund_id = refunded
    first = export(client, store_id, "orders", limit="1")
    assert first.status_code == 200
    page = first.get_json()
    assert ([row["id"] for row in page["data"]], page["has_more"]) == ([order["id"]], False)
    assert page["data"][0]["refunded_amount"] == 300
    again = export(client, store_id, "orders", cursor=page["next_cursor"]).get_json()
    assert again == {"data": [], "next_cursor": page["next_cursor"], "has_more": False}
    refunds = export(client, store_id, "refunds").get_json()
    assert [(row["id"], row["status"]) for row in refunds["data"]] == [(refund_id, "succeeded")]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"format": "csv", "from": "2026-11-24", "to": "2026-11-23"}, ["query.to"]),
        ({"format": "csv", "from": "2025-01-01", "to": "2026-01-02"}, ["query.to"]),  # 367 days
        ({"format": "csv"}, ["query.from", "query.to"]),
        ({"format": "csv", "from": "2026-11-23"}, ["query.to"]),
        (
            {"format": "csv", "from": "2026-11-23", "to": "2026-11-23", "cursor": "x", "limit": "5"},
            ["query.cursor", "query.limit"],
        ),
        ({"format": "jsonl", "from": "2026-11-23", "to": "2026-11-23", "bom": "true"}, ["query.bom"]),
        ({"from": "2026-11-23", "to": "2026-11-23"}, ["query.from", "query.to"]),
        ({"format": "xlsx", "from": "2026-11-23", "to": "2026-11-23"}, ["query.format"]),
        ({"format": "csv", "from": "2026-13-01", "to": "2026-11-23"}, ["query.from"]),
        ({"format": "csv", "from": "1700000000", "to": "2026-11-23"}, ["query.from"]),
        ({"format": "csv", "from": "0001-01-01", "to": "0001-01-01"}, ["query.from"]),
        ({"cursor": "not-ours"}, ["query.cursor"]),
        ({"limit": "0"}, ["query.limit"]),
        ({"limit": "1001"}, ["query.limit"]),
        ({"since": "2026-11-23"}, ["query.since"]),
    ],
)
def test_what_an_export_refuses_is_422_naming_the_parameters(client, store_id, params, fields):
    answer = export(client, store_id, "orders", **params)
    assert (answer.status_code, answer.get_json()["code"]) == (422, "validation_failed")
    assert sorted(e["field"] for e in answer.get_json()["errors"]) == fields


def test_a_cursor_of_another_kind_is_refused(client, store_id, refunded):
    cursor = export(client, store_id, "orders").get_json()["next_cursor"]
    answer = export(client, store_id, "refunds", cursor=cursor)
    assert (answer.status_code, answer.get_json()["errors"]) == (
        422,
        [{"field": "query.cursor", "message": "invalid"}],
    )


def test_a_range_of_exactly_366_days_is_answered(client, store_id):
    today = date.today()
    answer = export(
        client, store_id, "payments", format="csv", **{"from": str(today - timedelta(days=365)), "to": str(today)}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("kind", ["invoices", "order", "Orders"])
def test_an_unknown_kind_is_not_found(client, store_id, kind):
    answer = export(client, store_id, kind, format="csv", **{"from": "2026-11-23", "to": "2026-11-23"})
    assert (answer.status_code, answer.get_json()["code"]) == (404, "not_found")


def test_an_export_of_a_store_that_does_not_exist_is_not_found(client):
    answer = export(client, "nosuchstore", "orders")
    assert (answer.status_code, answer.get_json()["code"]) == (404, "store_not_found")


def test_only_owners_finance_and_export_keys_may_export(client, store_id):
    path = f"/v1/stores/{store_id}/export/orders"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    for role in ("staff", "supervisor"):
        denied = client.get(path, headers=auth(store_id, role))
        assert (denied.status_code, denied.get_json()["code"]) == (403, "forbidden"), role
    for role in ("owner", "finance"):
        assert client.get(path, headers=auth(store_id, role)).status_code == 200, role
    assert client.get(path, headers=auth("another", "owner")).status_code == 403
    exporter, journal_reader = (api_key(client, store_id, scope) for scope in ("exports:read", "journal:read"))
    assert client.get(path, headers={"Authorization": f"Bearer {exporter}"}).status_code == 200
    assert client.get(path, headers={"Authorization": f"Bearer {journal_reader}"}).status_code == 403


def api_key(client, store_id, scope):
    created = client.post(
        f"/v1/stores/{store_id}/api-keys",
        json={"name": f"books {scope}", "scopes": [scope]},
        headers=auth(store_id, "owner") | idem(),
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()["key"]
