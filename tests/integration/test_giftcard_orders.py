"""Gift cards in orders: selling cards online, paying with cards (holds), refunds back to cards."""

from datetime import timedelta

from support import (
    act,
    deliver,
    idem,
    inquire,
    journal_types,
    ledger_of,
    order_body,
    payment_event,
    read,
    sell,
    staff_token,
)
from tresen.adapters.clock import now

CROISSANTS = [{"product_id": "croissant", "quantity": 2}]  # 2 × 290 = 580


def place(client, store_id, **body):
    return client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}, **body), headers=idem()
    )


def card_balance(client, store_id, code):
    return inquire(client, store_id, code).get_json()["balance"]


def supervisor(store_id):
    return {"Authorization": f"Bearer {staff_token({store_id: 'supervisor'})}"}


def test_a_card_sold_online_is_pending_until_paid_then_its_code_shows(client, store_id, backend):
    placed = place(client, store_id, items=[{"product_id": "giftcard-25", "quantity": 1}] + CROISSANTS)
    assert placed.status_code == 201
    order = placed.get_json()
    line = order["lines"][0]
    assert (line["kind"], line["vat_rate"], line["total"]) == ("giftcard", None, 2500)
    totals = order["totals"]
    assert (totals["total"], totals["giftcards_sold"], [v["gross"] for v in totals["vat"]]) == (3080, 2500, [580])
    sold = order["gift_cards_sold"]
    assert [(c["status"], c["amount"], c["code"]) for c in sold] == [("pending", 2500, None)]

    deliver(client, payment_event(order, "succeeded"))
    paid = read(client, order)
    card = paid["gift_cards_sold"][0]
    assert (paid["status"], card["status"], card["last4"]) == ("paid", "active", card["code"][-4:])
    balance = client.post("/v1/giftcards/balance", json={"code": card["code"]}).get_json()
    assert (balance["status"], balance["balance"]) == ("active", 2500)
    staff_view = client.get(f"/v1/stores/{store_id}/orders/{order['id']}", headers=supervisor(store_id)).get_json()
    assert staff_view["gift_cards_sold"][0]["code"] is None  # the code is the customer's, not the staff's
    assert journal_types(backend, store_id)[-2:] == ["order.paid", "giftcard.activate"]


def test_a_card_sold_in_an_order_that_expires_is_voided(client, store_id, backend):
    order = place(client, store_id, items=[{"product_id": "giftcard-25", "quantity": 2}]).get_json()
    backend.db.document(f"orders/{order['id']}").update({"expires_at": now() - timedelta(seconds=1)})
    assert client.post("/v1/jobs/expire-orders").get_json() == {"expired": 1}
    assert [c["status"] for c in read(client, order)["gift_cards_sold"]] == ["void", "void"]


def test_selling_cards_needs_online_payment(client, store_id):
    response = client.post(
        f"/v1/stores/{store_id}/orders",
        json=order_body(items=[{"product_id": "giftcard-25", "quantity": 1}]),
        headers=idem(),
    )
    assert (response.status_code, response.get_json()["errors"][0]["field"]) == (422, "payment.method")


def test_paying_partly_by_card_holds_then_captures(client, store_id, backend):
    code = sell(client, store_id, 500)["code"]
    order = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code.lower()}]).get_json()
    assert (order["gift_card_amount"], order["amount_due"], order["totals"]["total"]) == (500, 80, 580)
    assert [(u["amount"], u["status"]) for u in order["gift_cards"]] == [(500, "held")]
    assert card_balance(client, store_id, code) == 0  # held for the order

    deliver(client, payment_event(order, "failed"))  # the customer may retry: the hold stays
    assert (card_balance(client, store_id, code), read(client, order)["gift_cards"][0]["status"]) == (0, "held")
    deliver(client, payment_event(order, "succeeded"))  # 80 through the provider
    paid = read(client, order)
    assert (paid["status"], paid["gift_cards"][0]["status"], paid["invoice_number"] is not None) == (
        "paid",
        "captured",
        True,
    )
    history = inquire(client, store_id, code).get_json()["activities"]
    assert [(a["type"], a["balance_after"], a["order_id"]) for a in history[:2]] == [
        ("capture", 0, order["id"]),
        ("authorize", 0, order["id"]),
    ]
    assert ledger_of(backend, code) == (0, 3)


def test_cards_covering_everything_pay_at_once(client, store_id, backend):
    first, second = sell(client, store_id, 300)["code"], sell(client, store_id, 1000)["code"]
    placed = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": first}, {"code": second}])
    order = placed.get_json()
    assert (order["status"], order["payment_status"], order["payment"], order["amount_due"]) == (
        "paid",
        "paid",
        None,
        0,
    )
    assert order["invoice_number"].endswith("-000001")
    assert [(u["amount"], u["status"]) for u in order["gift_cards"]] == [(300, "captured"), (280, "captured")]
    assert (card_balance(client, store_id, first), card_balance(client, store_id, second)) == (0, 720)
    types = journal_types(backend, store_id)
    assert types[-6:] == [
        "order.placed",
        "giftcard.authorize",
        "giftcard.capture",
        "giftcard.authorize",
        "giftcard.capture",
        "order.paid",
    ]


def test_canceled_and_expired_orders_release_their_holds(client, store_id, backend):
    code = sell(client, store_id, 1000)["code"]
    canceled = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code, "amount": 200}]).get_json()
    expiring = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code, "amount": 300}]).get_json()
    assert card_balance(client, store_id, code) == 500
    deliver(client, payment_event(canceled, "canceled"))
    backend.db.document(f"orders/{expiring['id']}").update({"expires_at": now() - timedelta(seconds=1)})
    client.post("/v1/jobs/expire-orders")
    assert card_balance(client, store_id, code) == 1000
    assert read(client, expiring)["gift_cards"][0]["status"] == "released"
    assert ledger_of(backend, code) == (1000, 5)


def test_card_problems_when_ordering(client, store_id):
    code = sell(client, store_id, 100)["code"]
    too_much = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code, "amount": 200}])
    assert (too_much.status_code, too_much.get_json()["code"]) == (409, "giftcard_insufficient_funds")
    unknown = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": "2345-6789-ABCD-EFGH"}])
    act(client, store_id, code, "deactivate", {"reason": "stolen"}, key=False)
    blocked = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code}])
    assert unknown.get_json()["code"] == blocked.get_json()["code"] == "giftcard_not_active"
    assert unknown.status_code == blocked.status_code == 409
    other = sell(client, store_id, 5000)["code"]
    over = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": other, "amount": 581}])
    assert (over.status_code, over.get_json()["errors"][0]["field"]) == (422, "gift_cards[0].amount")


def test_voiding_items_gives_back_what_the_card_no_longer_pays(client, store_id):
    code = sell(client, store_id, 1000)["code"]
    order = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code}]).get_json()  # 580 held: paid
    assert order["status"] == "paid"
    partly = sell(client, store_id, 2000)["code"]
    items = CROISSANTS + [{"product_id": "espresso", "quantity": 1}]  # 580 + 260 = 840
    unpaid = place(client, store_id, items=items, gift_cards=[{"code": partly, "amount": 700}]).get_json()
    voided = client.post(
        f"/v1/stores/{store_id}/orders/{unpaid['id']}/void",
        json={"lines": [{"line_id": "L1", "quantity": 2}]},
        headers=supervisor(store_id),
    ).get_json()
    assert (voided["totals"]["total"], voided["gift_card_amount"], voided["amount_due"]) == (260, 260, 0)
    assert card_balance(client, store_id, partly) == 1740


def test_refunds_go_back_to_the_card_first(client, store_id, backend):
    code = sell(client, store_id, 300)["code"]
    order = place(client, store_id, items=CROISSANTS, gift_cards=[{"code": code}]).get_json()  # 300 card + 280
    deliver(client, payment_event(order, "succeeded"))

    def refund(body):
        url = f"/v1/stores/{store_id}/orders/{order['id']}/refunds"
        return client.post(url, json=body, headers=supervisor(store_id) | idem()).get_json()

    first = refund({"amount": 200})
    assert (first["status"], first["giftcard_amount"], first["provider_amount"]) == ("succeeded", 200, 0)
    second = refund({"amount": 300})
    assert (second["status"], second["giftcard_amount"], second["provider_amount"]) == ("pending", 100, 200)
    assert card_balance(client, store_id, code) == 300
    final = read(client, order)
    assert (final["refunded_amount"], final["payment_status"], final["gift_cards"][0]["refunded"]) == (
        500,
        "partially_refunded",
        300,
    )
    refund_doc = backend.db.document(f"refunds/{second['id']}").get().to_dict()
    assert (refund_doc["status"], refund_doc["provider_amount"]) == ("succeeded", 200)  # the sandbox paid back 200


def test_refund_onto_a_new_or_an_existing_card(client, store_id):
    order = place(client, store_id, items=CROISSANTS).get_json()
    deliver(client, payment_event(order, "succeeded"))
    url = f"/v1/stores/{store_id}/orders/{order['id']}/refunds"
    onto_new = client.post(url, json={"amount": 250, "to": "giftcard"}, headers=supervisor(store_id) | idem())
    assert onto_new.status_code == 201
    new = onto_new.get_json()
    assert (new["status"], new["to"], new["provider_amount"], new["giftcard"]["balance"]) == (
        "succeeded",
        "giftcard",
        0,
        250,
    )
    code = new["giftcard"]["code"]
    assert inquire(client, store_id, code).get_json()["activities"][0]["type"] == "refund"
    onto_existing = client.post(
        url, json={"amount": 100, "to": "giftcard", "giftcard_code": code}, headers=supervisor(store_id) | idem()
    ).get_json()
    assert (onto_existing["giftcard"]["code"], card_balance(client, store_id, code)) == (None, 350)
    assert read(client, order)["refunded_amount"] == 350


def test_rejecting_an_on_site_order_gives_the_card_money_back(client, store_id):
    code = sell(client, store_id, 300)["code"]
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(items=CROISSANTS, gift_cards=[{"code": code}]), headers=idem()
    ).get_json()
    assert (order["status"], order["gift_cards"][0]["status"], order["amount_due"]) == ("placed", "captured", 280)
    assert card_balance(client, store_id, code) == 0
    rejected = client.post(
        f"/v1/stores/{store_id}/orders/{order['id']}/status", json={"status": "rejected"}, headers=supervisor(store_id)
    ).get_json()
    assert (rejected["status"], rejected["gift_cards"][0]["refunded"]) == ("rejected", 300)
    assert card_balance(client, store_id, code) == 300
    assert inquire(client, store_id, code).get_json()["activities"][0]["type"] == "refund"
