"""firestore.rules, proven over the emulator's REST API.

The admin client always sends `Bearer owner`, which bypasses rules, so it only seeds and inspects
data here; every request under test carries an unsigned ID token (or none, for a customer).
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import requests

from support import staff_token

ALLOWED, DENIED = 200, 403


def unsigned_token(claims: dict) -> str:
    """For claims staff_token cannot express: a missing or malformed `stores` claim."""

    def b64(part: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


class Rest:
    """The emulator's REST API as a client SDK would use it, so rules are evaluated."""

    def __init__(self, host: str, project: str):
        self.docs = f"http://{host}/v1/projects/{project}/databases/(default)/documents"

    def _send(self, verb: str, suffix: str, token: str | None, **kwargs) -> requests.Response:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(verb, self.docs + suffix, headers=auth, **kwargs)

    def get(self, path: str, token: str | None) -> requests.Response:
        return self._send("GET", f"/{path}", token)

    def write(self, method: str, path: str, token: str | None) -> requests.Response:
        """create posts a new document at `path`; update sets one field; delete removes it."""
        body = {"fields": {"status": {"stringValue": "paid"}}}
        if method == "create":
            collection, doc_id = path.rsplit("/", 1)
            return self._send("POST", f"/{collection}", token, params={"documentId": doc_id}, json=body)
        if method == "update":
            only_status = {"updateMask.fieldPaths": "status"}
            return self._send("PATCH", f"/{path}", token, params=only_status, json=body)
        return self._send("DELETE", f"/{path}", token)

    def list_orders(self, store: str | None, token: str | None) -> requests.Response:
        """All orders, or only those with this store_id."""
        query: dict = {"from": [{"collectionId": "orders"}]}
        if store is not None:
            equal = {"field": {"fieldPath": "store_id"}, "op": "EQUAL", "value": {"stringValue": store}}
            query["where"] = {"fieldFilter": equal}
        return self._send("POST", ":runQuery", token, json={"structuredQuery": query})


@pytest.fixture
def rest(emulators) -> Rest:
    return Rest(emulators.firestore_host, emulators.project)


@pytest.fixture
def other_store() -> str:
    """A second store id; orders only reference it, so it needs no seeding."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def tokens(store_id, other_store) -> dict[str, str | None]:
    """The roles the tables below name, relative to `store_id`, the store the data belongs to."""
    return {
        "customer": None,
        "staff": staff_token({store_id: "staff"}, uid="staff-a"),
        "owner": staff_token({store_id: "owner"}, uid="owner-a"),
        "other staff": staff_token({other_store: "staff"}, uid="staff-b"),
    }


def seed_order(backend, store: str) -> str:
    order_id = uuid.uuid4().hex
    backend.db.document(f"orders/{order_id}").set({"store_id": store, "status": "placed", "total": 840})
    return order_id


# --- orders ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "owner"])
def test_staff_of_the_store_reads_its_order(rest, backend, store_id, tokens, role):
    response = rest.get(f"orders/{seed_order(backend, store_id)}", tokens[role])
    assert response.status_code == ALLOWED, response.text
    fields = response.json()["fields"]
    assert fields["store_id"] == {"stringValue": store_id}
    assert fields["status"] == {"stringValue": "placed"}
    assert fields["total"] == {"integerValue": "840"}


@pytest.mark.parametrize("role", ["customer", "other staff"])
def test_others_cannot_read_an_order(rest, backend, store_id, tokens, role):
    response = rest.get(f"orders/{seed_order(backend, store_id)}", tokens[role])
    assert response.status_code == DENIED, response.text


@pytest.mark.parametrize(
    ("stores_claim", "expected"),
    [
        (lambda store: {}, DENIED),
        (lambda store: {"stores": [store]}, DENIED),  # a list would pass `in` without the `is map` guard
        (lambda store: {"stores": store}, DENIED),
        (lambda store: {"stores": {store: "staff"}}, ALLOWED),  # control: the emulator takes such tokens
    ],
    ids=["missing", "list", "string", "map"],
)
def test_stores_claim_must_be_a_map(rest, backend, store_id, stores_claim, expected):
    token = unsigned_token({"sub": "u1", "user_id": "u1", **stores_claim(store_id)})
    response = rest.get(f"orders/{seed_order(backend, store_id)}", token)
    assert response.status_code == expected, response.text


@pytest.mark.parametrize("method", ["create", "update", "delete"])
@pytest.mark.parametrize("role", ["customer", "staff", "owner", "other staff"])
def test_nobody_writes_an_order(rest, backend, store_id, tokens, role, method):
    order_id = seed_order(backend, store_id)
    path = f"orders/{uuid.uuid4().hex}" if method == "create" else f"orders/{order_id}"
    response = rest.write(method, path, tokens[role])
    assert response.status_code == DENIED, response.text
    assert backend.db.document(f"orders/{order_id}").get().to_dict()["status"] == "placed"
    if method == "create":
        assert not backend.db.document(path).get().exists


# --- listing orders -------------------------------------------------------------------------------


def test_staff_lists_their_stores_orders(rest, backend, store_id, other_store, tokens):
    mine = {seed_order(backend, store_id), seed_order(backend, store_id)}
    seed_order(backend, other_store)
    response = rest.list_orders(store_id, tokens["staff"])
    assert response.status_code == ALLOWED, response.text
    found = [entry["document"] for entry in response.json() if "document" in entry]
    assert {d["name"].rsplit("/", 1)[1] for d in found} == mine
    assert all(d["fields"]["store_id"] == {"stringValue": store_id} for d in found)


@pytest.mark.parametrize(
    ("role", "filtered"),
    [("other staff", True), ("customer", True), ("staff", False)],
    ids=["other-store-staff", "customer", "unfiltered"],  # unfiltered: rules cannot prove it safe
)
def test_listing_orders_is_denied_unless_provably_own_store(rest, backend, store_id, tokens, role, filtered):
    seed_order(backend, store_id)
    response = rest.list_orders(store_id if filtered else None, tokens[role])
    assert response.status_code == DENIED, response.text


# --- collections no client may read ---------------------------------------------------------------

PRIVATE_PATHS = [
    "stores/{store}/journal/000000000001",
    "idempotency/{uid}",
    "store_secrets/{store}",
    "payments/{uid}",
    "archive_outbox/{store}:000000000001",
    "stores/{store}/invoice_numbers/2026-000000001",
    "giftcards/{uid}",
    "giftcards/{uid}/activities/000000001",
    "giftcard_activations/{uid}",
    "rate_limits/balance-code:{uid}:0",
]


@pytest.mark.parametrize("role", ["customer", "staff", "owner"])
@pytest.mark.parametrize("template", PRIVATE_PATHS, ids=lambda t: t.split("/")[-2])
def test_nobody_reads_private_documents(rest, backend, store_id, tokens, template, role):
    path = template.format(store=store_id, uid=uuid.uuid4().hex)
    # store_id on every document, so a rule keyed on it (like the orders rule) would show up here;
    # merge keeps the pii_key the store fixture already put into store_secrets
    backend.db.document(path).set({"store_id": store_id}, merge=True)
    response = rest.get(path, tokens[role])
    assert response.status_code == DENIED, response.text


# --- the public menu ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["customer", "staff", "other staff"])
def test_anyone_reads_the_menu(rest, store_id, tokens, role):
    store = rest.get(f"stores/{store_id}", tokens[role])
    assert store.status_code == ALLOWED, store.text
    assert store.json()["fields"]["name"] == {"stringValue": "Demo Café"}
    product = rest.get(f"stores/{store_id}/products/croissant", tokens[role])
    assert product.status_code == ALLOWED, product.text
    assert product.json()["fields"]["name"] == {"stringValue": "Butter-Croissant"}
    assert product.json()["fields"]["price"] == {"integerValue": "290"}


@pytest.mark.parametrize("method", ["create", "update", "delete"])
@pytest.mark.parametrize("role", ["customer", "staff", "owner"])
@pytest.mark.parametrize("target", ["store", "product"])
def test_nobody_writes_the_menu(rest, backend, store_id, tokens, target, role, method):
    existing = f"stores/{store_id}" if target == "store" else f"stores/{store_id}/products/croissant"
    path = f"{existing}-new" if method == "create" else existing
    before = backend.db.document(existing).get().to_dict()
    response = rest.write(method, path, tokens[role])
    assert response.status_code == DENIED, response.text
    assert backend.db.document(existing).get().to_dict() == before
    if method == "create":
        assert not backend.db.document(path).get().exists
