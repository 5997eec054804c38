"""Refunds the provider tells us about: made in its dashboard, or our own coming back.

A refund made outside Tresen becomes a refund of the order like any other — journaled, capped by
what is left, exactly once, with its provider refund id — whatever order its events arrive in.
"""

import itertools
import json
import time
import uuid

import pytest

from fake_stripe import charge_refunded_event, deliver, event, intent_of, session_event
from support import deliver as deliver_sandbox
from support import idem, online_order, order_body, payment_event, staff_token
from tresen.services import provider_refunds

EVENTS = ("charge.refunded", "refund.created", "refund.updated")
# 300 of the 840 (580 at 7 %, 260 at 19 %), split like a refund by amount: in proportion, to the cent
SPLIT_300 = [{"rate": "7", "net": 193, "tax": 14, "gross": 207}, {"rate": "19", "net": 78, "tax": 15, "gross": 93}]


@pytest.fixture
def shop(request):
    """(store id, FakeStripe): a store paid through Stripe, Stripe faked (test_stripe's fixture)."""
    return request.getfixturevalue("stripe_store")


def paid_stripe_order(client, store_id: str) -> dict:
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    assert deliver(client, session_event("completed", order["payment"]["id"], 840)).status_code == 200
    return order


def stored(backend, order: dict) -> dict:
    return backend.db.document(f"orders/{order['id']}").get().to_dict()


def refunds_of(backend, order: dict) -> list[dict]:
    return [r.to_dict() for r in backend.db.collection("refunds").where("order_id", "==", order["id"]).get()]


def journaled(backend, store_id: str, order: dict, kind: str) -> list[dict]:
    entries = backend.journal.entries(store_id)
    return [e["data"] for e in entries if e["type"] == kind and e["data"].get("order_id") == order["id"]]


def stripe_event(kind: str, refund: dict, fake, order: dict, listed: bool = False) -> bytes:
    """`kind` about `refund` as Stripe would send it: the Refund itself, or the Charge it refunded."""
    if kind == "charge.refunded":
        refunds = [r for r in fake.refunds if r["payment_intent"] == refund["payment_intent"]]
        return charge_refunded_event(intent_of(order["payment"]["id"]), 840, refunds, listed)
    return event(kind, refund)


def owner(store_id: str) -> dict:
    return {"Authorization": f"Bearer {staff_token({store_id: 'owner'})}"}


@pytest.mark.parametrize("arrival", list(itertools.permutations(EVENTS)), ids="-then-".join)
def test_a_dashboard_refund_is_one_refund_whatever_order_its_events_arrive_in(client, shop, backend, arrival):
    store_id, fake = shop
    order = paid_stripe_order(client, store_id)
    made_in_dashboard = fake.add_refund(intent_of(order["payment"]["id"]), 300, "succeeded", {})
    states = {  # what each event says: created pending, then updated to succeeded
        "refund.created": made_in_dashboard | {"status": "pending"},
        "refund.updated": made_in_dashboard,
        "charge.refunded": made_in_dashboard,
    }
    calls_before = len(fake.calls)
    for kind in arrival:
        payload = stripe_event(kind, states[kind], fake, order)
        first, replay = deliver(client, payload), deliver(client, payload)
        assert (first.status_code, first.get_json()["duplicate"], first.get_json()["unprocessable"]) == (
            200,
            False,
            None,
        ), kind
        assert (replay.status_code, replay.get_json()["duplicate"]) == (200, True)

    [refund] = refunds_of(backend, order)
    refund_id = f"re_stripe_{made_in_dashboard['id']}"
    assert {k: refund[k] for k in ("id", "amount", "provider_amount", "giftcard_amount", "status")} == {
        "id": refund_id,
        "amount": 300,
        "provider_amount": 300,
        "giftcard_amount": 0,
        "status": "succeeded",
    }
    assert (refund["provider_refund_id"], refund["provider_reported_amount"], refund["reason"]) == (
        made_in_dashboard["id"],
        300,
        "made_at_provider",
    )
    assert refund["vat"] == SPLIT_300
    after = stored(backend, order)
    assert (after["refunded_amount"], after["payment_status"]) == (300, "partially_refunded")
    [created] = journaled(backend, store_id, order, "refund.created")
    assert created == {
        "id": refund_id,
        "order_id": order["id"],
        "payment_id": order["payment"]["id"],
        "amount": 300,
        "provider_amount": 300,
        "giftcard_amount": 0,
        "reason": "made_at_provider",
        "vat": SPLIT_300,
        "provider_refund_id": made_in_dashboard["id"],
        "provider_reported_amount": 300,
        "method": "online",  # how provider_amount went back: for the closing
    }
    assert journaled(backend, store_id, order, "refund.succeeded") == [
        {"id": refund_id, "order_id": order["id"], "provider_refund_id": made_in_dashboard["id"], "amount": 300}
    ]
    # the money had left already: nothing was sent to Stripe, only the charge's refunds were read once
    assert [(c["method"], c["path"]) for c in fake.calls[calls_before:]] == [("get", "/v1/refunds")]


def test_a_charge_listing_its_refunds_needs_no_call_and_a_long_list_is_read_page_by_page(client, shop, backend):
    store_id, fake = shop
    fake.page_size = 2
    listed = paid_stripe_order(client, store_id)
    intent = intent_of(listed["payment"]["id"])
    first, second = (fake.add_refund(intent, amount, "succeeded", {}) for amount in (200, 100))
    calls_before = len(fake.calls)
    assert deliver(client, stripe_event("charge.refunded", first, fake, listed, listed=True)).status_code == 200
    assert len(fake.calls) == calls_before
    assert sorted(r["provider_refund_id"] for r in refunds_of(backend, listed)) == sorted([first["id"], second["id"]])

    paged = paid_stripe_order(client, store_id)
    made = [fake.add_refund(intent_of(paged["payment"]["id"]), 100, "succeeded", {}) for _ in range(5)]
    assert deliver(client, stripe_event("charge.refunded", made[0], fake, paged)).status_code == 200
    pages = [c for c in fake.calls[calls_before:] if c["method"] == "get"]
    assert [c["fields"].get("starting_after") for c in pages] == [None, made[3]["id"], made[1]["id"]]
    assert sorted(r["provider_refund_id"] for r in refunds_of(backend, paged)) == sorted(r["id"] for r in made)
    assert stored(backend, paged)["refunded_amount"] == 500


def test_our_own_refund_coming_back_is_not_counted_twice(client, shop, backend):
    store_id, fake = shop
    order = paid_stripe_order(client, store_id)
    answer = client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/refunds", json={"amount": 300}, headers=owner(store_id) | idem()
    ).get_json()
    [ours] = fake.refunds
    assert ours["metadata"] == {"tresen_refund_id": answer["id"]}
    for kind in EVENTS:
        assert deliver(client, stripe_event(kind, ours, fake, order)).get_json()["duplicate"] is False
    [refund] = refunds_of(backend, order)
    assert (refund["id"], refund["status"], refund["provider_refund_id"]) == (answer["id"], "succeeded", ours["id"])
    assert stored(backend, order)["refunded_amount"] == 300
    assert len(journaled(backend, store_id, order, "refund.created")) == 1
    assert len(journaled(backend, store_id, order, "refund.succeeded")) == 1


def test_our_refund_reported_before_we_recorded_stripes_answer_is_matched_by_its_metadata(
    client, shop, backend, monkeypatch
):
    """Between Stripe's answer and our commit of it, our refund does not know Stripe's id yet."""
    store_id, fake = shop
    order = paid_stripe_order(client, store_id)
    answers = []
    with monkeypatch.context() as late:
        late.setattr(provider_refunds, "record_refund_status", lambda *args: answers.append(args))
        answer = client.post(
            f"/v1/stores/{store_id}/orders/{order['id']}/refunds",
            json={"amount": 300},
            headers=owner(store_id) | idem(),
        ).get_json()
    assert backend.db.document(f"refunds/{answer['id']}").get().to_dict().get("provider_refund_id") is None
    [ours] = fake.refunds
    assert deliver(client, event("refund.created", ours)).get_json()["unprocessable"] is None
    provider_refunds.record_refund_status(*answers[0])  # our record of Stripe's answer, arriving last
    [refund] = refunds_of(backend, order)
    assert (refund["id"], refund["status"], refund["provider_refund_id"]) == (answer["id"], "succeeded", ours["id"])
    assert stored(backend, order)["refunded_amount"] == 300
    assert len(journaled(backend, store_id, order, "refund.created")) == 1
    assert journaled(backend, store_id, order, "refund.succeeded") == [
        {"id": answer["id"], "order_id": order["id"], "provider_refund_id": ours["id"], "amount": 300}
    ]


def test_a_dashboard_refund_beyond_what_is_left_is_capped(client, shop, backend):
    store_id, fake = shop
    order = paid_stripe_order(client, store_id)
    onto_card = client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/refunds",
        json={"amount": 600, "to": "giftcard"},
        headers=owner(store_id) | idem(),
    )
    assert onto_card.status_code == 201
    made_in_dashboard = fake.add_refund(intent_of(order["payment"]["id"]), 500, "succeeded", {})
    assert deliver(client, event("refund.created", made_in_dashboard)).status_code == 200
    refund = backend.db.document(f"refunds/re_stripe_{made_in_dashboard['id']}").get().to_dict()
    assert (refund["amount"], refund["provider_amount"], refund["provider_reported_amount"], refund["status"]) == (
        240,
        240,
        500,
        "succeeded",
    )
    after = stored(backend, order)
    assert (after["refunded_amount"], after["payment_status"]) == (840, "refunded")
    assert [e["amount"] for e in journaled(backend, store_id, order, "refund.created")] == [600, 240]

    nothing_left = fake.add_refund(intent_of(order["payment"]["id"]), 100, "succeeded", {})
    assert deliver(client, event("refund.created", nothing_left)).status_code == 200
    beyond = backend.db.document(f"refunds/re_stripe_{nothing_left['id']}").get().to_dict()
    assert (beyond["amount"], beyond["provider_reported_amount"], beyond["vat"]) == (0, 100, [])
    assert stored(backend, order)["refunded_amount"] == 840


def test_a_dashboard_refund_failing_later_makes_its_amount_refundable_again(client, shop, backend):
    store_id, fake = shop
    order = paid_stripe_order(client, store_id)
    made_in_dashboard = fake.add_refund(intent_of(order["payment"]["id"]), 840, "succeeded", {})
    assert deliver(client, event("refund.created", made_in_dashboard)).status_code == 200
    assert stored(backend, order)["payment_status"] == "refunded"
    assert deliver(client, event("refund.updated", made_in_dashboard | {"status": "failed"})).status_code == 200
    after = stored(backend, order)
    assert (after["refunded_amount"], after["payment_status"]) == (0, "paid")
    assert backend.db.document(f"refunds/re_stripe_{made_in_dashboard['id']}").get().get("status") == "failed"
    assert journaled(backend, store_id, order, "refund.failed") == [
        {
            "id": f"re_stripe_{made_in_dashboard['id']}",
            "order_id": order["id"],
            "provider_refund_id": made_in_dashboard["id"],
            "amount": 840,
            # what the failure gives back to the closing: the order's two VAT rates, paid online
            "failed_refund": {
                "method": "online",
                "amount": 840,
                "vat": [
                    {"rate": "7", "net": 542, "tax": 38, "gross": 580},
                    {"rate": "19", "net": 218, "tax": 42, "gross": 260},
                ],
            },
        }
    ]
    # failed is final: a late success changes nothing
    assert deliver(client, event("refund.updated", made_in_dashboard)).status_code == 200
    assert stored(backend, order)["refunded_amount"] == 0
    again = client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/refunds", json={"amount": 840}, headers=owner(store_id) | idem()
    )
    assert again.status_code == 201


def test_a_refund_before_the_payments_success_is_retried_and_of_an_unknown_payment_parked(client, shop, backend):
    store_id, fake = shop
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    early = event("refund.created", fake.add_refund(intent_of(order["payment"]["id"]), 300, "succeeded", {}))
    not_yet = deliver(client, early)
    assert (not_yet.status_code, not_yet.get_json()["code"]) == (503, "service_unavailable")
    assert deliver(client, session_event("completed", order["payment"]["id"], 840)).status_code == 200
    assert deliver(client, early).get_json()["duplicate"] is False  # the provider's retry
    assert stored(backend, order)["refunded_amount"] == 300

    stranger = event("refund.created", fake.add_refund("pi_not_ours", 300, "succeeded", {}))
    parked = deliver(client, stranger)
    assert (parked.status_code, parked.get_json()["unprocessable"]) == (200, "unknown payment")
    record = backend.db.document(f"webhook_events/stripe:{json.loads(stranger)['id']}").get().to_dict()
    assert (record["status"], record["raw"]) == ("unprocessable", stranger)


def test_a_sandbox_refund_we_did_not_make_is_a_refund_of_its_payment(client, store_id, backend):
    order = online_order(client, store_id)
    deliver_sandbox(client, payment_event(order, "succeeded"))
    refund_event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": "refund.succeeded",
        "created": int(time.time()),
        "data": {"refund_id": "rf_dashboard_1", "payment_id": order["payment"]["id"], "amount": 260},
    }
    assert deliver_sandbox(client, refund_event).get_json()["duplicate"] is False
    assert deliver_sandbox(client, refund_event).get_json()["duplicate"] is True
    [refund] = refunds_of(backend, order)
    assert (refund["id"], refund["amount"], refund["status"], refund["provider_refund_id"]) == (
        "re_sandbox_rf_dashboard_1",
        260,
        "succeeded",
        "rf_dashboard_1",
    )
    assert stored(backend, order)["refunded_amount"] == 260
    assert len(journaled(backend, store_id, order, "refund.created")) == 1

    unknown = refund_event | {"id": f"evt_{uuid.uuid4().hex}"}
    unknown["data"] = refund_event["data"] | {"refund_id": "rf_2", "payment_id": "pay_sbx_nobody"}
    assert deliver_sandbox(client, unknown).get_json()["unprocessable"] == "unknown payment"
