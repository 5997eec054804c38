"""The last units of a product, sold at once through three API processes on one emulator: the
customers' orders and the counter's sales, fifty in all for ten units. Exactly ten are sold, the rest
are told what is left (nothing), the stock ends at 0, each unit is taken once in the journal, and
every process's menu shows the product sold out."""

from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
import requests

from api_processes import ApiProcesses
from support import auth, order_body

pytestmark = pytest.mark.emulator

ORDERS, UNITS, PROCESSES = 50, 10, 3
BREZEL = {"name": "Laugenbrezel", "price": 120, "vat_rate": "7", "kind": "item", "stock_tracked": True}


def sell_one(session: requests.Session, url: str, store_id: str, n: int) -> requests.Response:
    """Even n: a customer's order on the ordering page; odd n: a sale at the counter."""
    body = order_body(items=[{"product_id": "brezel", "quantity": 1}])
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    if n % 2:
        del body["customer"]
        return session.post(
            f"{url}/v1/stores/{store_id}/counter-orders", json=body, headers=headers | auth(store_id), timeout=120
        )
    return session.post(f"{url}/v1/stores/{store_id}/orders", json=body, headers=headers, timeout=120)


def test_fifty_orders_through_three_processes_for_the_last_ten_units_sell_exactly_ten(client, backend, store_id):
    put = client.put(f"/v1/stores/{store_id}/products/brezel", json=BREZEL, headers=auth(store_id, "owner"))
    counted = client.post(
        f"/v1/stores/{store_id}/products/brezel/stock", json={"set": UNITS, "reason": "count"}, headers=auth(store_id)
    )
    assert (put.status_code, counted.status_code) == (201, 200)
    answers: dict[int, requests.Response] = {}
    with ApiProcesses(PROCESSES) as processes:
        together = threading.Barrier(ORDERS)

        def customer(n: int) -> None:
            session = requests.Session()
            session.trust_env = False  # 127.0.0.1 only
            together.wait()
            answers[n] = sell_one(session, processes.urls[n % PROCESSES], store_id, n)

        threads = [threading.Thread(target=customer, args=(n,)) for n in range(ORDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        menus = [requests.get(f"{url}/v1/stores/{store_id}/menu", timeout=30).json() for url in processes.urls]

    outcomes = Counter(
        (answer.status_code, answer.json().get("code"), str(answer.json().get("available")))
        for answer in answers.values()
    )
    assert outcomes == {(201, None, "None"): UNITS, (409, "out_of_stock", "{'brezel': 0}"): ORDERS - UNITS}
    sold = [answer.json() for answer in answers.values() if answer.status_code == 201]
    assert {order["channel"] for order in sold} == {"online", "counter"}
    assert backend.stock.read(store_id, ["brezel"])["brezel"].stock == 0
    taken = [e["data"]["products"] for e in backend.journal.entries(store_id) if e["type"] == "stock.taken"]
    assert [(move["before"], move["after"]) for [move] in taken] == [(n, n - 1) for n in range(UNITS, 0, -1)]
    for menu in menus:
        assert [p["available"] for p in menu["products"] if p["id"] == "brezel"] == [False]
