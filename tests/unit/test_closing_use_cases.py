"""Closings on the in-memory backend: gap-free z numbers, nothing closed twice, a later refund in
the next closing, a refund failing after its closing added back in the next, concurrent closings,
and the nightly job's 05:00 store time across DST."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from test_use_cases import STAFF, STORE, instances, order, pay, refund

from tresen.adapters import clock
from tresen.adapters.backend import Backend
from tresen.domain.closings import FIRST_PREVIOUS_HASH, RefundFigures, closing_hash
from tresen.domain.errors import DomainError
from tresen.domain.money import VatLine
from tresen.domain.payments import RefundEvent
from tresen.domain.refunds import ReportedRefund
from tresen.domain.signed_note import open_note
from tresen.services.closings import CloseStore, close_store, closing_at, due_for_closing, list_closings
from tresen.services.order_views import order_for_staff
from tresen.services.payments import handle_refund_event

NO_REFUNDS = RefundFigures(0, 0, (), {"on_site": 0, "online": 0, "giftcard": 0, "card_present": 0})


def test_a_closing_covers_everything_since_the_previous_one_and_chains_to_it(backend):
    on_site = order(backend)
    online = order(backend, "online")
    pay(backend, online)
    first = close_store(CloseStore(STORE, STAFF), backend)
    assert (first.z_number, first.first_seq, first.last_seq) == (1, 1, 3)
    assert first.payments == {
        "on_site": on_site.totals.total,
        "online": online.totals.total,
        "giftcard": 0,
        "card_present": 0,
    }
    assert first.counts["sales"] == 2 and first.previous_hash == FIRST_PREVIOUS_HASH
    assert first.hash == closing_hash(first.as_dict())
    assert closing_at(backend, STORE, 1) == first
    opened = open_note(first.checkpoint.note, [backend.signer.verifier])
    assert opened.text.split("\n")[1] == "3"  # the checkpoint at the closing's last entry
    [closed] = [entry for entry in backend.journal.entries(STORE) if entry["type"] == "closing.created"]
    assert closed["seq"] == 4 and closed["data"] == first.as_dict()

    with pytest.raises(DomainError) as nothing:
        close_store(CloseStore(STORE, STAFF), backend)
    assert nothing.value.code == "nothing_to_close"

    refund(backend, online.id, 100)  # yesterday's order, refunded today: the next closing's
    second = close_store(CloseStore(STORE, STAFF), backend)
    assert (second.z_number, second.first_seq, second.previous_hash) == (2, 4, first.hash)
    assert (second.refunds.count, second.refunds.amount, second.counts["sales"]) == (1, 100, 0)
    assert [c.z_number for c in list_closings(backend, STORE, 10)[0]] == [1, 2]


def fail_at_provider(backend: Backend, refund_id: str, event_id: str) -> None:
    """The sandbox's webhook: the provider could not pay this refund back after all."""
    stored = backend.docs.get(f"refunds/{refund_id}").data
    reported = ReportedRefund(stored["provider_refund_id"], stored["provider_amount"], "failed", None, refund_id)
    handle_refund_event(RefundEvent("sandbox", event_id, "refund.failed", stored["payment_id"], (reported,)), backend)


def test_a_refund_failing_after_its_closing_is_added_back_in_the_next(backend):
    from tresen.domain.journal import canonical_bytes
    from tresen.services import journal_audit as audit

    placed = order(backend, "online")  # 2 croissants (580 at 7 %) and an espresso (260 at 19 %)
    pay(backend, placed)
    made = refund(backend, placed.id, 300)
    first = close_store(CloseStore(STORE, STAFF), backend)
    split_300 = (VatLine("7", 193, 14, 207), VatLine("19", 78, 15, 93))
    by_method = {"on_site": 0, "online": 300, "giftcard": 0, "card_present": 0}
    assert first.refunds == RefundFigures(1, 300, split_300, by_method)
    assert first.failed_refunds == NO_REFUNDS

    fail_at_provider(backend, made.id, "evt_refund_failed")
    assert order_for_staff(backend, STORE, placed.id).refunded_amount == 0  # refundable again
    second = close_store(CloseStore(STORE, STAFF), backend)
    assert second.failed_refunds == RefundFigures(1, 300, split_300, by_method)
    assert (second.refunds, second.counts["sales"], second.payments["online"]) == (NO_REFUNDS, 0, 0)
    # over both closings: paid 840 online, nothing paid back
    closings = (first, second)
    paid_back = sum(c.refunds.by_method["online"] - c.failed_refunds.by_method["online"] for c in closings)
    assert (sum(c.payments["online"] for c in closings), paid_back) == (840, 0)

    entries = backend.journal.entries(STORE)
    [failed] = [entry["data"] for entry in entries if entry["type"] == "refund.failed"]
    assert failed["failed_refund"] == {
        "method": "online",
        "amount": 300,
        "vat": [{"rate": "7", "net": 193, "tax": 14, "gross": 207}, {"rate": "19", "net": 78, "tax": 15, "gross": 93}],
    }
    raws = [canonical_bytes(entry) for entry in entries]
    seqs = [seq for seq, raw in enumerate(raws, start=1) if audit.is_closing(raw)]
    assert seqs == [5, 7]
    assert audit.closing_problems(seqs, lambda seq: raws[seq - 1]) == []  # recomputed from the journal alone


def test_of_two_closings_at_once_one_wins_and_the_other_finds_nothing_left():
    first, second = instances(2)
    order(first)
    outcomes = []

    def close(instance: Backend) -> None:
        try:
            outcomes.append(close_store(CloseStore(STORE, STAFF), instance).z_number)
        except DomainError as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=close, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [1, "nothing_to_close"]


def test_an_entry_appended_while_a_closing_commits_is_left_to_the_next_closing(backend, monkeypatch):
    """The checkpoint is signed once, before the commit; a commit that meets another writer's
    entry builds again on the same closing, which still ends where it was signed."""
    from tresen.services import closings

    placed = order(backend)
    signed = []
    sign = closings.sign_checkpoint

    def sign_then_another_order(*args, **kwargs):
        found = sign(*args, **kwargs)
        signed.append(found[0].size)
        if len(signed) == 1:
            order(backend)  # appended after the head the closing covers
        return found

    monkeypatch.setattr(closings, "sign_checkpoint", sign_then_another_order)
    first = close_store(CloseStore(STORE, STAFF), backend)
    assert (signed, first.last_seq, first.checkpoint.size, first.counts["orders_placed"]) == ([1], 1, 1, 1)
    assert first.payments["on_site"] == placed.totals.total
    second = close_store(CloseStore(STORE, STAFF), backend)
    assert (second.first_seq, second.last_seq, second.counts["orders_placed"]) == (2, 3, 1)


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
def test_the_nightly_job_closes_a_day_nobody_closed_by_five_store_time_across_dst(
    backend, monkeypatch, closed_at, now, due
):
    monkeypatch.setattr(clock, "now", lambda: datetime.fromisoformat(closed_at).astimezone(UTC))
    order(backend)
    assert close_store(CloseStore(STORE, STAFF), backend).closed_at == closed_at
    assert due_for_closing(backend, STORE, now) is due


def test_a_store_never_closed_is_due(backend):
    assert due_for_closing(backend, STORE, datetime(2026, 11, 23, 12, tzinfo=UTC)) is True


def test_verify_recomputes_every_z_report_and_names_one_that_does_not_add_up(backend):
    from tresen.domain.journal import canonical_bytes
    from tresen.services import journal_audit as audit

    order(backend)
    close_store(CloseStore(STORE, STAFF), backend)
    placed = order(backend, "online")
    pay(backend, placed)
    refund(backend, placed.id, 100)
    close_store(CloseStore(STORE, STAFF), backend)
    raws = [canonical_bytes(entry) for entry in backend.journal.entries(STORE)]
    closings = [seq for seq, raw in enumerate(raws, start=1) if audit.is_closing(raw)]
    assert closings == [2, 7]
    assert audit.closing_problems(closings, lambda seq: raws[seq - 1]) == []

    forged = [bytearray(raw) for raw in raws]
    forged[6] = bytearray(bytes(forged[6]).replace(b'"tips":0', b'"tips":5'))
    [problem] = audit.closing_problems(closings, lambda seq: bytes(forged[seq - 1]))
    assert problem.text == "seq 7: Z-report 2 does not add up from entries 2-6 (tips)"
    dropped = audit.closing_problems([7], lambda seq: raws[seq - 1])
    assert dropped[0].text == "seq 7: Z-report 2 covers entries 2-6, not 1 on"
