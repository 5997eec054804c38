"""No request, however malformed or large, gets a 5xx or a stack trace."""

import json
from urllib.parse import quote

import pytest
from google.api_core.exceptions import ServiceUnavailable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import idem, order_body, staff_token

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["items", "fulfilment", "customer", "payment", "tip", "gift_cards"]


def mutated_order(draw_value, field, item_field):
    body = order_body()
    if item_field:
        body["items"][0][item_field] = draw_value
    else:
        body[field] = draw_value
    return body


def assert_clean_client_error(response):
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert response.content_type == "application/problem+json"
        problem = response.get_json()
        assert set(problem) >= {"type", "title", "status", "detail", "code"}
        assert "Traceback" not in response.get_data(as_text=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=json_values,
    field=st.sampled_from(FIELDS),
    item_field=st.sampled_from([None, "product_id", "quantity", "options", "note"]),
)
def test_mutated_order_bodies_never_cause_a_5xx(client, store_id, value, field, item_field):
    response = client.post(
        f"/v1/stores/{store_id}/orders", json=mutated_order(value, field, item_field), headers=idem()
    )
    assert_clean_client_error(response)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_bytes_never_cause_a_5xx(client, store_id, raw):
    response = client.post(f"/v1/stores/{store_id}/orders", data=raw, content_type="application/json", headers=idem())
    assert_clean_client_error(response)


def test_pathological_bodies_get_stable_codes(client, store_id):
    path = f"/v1/stores/{store_id}/orders"
    cases = [
        (b"x" * (1024 * 1024 + 1), 413, "payload_too_large"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "malformed_json"),
        (b'{"tip": NaN}', 400, "malformed_json"),
        (b"\xff\xfe\x00", 400, "malformed_json"),
        (b"[]", 422, "validation_failed"),
        (b"", 400, "malformed_json"),
    ]
    for raw, status, code in cases:
        response = client.post(path, data=raw, content_type="application/json", headers=idem())
        assert (response.status_code, response.get_json()["code"]) == (status, code), raw[:20]
    wrong_type = client.post(path, data="a=b", content_type="application/x-www-form-urlencoded", headers=idem())
    assert (wrong_type.status_code, wrong_type.get_json()["code"]) == (415, "unsupported_media_type")


def test_unknown_paths_and_methods_are_problems(client):
    missing = client.get("/v1/nothing/here")
    assert (missing.status_code, missing.get_json()["code"]) == (404, "not_found")
    wrong_method = client.delete("/v1/health")
    assert (wrong_method.status_code, wrong_method.get_json()["code"]) == (405, "method_not_allowed")
    assert wrong_method.headers["Allow"] == "GET, HEAD"
    odd_ids = [client.get(f"/v1/orders/{i}", headers={"X-Order-Token": "t"}) for i in ("..", "a" * 300, "%00")]
    assert [r.status_code for r in odd_ids] == [404, 404, 404]


@pytest.mark.parametrize(
    ("failure", "status", "code", "retry_after"),
    [
        (ServiceUnavailable("emulator restarting"), 503, "service_unavailable", "1"),
        (KeyError("secret_internal_name"), 500, "internal_error", None),
    ],
)
def test_backend_failures_are_problems_without_internals(
    client, store_id, monkeypatch, failure, status, code, retry_after
):
    from tresen.services import orders

    def failing(*args, **kwargs):
        raise failure

    monkeypatch.setattr(orders, "place_order", failing)
    response = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem())
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert response.headers.get("Retry-After") == retry_after
    assert "emulator restarting" not in response.get_data(as_text=True)
    assert "secret_internal_name" not in response.get_data(as_text=True)


CARD_ACTIONS = ["load", "redeem", "authorizations", "deactivate", "reactivate", "transfer"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    code=st.text(min_size=1, max_size=60).map(lambda t: quote(t, safe="")),
    action=st.sampled_from([*CARD_ACTIONS, None]),
    body=json_values,
)
def test_gift_card_requests_never_cause_a_5xx(client, store_id, code, action, body):
    auth = {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}
    if action is None:
        response = client.post("/v1/giftcards/balance", json={"code": body if code.startswith("%") else code})
    else:
        response = client.post(f"/v1/giftcards/{code}/{action}", json=body, headers=auth | idem())
    assert_clean_client_error(response)
    assert client.get(f"/v1/giftcards/{code}", headers=auth).status_code < 500
