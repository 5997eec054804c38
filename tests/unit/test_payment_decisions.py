from support import LATER, awaiting_order
from tresen.domain.payments import PaymentEvent, decide


def event(kind, amount=580, currency="EUR"):
    return PaymentEvent("sandbox", f"evt_{kind}", f"payment.{kind}", "pay_1", amount, currency, "card declined")


def test_success_pays_and_asks_for_an_invoice_number():
    decision = decide(awaiting_order(), event("succeeded"), LATER)
    assert (decision.order.status, decision.order.payment_status, decision.order.expires_at) == ("paid", "paid", None)
    assert (decision.assign_invoice, decision.refund_amount, decision.journal[0].type) == (True, 0, "order.paid")


def test_wrong_amount_or_currency_is_a_mismatch_never_paid():
    for wrong in (event("succeeded", amount=579), event("succeeded", currency="USD")):
        decision = decide(awaiting_order(), wrong, LATER)
        assert (decision.order.status, decision.order.payment_status) == ("awaiting_payment", "mismatch")
        assert (decision.journal[0].type, decision.assign_invoice) == ("payment.mismatch", False)


def test_failure_keeps_the_order_open_for_another_try():
    decision = decide(awaiting_order(), event("failed"), LATER)
    assert (decision.order.status, decision.order.last_payment_error) == ("awaiting_payment", "card declined")
    assert decide(decision.order, event("succeeded"), LATER).order.status == "paid"


def test_late_events_never_move_a_paid_order_backwards():
    paid = decide(awaiting_order(), event("succeeded"), LATER).order
    for late in (event("failed"), event("canceled"), event("succeeded")):
        decision = decide(paid, late, LATER)
        assert (decision.order, decision.journal[0].type) == (None, "payment.event_ignored")


def test_success_after_cancellation_is_refunded_in_full_and_stays_canceled():
    canceled = decide(awaiting_order(), event("canceled"), LATER).order
    assert canceled.status == "canceled"
    decision = decide(canceled, event("succeeded"), LATER)
    assert (decision.order.status, decision.order.payment_status, decision.order.refunded_amount) == (
        "canceled",
        "refunded",
        580,
    )
    assert (decision.refund_amount, decision.journal[0].type) == (580, "payment.succeeded_after_close")
    assert decision.refund_reason == "paid_after_close"
    assert decide(decision.order, event("succeeded"), LATER).refund_amount == 0  # refunded once only
