"""Promotions over HTTP on the emulator: made, listed and ended by who may; an order's code shown on
the order, or refused with the reason; and 20 orders fired at once at three API processes of their
own — three instances, each with its own caches and store writer, on the one database — with a
code of 5 uses: exactly 5 get the discount, the others are refused, used up."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from stack import ROOT, free_port
from support import auth, idem, journal_types, order_body

pytestmark = pytest.mark.emulator

# One API process: the functions-framework app of `tresen dev`, served until its stdin closes, then
# its archive queue drained (the entries its orders journaled reach the bucket).
SERVER = """
import sys
from tresen.webserver import serve
server = serve(int(sys.argv[1]))
sys.stdin.read()
server.shutdown()
from tresen.adapters.backend import backend
backend().archive.drain()
"""
STARTUP_S = 120


def moment(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="seconds")


def promotion_body(**overrides) -> dict:
    body = {
        "code": "sommer10",
        "percent": "10",
        "applies_to": {"products": ["croissant"]},
        "starts_at": moment(timedelta(hours=-1)),
        "ends_at": moment(timedelta(days=7)),
        "channels": ["online"],
    }
    return body | overrides


@pytest.fixture
def api_processes(emulators):
    """The base URLs of three API processes on this session's emulators."""
    ports = [free_port() for _ in range(3)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port)], cwd=ROOT, env=dict(os.environ), stdin=subprocess.PIPE
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            deadline = time.monotonic() + STARTUP_S
            while not answers(f"http://127.0.0.1:{port}/v1/health"):
                assert process.poll() is None, f"the API process on port {port} exited with {process.returncode}"
                assert time.monotonic() < deadline, f"the API process on port {port} did not start"
                time.sleep(0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.stdin.close()
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


def test_of_20_orders_at_once_on_three_instances_exactly_5_get_a_code_of_5_uses(
    client, backend, store_id, api_processes
):
    made = client.post(
        f"/v1/stores/{store_id}/promotions",
        json=promotion_body(code="FUENF", applies_to={}, max_uses=5),
        headers=auth(store_id, "owner"),
    )
    assert made.status_code == 201, made.get_json()
    start = threading.Barrier(20)
    answered: list[tuple[int, dict]] = []

    def order(base: str) -> None:
        body = order_body(promotion_code="fuenf")
        start.wait()
        response = requests.post(f"{base}/v1/stores/{store_id}/orders", json=body, headers=idem(), timeout=60)
        answered.append((response.status_code, response.json()))

    threads = [threading.Thread(target=order, args=(api_processes[n % 3],)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    placed = [body for status, body in answered if status == 201]
    refused = [(status, body["code"], body["reason"]) for status, body in answered if status != 201]
    assert [(body["totals"]["discount"], body["promotion"]["code"]) for body in placed] == [(84, "FUENF")] * 5
    assert refused == [(409, "promotion_not_applicable", "used_up")] * 15
    uses = backend.db.collection(f"stores/{store_id}/promotion_uses").get()
    assert sorted(use.get("n") for use in uses) == [1, 2, 3, 4, 5]
    assert sorted(use.get("ref") for use in uses) == sorted(body["id"] for body in placed)
    assert Counter(journal_types(backend, store_id)) == {"promotion.created": 1, "order.placed": 5}
    [listed] = client.get(f"/v1/stores/{store_id}/promotions", headers=auth(store_id)).get_json()["data"]
    assert (listed["uses"], listed["status"]) == (5, "used_up")


def test_a_promotion_is_made_by_a_supervisor_shown_on_the_order_and_ended(client, store_id):
    path = f"/v1/stores/{store_id}/promotions"
    denied = client.post(path, json=promotion_body(), headers=auth(store_id, "staff"))
    assert (denied.status_code, denied.get_json()["code"]) == (403, "forbidden")
    made = client.post(path, json=promotion_body(percent="12.50", max_uses=100), headers=auth(store_id, "supervisor"))
    assert made.status_code == 201, made.get_json()
    promotion = made.get_json()
    assert {key: promotion[key] for key in ("code", "percent", "amount", "applies_to", "channels", "uses")} == {
        "code": "SOMMER10",
        "percent": "12.5",
        "amount": None,
        "applies_to": {"products": ["croissant"], "categories": []},
        "channels": ["online"],
        "uses": 0,
    }
    assert (promotion["max_uses"], promotion["status"]) == (100, "active")
    taken = client.post(path, json=promotion_body(), headers=auth(store_id, "owner"))
    assert (taken.status_code, taken.get_json()["promotion_id"]) == (409, promotion["id"])

    placed = client.post(f"/v1/stores/{store_id}/orders", json=order_body(promotion_code="Sommer10"), headers=idem())
    assert placed.status_code == 201, placed.get_json()
    order = placed.get_json()
    # 12.5 % of the two croissants' 580 is 72.5: 73, off the 7 % rate only
    assert order["promotion"] == {"id": promotion["id"], "code": "SOMMER10", "name": None, "discount": 73}
    assert (order["totals"]["discount"], order["totals"]["total"]) == (73, 767)
    assert order["totals"]["vat"] == [
        {"rate": "7", "net": 474, "tax": 33, "gross": 507},
        {"rate": "19", "net": 218, "tax": 42, "gross": 260},
    ]
    token = {"X-Order-Token": order["access_token"]}
    assert client.get(f"/v1/orders/{order['id']}", headers=token).get_json()["promotion"] == order["promotion"]

    ended = client.delete(f"{path}/{promotion['id']}", headers=auth(store_id, "supervisor"))
    assert ended.status_code == 204
    again = client.post(f"/v1/stores/{store_id}/orders", json=order_body(promotion_code="SOMMER10"), headers=idem())
    assert (again.status_code, again.get_json()["code"], again.get_json()["reason"]) == (
        409,
        "promotion_not_applicable",
        "expired",
    )
    [listed] = client.get(path, headers=auth(store_id, "staff")).get_json()["data"]
    assert (listed["status"], listed["uses"]) == ("ended", 1)
    unknown = client.delete(f"{path}/promo_nope", headers=auth(store_id, "owner"))
    assert (unknown.status_code, unknown.get_json()["code"]) == (404, "promotion_not_found")


def test_a_counter_promotion_applies_to_sales_at_the_till_only(client, store_id):
    counter_only = promotion_body(code="KASSE", percent=None, amount=100, applies_to={}, channels=["counter"])
    made = client.post(f"/v1/stores/{store_id}/promotions", json=counter_only, headers=auth(store_id, "owner"))
    assert made.status_code == 201, made.get_json()
    online = client.post(f"/v1/stores/{store_id}/orders", json=order_body(promotion_code="KASSE"), headers=idem())
    assert (online.status_code, online.get_json()["reason"]) == (409, "wrong_channel")
    sale = {key: value for key, value in order_body(promotion_code="kasse").items() if key != "customer"}
    sold = client.post(f"/v1/stores/{store_id}/counter-orders", json=sale, headers=idem() | auth(store_id))
    assert sold.status_code == 201, sold.get_json()
    assert (sold.get_json()["promotion"]["code"], sold.get_json()["totals"]["total"]) == ("KASSE", 740)


def test_a_promotion_asked_for_wrongly_is_a_422_naming_each_field(client, store_id):
    asked = promotion_body(amount=100, channels=["online", "drive-in"], ends_at=moment(timedelta(hours=-2)))
    answer = client.post(f"/v1/stores/{store_id}/promotions", json=asked, headers=auth(store_id, "owner"))
    assert answer.status_code == 422
    assert [error["field"] for error in answer.get_json()["errors"]] == ["channels[1]"]
    answer = client.post(
        f"/v1/stores/{store_id}/promotions",
        json=promotion_body(amount=100, ends_at=moment(timedelta(hours=-2))),
        headers=auth(store_id, "owner"),
    )
    assert answer.status_code == 422
    assert [error["field"] for error in answer.get_json()["errors"]] == ["percent", "ends_at"]
