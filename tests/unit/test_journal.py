import copy
import hashlib

from hypothesis import given
from hypothesis import strategies as st

from tresen.domain.journal import GENESIS_HASH, JournalEvent, first_chain_break, make_entry, pseudonym


def chain(length: int) -> list[dict]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        entry = make_entry(
            store_id="s",
            seq=seq,
            event=JournalEvent("order.canceled", {"order_id": f"o{seq}", "reason": "expired"}),
            at="2026-11-23T12:00:00+00:00",
            actor={"type": "customer"},
            prev_hash=prev,
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def test_a_fresh_chain_verifies():
    entries = chain(5)
    assert entries[0]["prev_hash"] == GENESIS_HASH
    assert first_chain_break(entries) is None


def test_hash_is_sha256_over_canonical_json_without_hash():
    entry = chain(1)[0]
    canonical = (
        b'{"actor":{"type":"customer"},"at":"2026-11-23T12:00:00+00:00","data":{"order_id":"o1","reason":"expired"},'
        b'"prev_hash":"' + GENESIS_HASH.encode() + b'","seq":1,"store_id":"s","type":"order.canceled"}'
    )
    assert entry["hash"] == hashlib.sha256(canonical).hexdigest()


def test_missing_and_reordered_entries_are_named():
    entries = chain(4)
    assert first_chain_break(entries[:2] + entries[3:]) == (3, "missing or out of order (found seq 4)")
    assert first_chain_break([entries[1], entries[0]])[0] == 1


@given(st.integers(0, 5), st.sampled_from(["type", "at", "actor", "data", "prev_hash", "seq", "store_id"]))
def test_any_change_to_an_entry_breaks_verification_at_that_entry(index, field):
    entries = chain(6)
    tampered = copy.deepcopy(entries)
    tampered[index][field] = {"changed": True} if isinstance(entries[index][field], dict) else "changed"
    broken = first_chain_break(tampered)
    assert broken is not None and broken[0] == index + 1


def test_pseudonym_is_keyed_and_normalised():
    assert pseudonym(b"k1", "Anna@Example.com ") == pseudonym(b"k1", "anna@example.com")
    assert pseudonym(b"k1", "anna@example.com") != pseudonym(b"k2", "anna@example.com")
    assert "anna" not in pseudonym(b"k1", "anna@example.com")
