"""Every operation of /v1/openapi.json, fuzzed by schemathesis: the server answers only what the
document says it may (statuses, media types, bodies, headers), and never with a 5xx.

Requests are made as the owner of a real store, with a real order and card half of the time, so
they reach the use cases and not only the 404 of an unknown id; every call has a fresh
Idempotency-Key.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support import idem, order_body, staff_token
from tresen.http.app import api_document
from tresen.wiring import entry_router as router

router()  # registers every route

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SMALL_BLOCK = 3  # a block activation of thousands would run on for minutes after the test; its size has its own tests


@pytest.fixture(scope="module")
def known(app, backend):
    """A store of our own with an order and a gift card in it."""
    from dataclasses import replace

    from tresen.services.seed import DEMO_PRODUCTS, DEMO_STORE, SeedStore, seed_store

    store_id = f"f{uuid.uuid4().hex[:12]}"
    seed_store(SeedStore(replace(DEMO_STORE, id=store_id), DEMO_PRODUCTS), backend)
    client = app.test_client()
    owner = {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}
    order = client.post(f"/v1/stores/{store_id}/orders", json=order_body(), headers=idem()).get_json()
    card = client.post(f"/v1/stores/{store_id}/giftcards", json={"amount": 5000}, headers=owner | idem()).get_json()
    return {"store": store_id, "order": order["id"], "code": card["code"], "headers": owner}


@pytest.fixture(autouse=True)
def live_streams_end_at_once(monkeypatch):
    """A live stream answers until its lifetime is up: here one second, not five minutes."""
    from dataclasses import replace

    from tresen.config import settings
    from tresen.http import live_routes

    shortened = replace(settings(), live_seconds=1)
    monkeypatch.setattr(live_routes, "settings", lambda: shortened)


schema = schemathesis.openapi.from_dict(api_document())
# bodies, parameters and headers that fit the document, and ones that break it on purpose
schema.config.generation.update(modes=list(GenerationMode))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_only_what_the_document_says(case, app, known):
    parameters = case.path_parameters or {}
    for name in ("store", "order", "code"):
        # the store always (a random one only ever answers 403); an order or card half of the time
        if name in parameters and (name == "store" or len(parameters[name]) % 2 == 0):
            parameters[name] = known[name]
    if isinstance(case.body, dict) and isinstance(case.body.get("count"), int) and case.body["count"] > SMALL_BLOCK:
        case.body["count"] = SMALL_BLOCK
    headers = dict(known["headers"])
    if case.headers and "Idempotency-Key" in case.headers:
        headers["Idempotency-Key"] = str(uuid.uuid4())
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
