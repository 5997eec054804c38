"""Closings on the in-memory backend: gap-free z numbers, nothing closed twice, a later refund in
the next closing, concurrent closings, and the nightly job's 05:00 store time across DST."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from test_use_cases import STAFF, STORE, instances, order, pay, refund

from tresen.adapters.backend import Backend
from tresen.adapters.records import closing_path
from tresen.domain.closings import FIRST_PREVIOUS_HASH, closing_hash
from tresen.domain.errors import DomainError
from tresen.domain.signed_note import open_note
from tresen.services.closings import close_store, due_for_closing, list_closings
from tresen.services.verify import firestore_entries


def test_a_closing_covers_everything_since_the_previous_one_and_chains_to_it(backend):
    on_site = order(backend)
    online = order(backend, "online")
    pay(backend, online)
    first = close_store(backend, STORE, STAFF)
    assert (first["z_number"], first["first_seq"], first["last_seq"]) == (1, 1, 3)
    assert first["payments"] == {"on_site": on_site.totals.total, "online": online.totals.total, "giftcard": 0}
    assert first["counts"]["sales"] == 2 and first["previous_hash"] == FIRST_PREVIOUS_HASH
    assert first["hash"] == closing_hash(first)
    opened = open_note(first["checkpoint"]["note"], [backend.signer.verifier])
    assert opened.text.split("\n")[1] == "3"  # the checkpoint at the closing's last entry
    assert firestore_entries(backend.docs, STORE)[-1]["type"] == "closing.created"

    with pytest.raises(DomainError) as nothing:
        close_store(backend, STORE, STAFF)
    assert nothing.value.code == "nothing_to_close"

    refund(backend, online.id, 100)  # yesterday's order, refunded today: the next closing's
    second = close_store(backend, STORE, STAFF)
    assert (second["z_number"], second["first_seq"], second["previous_hash"]) == (2, 4, first["hash"])
    assert (second["refunds"]["count"], second["refunds"]["amount"], second["counts"]["sales"]) == (1, 100, 0)
    assert [c["z_number"] for c in list_closings(backend.docs, STORE, 10)[0]] == [1, 2]


def test_of_two_closings_at_once_one_wins_and_the_other_finds_nothing_left():
    first, second = instances(2)
    order(first)
    outcomes = []

    def close(instance: Backend) -> None:
        try:
            outcomes.append(close_store(instance, STORE, STAFF)["z_number"])
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=close, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [1, "nothing_to_close"]


@pytest.mark.parametrize(
    ("closed_at", "now", "due"),
    [
        # closed on Friday; the night to Sunday the clocks go forward: due at 05:00 CEST, not before
        ("2026-03-27T12:00:00+01:00", datetime(2026, 3, 29, 2, 59, tzinfo=UTC), False),
        ("2026-03-27T12:00:00+01:00", datetime(2026, 3, 29, 3, 0, tzinfo=UTC), True),
        # closed on Friday; the night to Sunday the clocks go back: due at 05:00 CET, not before
        ("2026-10-23T12:00:00+02:00", datetime(2026, 10, 25, 3, 59, tzinfo=UTC), False),
        ("2026-10-23T12:00:00+02:00", datetime(2026, 10, 25, 4, 0, tzinfo=UTC), True),
        # closed on Saturday evening: that day is closed, Sunday morning nothing is due
        ("2026-10-24T23:30:00+02:00", datetime(2026, 10, 25, 4, 0, tzinfo=UTC), False),
    ],
)
def test_the_nightly_job_closes_a_day_nobody_closed_by_five_store_time_across_dst(backend, closed_at, now, due):
    batch = backend.docs.batch()
    batch.set(closing_path(STORE, 1), {"store_id": STORE, "z_number": 1, "closed_at": closed_at})
    batch.commit()
    assert due_for_closing(backend, STORE, now) is due


def test_a_store_never_closed_is_due(backend):
    assert due_for_closing(backend, STORE, datetime(2026, 11, 23, 12, tzinfo=UTC)) is True


def test_verify_recomputes_every_z_report_and_names_one_that_does_not_add_up(backend):
    from tresen.domain.journal import canonical_bytes
    from tresen.services import journal_audit as audit

    order(backend)
    close_store(backend, STORE, STAFF)
    placed = order(backend, "online")
    pay(backend, placed)
    refund(backend, placed.id, 100)
    close_store(backend, STORE, STAFF)
    raws = [canonical_bytes(entry) for entry in firestore_entries(backend.docs, STORE)]
    closings = [seq for seq, raw in enumerate(raws, start=1) if raw.endswith(audit.CLOSING_MARK)]
    assert closings == [2, 7]
    assert audit.closing_problems(closings, lambda seq: raws[seq - 1]) == []

    forged = [bytearray(raw) for raw in raws]
    forged[6] = bytearray(bytes(forged[6]).replace(b'"tips":0', b'"tips":5'))
    [problem] = audit.closing_problems(closings, lambda seq: bytes(forged[seq - 1]))
    assert problem.text == "seq 7: Z-report 2 does not add up from entries 2-6 (tips)"
    dropped = audit.closing_problems([7], lambda seq: raws[seq - 1])
    assert dropped[0].text == "seq 7: Z-report 2 covers entries 2-6, not 1 on"
