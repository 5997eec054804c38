"""100 orders, ~500 shuffled and duplicated deliveries from 8 concurrent senders."""

import random
import threading
from collections import Counter
from dataclasses import replace

from storm import EXPECTED, scenario_of, storm
from support import SANDBOX_SECRET, idem, order_body
from tresen.domain.journal import first_chain_break
from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store


def send_all(app, deliveries, senders=8):
    failures = []
    lock = threading.Lock()
    queue = list(deliveries)

    def sender():
        client = app.test_client()
        while True:
            with lock:
                if not queue:
                    return
                delivery = queue.pop()
            response = client.post("/v1/webhooks/sandbox", data=delivery.body, headers=delivery.headers(SANDBOX_SECRET))
            if response.status_code != 200:
                failures.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_every_order_ends_where_its_events_imply_and_nothing_happens_twice(app, client, backend, store_id):
    stores = [store_id, store_id + "b"]
    seed_store(SeedStore(replace(DEMO_STORE, id=stores[1]), DEMO_PRODUCTS), backend)
    orders = [
        client.post(
            f"/v1/stores/{stores[i % 2]}/orders", json=order_body(payment={"method": "online"}), headers=idem()
        ).get_json()
        for i in range(100)
    ]
    first, second = storm(orders, random.Random(7))
    assert 450 <= len(first) + len(second) <= 700
    assert send_all(app, first) == []
    assert send_all(app, second) == []

    by_id = {o["id"]: o for o in orders}
    journal = [e for s in stores for e in backend.journal.entries(s)]
    effects = Counter((e["type"], e["data"].get("order_id")) for e in journal)
    for index, order in enumerate(orders):
        stored = backend.db.document(f"orders/{order['id']}").get().to_dict()
        scenario = scenario_of(index)
        assert (stored["status"], stored["payment_status"]) == EXPECTED[scenario], scenario
        assert effects[("order.paid", order["id"])] == (stored["status"] == "paid")
        assert effects[("refund.created", order["id"])] == (scenario == "paid_after_cancel")
        assert effects[("order.canceled", order["id"])] == (scenario in ("canceled", "paid_after_cancel"))
    for store in stores:
        assert first_chain_break(backend.journal.entries(store)) is None
        invoices = sorted(
            int(o["invoice_number"].rsplit("-", 1)[1])
            for o in (backend.db.document(f"orders/{i}").get().to_dict() for i in by_id)
            if o["store_id"] == store and o["invoice_number"]
        )
        assert invoices == list(range(1, len(invoices) + 1))
