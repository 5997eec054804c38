"""The change feed under concurrent writes: four writers place orders, pay them through sandbox
webhooks and refund them while a reader polls every feed with `next_cursor`. Once the writers are
done and the reader has polled once more to the end, it holds every object in its final state —
the state of the documents — and has missed none."""

from __future__ import annotations

import threading

from support import auth, deliver, idem, order_body, payment_event, refund
from tresen.adapters import repository as repo
from tresen.domain.export_columns import journal_row, order_row, payment_row, refund_row
from tresen.services.seed import DEMO_STORE

WRITERS = 4
ORDERS_PER_WRITER = 6  # by i % 3: paid and refunded in part, refunded in two steps, left unpaid
FEEDS = {"orders": "id", "payments": "id", "refunds": "id", "journal": "seq"}
PAGE = 4  # small pages: the reader pages while the writers write


def write(app, store_id: str, failures: list) -> None:
    client = app.test_client()
    for i in range(ORDERS_PER_WRITER):
        placed = client.post(
            f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
        )
        order = placed.get_json()
        if i % 3 == 2:
            continue
        answers = [placed, deliver(client, payment_event(order, "succeeded"))]
        answers.append(refund(client, store_id, order["id"], {"amount": 100}))
        if i % 3 == 1:
            answers.append(refund(client, store_id, order["id"], {"amount": 740}))
        failures += [(a.status_code, a.get_json()) for a in answers if a.status_code not in (200, 201)]


def poll(client, store_id: str, kind: str, cursor: str | None) -> dict:
    query = {"limit": PAGE} | ({"cursor": cursor} if cursor else {})
    answer = client.get(f"/v1/stores/{store_id}/export/{kind}", query_string=query, headers=auth(store_id, "finance"))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def documents_as_rows(backend, store_id: str) -> dict[str, dict]:
    """Every object of the store as the feed should end up showing it, read from the documents."""
    docs, zone = backend.docs, DEMO_STORE.zone
    of_store = [("store_id", "==", store_id)]
    orders = {d.id: repo.order_from_doc(d.data) for d in docs.query("orders", where=of_store)}
    payments = [repo.payment_from_doc(d.id, d.data) for d in docs.query("payments", where=of_store)]
    refunds = [repo.refund_from_doc(d.data) for d in docs.query("refunds", where=of_store)]
    return {
        "orders": {order.id: order_row(order, zone) for order in orders.values()},
        "payments": {p.id: payment_row(p, orders[p.order_id], zone) for p in payments},
        "refunds": {r.id: refund_row(r, "EUR", zone) for r in refunds},
        "journal": {entry["seq"]: journal_row(entry) for entry in backend.journal.entries(store_id)},
    }


def test_a_reader_polling_during_concurrent_writes_ends_with_every_object_in_its_final_state(app, backend, store_id):
    failures: list = []
    writers = [threading.Thread(target=write, args=(app, store_id, failures)) for _ in range(WRITERS)]
    writing = threading.Event()
    seen: dict[str, dict] = {kind: {} for kind in FEEDS}
    cursors: dict[str, str | None] = dict.fromkeys(FEEDS)
    pages_while_writing = []

    def read_page(client, kind: str) -> bool:
        page = poll(client, store_id, kind, cursors[kind])
        ids = [row[FEEDS[kind]] for row in page["data"]]
        assert len(ids) == len(set(ids)) <= PAGE, "each object once per page"
        seen[kind].update(zip(ids, page["data"], strict=True))
        cursors[kind] = page["next_cursor"]
        return page["has_more"]

    def reader() -> None:
        client = app.test_client()
        while writing.is_set():
            for kind in FEEDS:
                read_page(client, kind)
                pages_while_writing.append(kind)
        for kind in FEEDS:  # the writers are done: once more, to the end
            while read_page(client, kind):
                pass

    writing.set()
    polling = threading.Thread(target=reader)
    polling.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    writing.clear()
    polling.join()

    assert failures == []
    assert len(pages_while_writing) >= len(FEEDS), "the reader polled while the writers wrote"
    final = documents_as_rows(backend, store_id)
    for kind in FEEDS:
        assert seen[kind] == final[kind], kind
    orders = final["orders"].values()
    assert len(orders) == WRITERS * ORDERS_PER_WRITER
    per_writer = ORDERS_PER_WRITER // 3 * WRITERS
    assert sorted((o["payment_status"], o["refunded_amount"]) for o in orders) == sorted(
        [("partially_refunded", 100)] * per_writer + [("refunded", 840)] * per_writer + [("unpaid", 0)] * per_writer
    )
    assert len(final["payments"]) == WRITERS * ORDERS_PER_WRITER
    assert sorted(r["amount"] for r in final["refunds"].values()) == [100] * 2 * per_writer + [740] * per_writer
    assert {r["status"] for r in final["refunds"].values()} == {"succeeded"}
    assert sorted(final["journal"]) == list(range(1, len(final["journal"]) + 1))
