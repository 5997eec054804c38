"""Statements on the in-memory backend over a week told by the clock: orders on several days, two
closings, a refund, a payout covering some payments and the refund; the statement's lines, totals,
tie-out, archived files with their manifest and signed note, and download links."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from test_use_cases import STAFF, STORE, order, pay, refund

from tresen.adapters import clock
from tresen.domain.errors import DomainError
from tresen.domain.payments import PayoutEvent
from tresen.domain.signed_note import open_note
from tresen.services.closings import CloseStore, close_store
from tresen.services.journal_ports import ArchiveConflict
from tresen.services.statements import CreateStatement, create_statement, read_statement
from tresen.services.unit_of_work import RetryLater
from tresen.services.webhooks import HandleEvent, handle_event

MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)  # 10:00 in the store (Europe/Berlin)
FINANCE = {"type": "staff", "uid": "f1", "role": "finance"}


@pytest.fixture
def week(backend, monkeypatch):
    """Monday: two online orders paid and one on site, refund 100 of the first; closed. Thursday:
    one online order paid; closed. A payout on Friday pays out Monday's payments and the refund."""
    moment = [MONDAY]
    monkeypatch.setattr(clock, "now", lambda: moment[0])
    monday = [order(backend, "online"), order(backend, "online")]
    for n, placed in enumerate(monday):
        pay(backend, placed, event_id=f"evt_mon_{n}")
    order(backend, "on_site")
    refunded = refund(backend, monday[0].id, 100)
    close_store(CloseStore(STORE, STAFF), backend)
    moment[0] = MONDAY + timedelta(days=3)
    thursday = order(backend, "online")
    pay(backend, thursday, event_id="evt_thu")
    close_store(CloseStore(STORE, STAFF), backend)
    moment[0] = MONDAY + timedelta(days=4)
    provider_refund = backend.docs.get(f"refunds/{refunded.id}").data["provider_refund_id"]
    items = [
        {"payment_id": monday[0].payment.id, "amount": 840, "fee": 30},
        {"payment_id": monday[1].payment.id, "amount": 840, "fee": 31},
        {"payment_id": monday[0].payment.id, "refund_id": provider_refund, "amount": -100, "fee": 0},
    ]
    payout = {"payout_id": "po_1", "arrival_date": "2026-11-20", "amount": 1519, "currency": "EUR", "items": items}
    handle_event(HandleEvent(PayoutEvent("sandbox", "evt_po_1", "payout.paid", payout), b"{}"), backend)
    moment[0] = MONDAY + timedelta(days=7)
    return monday, thursday, refunded, provider_refund


def test_a_week_statement_matches_the_payout_and_ties_out_with_both_closings(backend, week):
    monday, thursday, made_refund, provider_refund = week
    summary = create_statement(CreateStatement(STORE, date(2026, 11, 16), date(2026, 11, 22), FINANCE), backend)
    assert summary["closings"]["z_numbers"] == [1, 2]
    assert (summary["closings"]["covered"], summary["closings"]["ties_out"]) == (True, True)
    assert summary["totals"]["payments"] == {"on_site": 840, "online": 3 * 840, "giftcard": 0, "card_present": 0}
    assert summary["totals"]["provider"] == {
        "payments": 3 * 840,
        "refunds": 100,
        "fees": 61,
        "net": 3 * 840 - 100 - 61,
        "paid_out": 840 - 30 + 840 - 31 - 100,
        "not_paid_out": 840,
    }
    assert summary["counts"] == {"payments": 3, "refunds": 1, "unmatched": 1, "mismatched": 0, "payouts": 1}

    objects = backend.archive.store.objects
    folder = f"statements/{STORE}/{summary['id']}/"
    names = sorted(name.removeprefix(folder) for name in objects if name.startswith(folder))
    assert names == sorted(file["name"] for file in summary["files"])
    for file in summary["files"]:
        content = objects[folder + file["name"]]
        assert (len(content), hashlib.sha256(content).hexdigest()) == (file["size"], file["sha256"])

    body = json.loads(objects[next(folder + n for n in names if n.endswith(".json") and n != "manifest.json")])
    lines = {line["payment_id"]: line for line in body["payments"]}
    assert [(lines[p.payment.id]["fee"], lines[p.payment.id]["net"]) for p in monday] == [(30, 810), (31, 809)]
    assert lines[thursday.payment.id]["payout_id"] is None
    assert body["unmatched"] == [
        {"kind": "payment", "id": thursday.payment.id, "amount": 840, "reason": "not paid out yet"}
    ]
    assert [(r["refund_id"], r["provider_refund_id"], r["invoice_number"], r["matched"]) for r in body["refunds"]] == [
        (made_refund.id, provider_refund, lines[monday[0].payment.id]["invoice_number"], True)
    ]

    manifest = objects[folder + "manifest.json"]
    note = open_note(objects[folder + "manifest.sig"].decode(), [backend.signer.verifier])
    digest = base64.b64encode(hashlib.sha256(manifest).digest()).decode()
    assert note.text.split("\n")[1:3] == [f"statement {summary['id']}", digest]


def test_the_statement_is_journaled_and_read_back_with_a_link_per_file(backend, week):
    summary = create_statement(CreateStatement(STORE, date(2026, 11, 16), date(2026, 11, 22), FINANCE), backend)
    entries = backend.docs.query(f"stores/{STORE}/journal", order_by=[("seq", True)], limit=1)
    assert (entries[0].data["type"], entries[0].data["v"], entries[0].data["data"]) == (
        "statement.created",
        2,
        summary,
    )
    linked = read_statement(backend, STORE, summary["id"])
    assert [f["url"] for f in linked["files"]] == [
        f"memory://archive/statements/{STORE}/{summary['id']}/{f['name']}?filename={f['name']}"
        for f in summary["files"]
    ]
    assert linked["files"][0]["expires_at"] == "2026-11-23T09:15:00+00:00"


def test_days_not_closed_yet_are_named(backend, week):
    monday_only = create_statement(CreateStatement(STORE, date(2026, 11, 16), date(2026, 11, 16), FINANCE), backend)
    assert monday_only["closings"]["z_numbers"] == [1] and monday_only["closings"]["ties_out"]
    later = create_statement(CreateStatement(STORE, date(2026, 11, 23), date(2026, 11, 23), FINANCE), backend)
    assert later["closings"]["note"].startswith("no closing") and later["counts"]["payments"] == 0


def test_a_period_backwards_or_too_long_is_refused(backend):
    for first, last in ((date(2026, 11, 22), date(2026, 11, 16)), (date(2025, 1, 1), date(2026, 11, 16))):
        with pytest.raises(DomainError) as refused:
            create_statement(CreateStatement(STORE, first, last, FINANCE), backend)
        assert refused.value.code == "validation_failed"


def test_a_statement_of_another_store_or_none_at_all_is_not_found(backend, week):
    summary = create_statement(CreateStatement(STORE, date(2026, 11, 16), date(2026, 11, 22), FINANCE), backend)
    for store_id, statement_id in (("other", summary["id"]), (STORE, "stm_nothing")):
        with pytest.raises(DomainError) as refused:
            read_statement(backend, store_id, statement_id)
        assert refused.value.code == "statement_not_found"


def test_an_archive_that_does_not_answer_is_retried_later_and_nothing_is_kept(backend, week, monkeypatch):
    def unreachable(*_):
        raise ConnectionError("archive unreachable")

    head = backend.journal.head(STORE)
    monkeypatch.setattr(backend.statement_archive, "keep", unreachable)
    with pytest.raises(RetryLater):
        create_statement(CreateStatement(STORE, date(2026, 11, 16), date(2026, 11, 22), FINANCE), backend)
    assert backend.journal.head(STORE) == head
    assert backend.docs.query(f"stores/{STORE}/statements") == []


def test_a_file_archived_already_with_other_content_is_never_overwritten(backend, week, monkeypatch):
    def taken(store_id, statement_id, name, content):
        raise ArchiveConflict(f"{name} exists with different content")

    monkeypatch.setattr(backend.statement_archive, "keep", taken)
    with pytest.raises(ArchiveConflict):
        create_statement(CreateStatement(STORE, date(2026, 11, 16), date(2026, 11, 22), FINANCE), backend)
    assert backend.docs.query(f"stores/{STORE}/statements") == []
