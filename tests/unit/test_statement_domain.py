"""The statement's pure parts: which provider items a period names, how each is matched to a
payout (or listed as unmatched or mismatched), the provider's totals, the tie-out with closings,
and the signed manifest's text."""

from __future__ import annotations

import base64
import hashlib
import json

from tresen.domain import statements as st


def entry(seq: int, kind: str, data: dict, at: str = "2026-11-16T11:00:00+00:00") -> dict:
    return {"seq": seq, "type": kind, "data": data, "at": at}


def paid(seq: int, payment_id: str, amount: int, invoice: str) -> dict:
    sale = {"payment_method": "online", "total": amount, "tip": 0, "gift_card_amount": 0, "giftcards_sold": 0}
    sale["vat"] = [{"rate": "19", "gross": amount, "net": round(amount / 1.19), "tax": amount - round(amount / 1.19)}]
    data = {"order_id": f"ord_{seq}", "payment_id": payment_id, "provider": "sandbox", "amount": amount}
    return entry(seq, "order.paid", data | {"invoice_number": invoice, "sale": sale})


def refunded(seq: int, refund_id: str, payment_id: str, amount: int) -> dict:
    data = {"id": refund_id, "order_id": "ord_1", "payment_id": payment_id, "amount": amount}
    return entry(seq, "refund.created", data | {"provider_amount": amount, "giftcard_amount": 0, "method": "online"})


def match(kind: str, object_id: str, amount: int, fee: int, payout: str = "po_1") -> dict:
    return {
        "provider": "sandbox",
        "kind": kind,
        "object_id": object_id,
        "payout_id": payout,
        "arrival_date": "2026-11-20",
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
    }


def gathered(entries: list[dict]) -> tuple[st.ProviderItems, dict]:
    items = st.ProviderItems()
    figures = st.statement_figures(items.gather(entries))
    return items, figures


def week() -> list[dict]:
    return [
        paid(1, "pay_a", 1840, "R-1"),
        paid(2, "pay_b", 990, "R-2"),
        paid(3, "pay_c", 500, "R-3"),
        refunded(4, "ref_1", "pay_a", 300),
        entry(5, "refund.succeeded", {"id": "ref_1", "order_id": "ord_1", "provider_refund_id": "sbx_re_1"}),
        entry(6, "closing.created", {"z_number": 1}),
    ]


def test_each_item_is_matched_to_its_payout_or_listed_apart_with_the_reason():
    items, _ = gathered(week())
    payments = {"pay_a": match("payment", "pay_a", 1840, 53), "pay_b": match("payment", "pay_b", 900, 26)}
    refunds = {"sbx_re_1": match("refund", "sbx_re_1", -300, 0)}
    lines, refund_lines, unmatched, mismatched = st.statement_lines(items, payments, refunds)

    assert [(p["payment_id"], p["fee"], p["net"], p["payout_id"], p["matched"]) for p in lines] == [
        ("pay_a", 53, 1787, "po_1", True),
        ("pay_b", 26, 874, "po_1", False),
        ("pay_c", None, None, None, False),
    ]
    assert [(r["refund_id"], r["provider_refund_id"], r["net"], r["matched"]) for r in refund_lines] == [
        ("ref_1", "sbx_re_1", -300, True)
    ]
    assert unmatched == [{"kind": "payment", "id": "pay_c", "amount": 500, "reason": st.NOT_PAID_OUT}]
    assert mismatched == [
        {
            "kind": "payment",
            "id": "pay_b",
            "payout_id": "po_1",
            "expected": 990,
            "reported": 900,
            "reason": st.OTHER_AMOUNT,
        }
    ]


def test_a_refund_the_provider_reversed_is_listed_as_mismatched():
    entries = [*week(), entry(7, "refund.failed", {"id": "ref_1", "order_id": "ord_1"})]
    items, _ = gathered(entries)
    *_, mismatched = st.statement_lines(items, {}, {"sbx_re_1": match("refund", "sbx_re_1", -300, 0)})
    assert [(m["id"], m["reason"]) for m in mismatched] == [("ref_1", st.REFUND_FAILED)]


def test_provider_totals_add_up_payments_refunds_fees_and_what_was_paid_out():
    items, _ = gathered(week())
    payments = {"pay_a": match("payment", "pay_a", 1840, 53)}
    lines, refund_lines, _, _ = st.statement_lines(items, payments, {"sbx_re_1": match("refund", "sbx_re_1", -300, 0)})
    assert st.provider_totals(lines, refund_lines) == {
        "payments": 1840 + 990 + 500,
        "refunds": 300,
        "fees": 53,
        "net": 1840 + 990 + 500 - 300 - 53,
        "paid_out": 1787 - 300,
        "not_paid_out": 990 + 500,
    }


def closing(z: int, first: int, last: int, online: int, refunds_online: int = 0) -> dict:
    methods = {"on_site": 0, "online": online, "giftcard": 0}
    return {
        "z_number": z,
        "first_seq": first,
        "last_seq": last,
        "payments": methods,
        "refunds": {"by_method": {"on_site": 0, "online": refunds_online, "giftcard": 0}},
        "tips": 0,
        "giftcards": {"sold": 0},
    }


def test_totals_tie_out_with_the_closings_that_cover_the_period_exactly():
    items, figures = gathered(week())
    totals = st.book_totals(figures)
    two = [closing(2, 4, 5, 0, 300), closing(1, 1, 3, 1840 + 990 + 500)]
    summary = st.closings_summary(two, items.seqs, totals)
    assert summary == {
        "z_numbers": [1, 2],
        "first_seq": 1,
        "last_seq": 5,
        "covered": True,
        "note": "Z 1–2 cover every entry of the period",
        "payments": {"on_site": 0, "online": 3330, "giftcard": 0, "card_present": 0},
        "ties_out": True,
    }


def test_a_period_not_closed_to_its_end_says_which_entries_are_open():
    items, figures = gathered(week())
    summary = st.closings_summary([closing(1, 1, 3, 3330)], items.seqs, st.book_totals(figures))
    assert (summary["covered"], summary["ties_out"]) == (False, False)
    assert summary["note"] == "Z 1 do not cover entries 4–5 of the period (not closed yet)"
    assert st.closings_summary([], items.seqs, st.book_totals(figures))["note"].startswith("no closing")


def test_closings_whose_figures_differ_do_not_tie_out():
    items, figures = gathered(week())
    off_by_a_cent = [closing(1, 1, 3, 3329), closing(2, 4, 5, 0, 300)]
    assert st.closings_summary(off_by_a_cent, items.seqs, st.book_totals(figures))["ties_out"] is False


def test_the_manifest_lists_each_file_and_its_note_signs_the_manifest_hash():
    files = [st.file_entry("a.json", b"{}\n"), st.file_entry("a.csv", b"x\r\n")]
    manifest = st.manifest_bytes("stm_1", "cafe", ("2026-11-16", "2026-11-22"), files)
    assert json.loads(manifest)["files"][0] == {
        "name": "a.json",
        "size": 3,
        "sha256": hashlib.sha256(b"{}\n").hexdigest(),
    }
    text = st.manifest_note_text("tresen/p/cafe", "stm_1", manifest)
    digest = base64.b64encode(hashlib.sha256(manifest).digest()).decode()
    assert text == f"tresen/p/cafe\nstatement stm_1\n{digest}\n"


def test_csv_rows_give_refunds_negative_and_say_whether_matched():
    items, _ = gathered(week())
    lines, refund_lines, _, _ = st.statement_lines(items, {"pay_a": match("payment", "pay_a", 1840, 53)}, {})
    refund_lines[0] |= {"provider": "sandbox", "invoice_number": "R-1"}
    rows = st.csv_rows({"payments": lines[:1], "refunds": refund_lines})
    assert rows == [
        [
            "payment",
            "pay_a",
            "ord_1",
            "R-1",
            "sandbox",
            "pay_a",
            "2026-11-16T11:00:00+00:00",
            1840,
            53,
            1787,
            "po_1",
            "2026-11-20",
            "true",
        ],
        [
            "refund",
            "ref_1",
            "ord_1",
            "R-1",
            "sandbox",
            "sbx_re_1",
            "2026-11-16T11:00:00+00:00",
            -300,
            None,
            None,
            None,
            None,
            "false",
        ],
    ]
