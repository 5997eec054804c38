"""An outsider checks the merchant's books against a running `tresen dev` with nothing of Tresen's
code: the checkpoint's Ed25519 signature, an order's inclusion proof, a customer's tlog-proof and
the consistency of two checkpoints, each verified by the few lines below written from the RFCs."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from merchant import Merchant, customer_order, pay_at_checkout
from stack import RunningStack

pytestmark = pytest.mark.e2e
CART = [{"product_id": "croissant", "quantity": 2}]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def canonical(entry: dict) -> bytes:
    """RFC 8785 for the journal's plain values (ints, ASCII keys): sorted keys, no spaces."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verified_text(note: str, vkey: str) -> str:
    """The text of a C2SP signed note signed by the C2SP verifier key `vkey`, or an AssertionError."""
    name, key_id, key = vkey.split("+", 2)
    text, signatures = note.rsplit("\n\n", 1)
    line = next(line for line in signatures.splitlines() if line.startswith(f"\u2014 {name} "))
    signed = base64.b64decode(line.rsplit(" ", 1)[1])
    assert signed[:4].hex() == key_id
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key)[1:]).verify(signed[4:], (text + "\n").encode())
    return text + "\n"


def signed_checkpoint(note: str, vkey: str) -> tuple[str, int, bytes]:
    """(origin, size, root) of a checkpoint signed by `vkey`, or an AssertionError."""
    origin, size, root = verified_text(note, vkey).split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


def roots_from_consistency(old: int, new: int, old_root: bytes, proof: list[bytes]) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2: the old and new roots the proof leads to."""
    path = [old_root, *proof] if old & (old - 1) == 0 else proof
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if fn & 1 or fn == sn:
            fr, sr = sha256(b"\x01" + c + fr), sha256(b"\x01" + c + sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return fr, sr


def hashes(encoded: list[str]) -> list[bytes]:
    return [base64.b64decode(h) for h in encoded]


def test_an_outsider_verifies_checkpoints_and_proofs():
    with RunningStack() as stack:
        base, shop = stack.url, Merchant(stack.url)
        finance = Merchant(base, role="finance")
        orders = [customer_order(base, CART) for _ in range(3)]
        for placed in orders:
            pay_at_checkout(base, placed)

        first = shop.post("/v1/stores/demo/journal/checkpoints", status=201)
        assert shop.post("/v1/stores/demo/journal/checkpoints", status=200) == first  # not grown: not signed again
        assert finance.get("/v1/stores/demo/journal/checkpoints/latest").json() == first
        [key] = requests.get(f"{base}/v1/journal/public-keys", timeout=10).json()
        assert (key["key_id"], key["valid_to"]) == (first["key_id"], None)
        origin, size, root = signed_checkpoint(first["note"], key["vkey"])
        assert (origin, size, base64.b64encode(root).decode()) == (
            "tresen/demo-tresen/demo",
            first["size"],
            first["root"],
        )

        # the payment of the first order is in the signed tree
        paid_order = orders[0]["id"]
        entries = [finance.get(f"/v1/stores/demo/journal/entries/{seq}").json() for seq in range(1, size + 1)]
        paid = next(
            e for e in entries if e["entry"]["type"] == "order.paid" and e["entry"]["data"]["order_id"] == paid_order
        )
        leaf = sha256(b"\x00" + canonical(paid["entry"]))
        assert paid["tree_size"] == size and paid["leaf_index"] == paid["entry"]["seq"] - 1
        assert root_from_inclusion(leaf, paid["leaf_index"], size, hashes(paid["proof"])) == root
        altered = dict(paid["entry"], at="2020-01-01T00:00:00+00:00")
        assert (
            root_from_inclusion(sha256(b"\x00" + canonical(altered)), paid["leaf_index"], size, hashes(paid["proof"]))
            != root
        )

        # the customer's receipt: a C2SP tlog-proof per entry of the order, self-contained
        token = {"X-Order-Token": orders[0]["access_token"]}
        proofs = requests.get(f"{base}/v1/orders/{paid_order}/proof", headers=token, timeout=10)
        assert proofs.status_code == 200, proofs.text
        receipts = proofs.json()["proofs"]
        assert [r["type"] for r in receipts] == ["order.placed", "order.paid"]
        for receipt in receipts:
            lines, _, note = receipt["proof"].partition("\n\n")
            header, extra, index, *path = lines.split("\n")
            assert header == "c2sp.org/tlog-proof@v1"
            entry_bytes = base64.b64decode(extra.removeprefix("extra "))
            assert json.loads(entry_bytes)["seq"] == receipt["seq"]
            proved_root = root_from_inclusion(
                sha256(b"\x00" + entry_bytes), int(index.removeprefix("index ")), size, hashes(path)
            )
            assert proved_root == signed_checkpoint(note, key["vkey"])[2] == root
        wrong_token = requests.get(f"{base}/v1/orders/{paid_order}/proof", headers={"X-Order-Token": "x"}, timeout=10)
        assert wrong_token.status_code == 404

        # the books grow; the second checkpoint extends the first
        for _ in range(2):
            pay_at_checkout(base, customer_order(base, CART))
        second = shop.post("/v1/stores/demo/journal/checkpoints", status=201)
        _, new_size, new_root = signed_checkpoint(second["note"], key["vkey"])
        assert new_size > size
        proof = finance.get(f"/v1/stores/demo/journal/consistency?from={size}&to={new_size}").json()
        assert (proof["from"], proof["to"]) == (size, new_size)
        assert roots_from_consistency(size, new_size, root, hashes(proof["proof"])) == (root, new_root)
        listed = finance.get("/v1/stores/demo/journal/checkpoints").json()
        assert [c["size"] for c in listed["data"]] == [size, new_size] and listed["has_more"] is False
