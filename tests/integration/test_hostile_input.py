"""What an outside client may send that no honest client does: reserved ids in paths, bodies the
server cannot decode, times as numbers, odd header values, repeated parameters, odd origins."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest

from stack import free_port
from support import idem, order_body, staff_token

RESERVED_IDS = ["__x__", "__proto__", ".", ".."]


def customer_and_staff_paths(store: str, other: str) -> list[tuple[str, str, str]]:
    """(method, path, expected code) for a path whose id is `other`, in a store named `store`."""
    return [
        ("GET", f"/v1/orders/{other}", "order_not_found"),
        ("GET", f"/v1/stores/{other}/menu", "store_not_found"),
        ("POST", f"/v1/stores/{other}/orders", "store_not_found"),
        ("GET", f"/v1/stores/{store}/orders/{other}", "order_not_found"),
        ("POST", f"/v1/stores/{store}/orders/{other}/status", "order_not_found"),
        ("POST", f"/v1/stores/{store}/orders/{other}/refunds", "order_not_found"),
        ("POST", f"/v1/stores/{store}/orders/{other}/void", "order_not_found"),
        ("POST", f"/v1/stores/{store}/orders/{other}/discount", "order_not_found"),
        ("GET", f"/v1/stores/{store}/giftcard-activations/{other}", "not_found"),
        ("GET", f"/v1/stores/{store}/giftcard-activations/{other}/codes.csv", "not_found"),
        ("GET", f"/v1/sandbox/checkout/{other}", "not_found"),
        ("POST", f"/v1/sandbox/checkout/{other}", "not_found"),
        ("GET", f"/v1/giftcards/{other}", "giftcard_not_found"),
        ("POST", f"/v1/giftcards/{other}/redeem", "giftcard_not_found"),
    ]


@pytest.mark.parametrize("reserved", RESERVED_IDS)
def test_reserved_ids_in_any_path_answer_the_404_of_an_unknown_id(client, store_id, reserved):
    staff = {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}
    for method, path, code in customer_and_staff_paths(store_id, reserved):
        response = client.open(path, method=method, json={}, headers=staff | idem())
        assert (response.status_code, response.get_json()["code"]) == (404, code), (method, path)


@pytest.mark.parametrize("reserved", ["__x__", "__proto__"])
def test_a_store_named_so_in_a_tokens_claim_is_unknown_too(client, reserved):
    owner = {"Authorization": f"Bearer {staff_token({reserved: 'owner'})}"}
    for path in (f"/v1/stores/{reserved}/orders", f"/v1/stores/{reserved}/orders/o1"):
        response = client.get(path, headers=owner)
        assert (response.status_code, response.get_json()["code"]) == (404, "store_not_found"), path


def raw_request(port: int, head: str, body: bytes) -> tuple[str, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head_part, _, rest = answer.partition(b"\r\n\r\n")
    status, *header_lines = head_part.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return status, headers, rest


@pytest.fixture(scope="module")
def served(emulators):
    from tresen.webserver import serve

    port = free_port()
    server = serve(port)
    yield port
    server.shutdown()


@pytest.mark.parametrize(
    "method, path", [("POST", "/v1/stores/demo/orders"), ("GET", "/v1/health"), ("POST", "/v1/webhooks/sandbox")]
)
def test_a_malformed_chunked_body_is_a_400_problem(served, method, path):
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\n"
        "Idempotency-Key: k1\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    status, headers, body = raw_request(served, head, b"zz\r\n{}\r\n0\r\n\r\n")
    assert status.startswith("HTTP/1.1 400"), status
    assert headers["content-type"] == "application/problem+json"
    assert b'"code": "malformed_body"' in body


def at(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat(timespec="seconds")


@pytest.mark.parametrize(
    "requested_time",
    [0, 1795000000, "1795000000", "2026-11-23", "2026-11-23T18:04:05", "tomorrow"]
    + [timedelta(minutes=-6), timedelta(days=7, minutes=1)],
)
def test_requested_times_are_rfc3339_with_offset_within_a_week(client, store_id, requested_time):
    if isinstance(requested_time, timedelta):
        requested_time = at(requested_time)
    body = order_body(fulfilment={"type": "pickup", "requested_time": requested_time})
    response = client.post(f"/v1/stores/{store_id}/orders", json=body, headers=idem())
    assert response.status_code == 422, requested_time
    assert [e["field"] for e in response.get_json()["errors"]] == ["fulfilment.requested_time"]


def test_a_requested_time_in_the_window_is_kept(client, store_id):
    wanted = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    body = order_body(fulfilment={"type": "pickup", "requested_time": wanted.isoformat().replace("+00:00", "Z")})
    response = client.post(f"/v1/stores/{store_id}/orders", json=body, headers=idem())
    assert response.status_code == 201
    assert datetime.fromisoformat(response.get_json()["fulfilment"]["requested_time"]) == wanted


def test_since_must_be_a_time_and_parameters_come_once(client, store_id):
    auth = {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}
    for query, field in (
        ("since=0", "query.since"),
        ("since=1795000000", "query.since"),
        ("limit=5&limit=6", "query.limit"),
    ):
        response = client.get(f"/v1/stores/{store_id}/orders?{query}", headers=auth)
        assert response.status_code == 422, query
        assert [e["field"] for e in response.get_json()["errors"]] == [field]
    fine = client.get(f"/v1/stores/{store_id}/orders?since=2026-01-01T00:00:00%2B01:00&limit=5", headers=auth)
    assert fine.status_code == 200


@pytest.mark.parametrize("key", ["a\tb", "a\x00b", "schlüssel", "x" * 256, ""])
def test_idempotency_keys_are_printable_ascii(client, store_id, key):
    response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers={"Idempotency-Key": key})
    assert (response.status_code, response.get_json()["code"]) == (400, "idempotency_key_required")


def test_a_json_body_must_say_it_is_json(client, store_id):
    import json

    path = f"/v1/stores/{store_id}/orders"
    untyped = client.post(path, data=json.dumps(order_body()), headers=idem())
    assert (untyped.status_code, untyped.get_json()["code"]) == (415, "unsupported_media_type")
    typed = client.post(path, data=json.dumps(order_body()), headers=idem() | {"Content-Type": "application/json"})
    assert typed.status_code == 201


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example\x01",
        "https://shop.example\tx",
        "https://shop.example/path",
        "null",
        "javascript:alert(1)",
        "*",
    ],
)
def test_only_well_formed_origins_are_echoed(client, store_id, origin):
    response = client.get(f"/v1/stores/{store_id}/menu", headers={"Origin": origin})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_well_formed_origin_with_a_port_is_echoed_in_dev(client, store_id):
    response = client.get(f"/v1/stores/{store_id}/menu", headers={"Origin": "http://localhost:5173"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
