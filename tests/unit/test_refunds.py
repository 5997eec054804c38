from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from support import LATER, awaiting_order
from tresen.domain.errors import DomainError
from tresen.domain.payments import refund_made_at_provider
from tresen.domain.refunds import RefundRequest, ReportedRefund, plan_refund, split_by_rate, status_after


def paid_order():
    return replace(awaiting_order(), status="paid", payment_status="paid")  # 2 croissants, 580 at 7 %


def test_partial_then_full_refund_by_amount():
    first = plan_refund(paid_order(), RefundRequest(amount=200), LATER)
    assert (first.amount, first.order.refunded_amount, first.order.payment_status) == (200, 200, "partially_refunded")
    assert [(v.rate, v.net, v.tax, v.gross) for v in first.vat] == [("7", 187, 13, 200)]
    rest = plan_refund(first.order, RefundRequest(amount=380), LATER)
    assert (rest.order.refunded_amount, rest.order.payment_status) == (580, "refunded")
    with pytest.raises(DomainError) as caught:
        plan_refund(rest.order, RefundRequest(amount=1), LATER)
    assert caught.value.code == "refund_exceeds_paid"


def test_refund_by_lines_uses_order_prices_and_never_refunds_a_line_twice():
    plan = plan_refund(paid_order(), RefundRequest(lines=(("L1", 1),)), LATER)
    assert (plan.amount, plan.order.refunded_quantities) == (290, {"L1": 1})
    again = plan_refund(plan.order, RefundRequest(lines=(("L1", 1),)), LATER)
    assert again.order.payment_status == "refunded"
    with pytest.raises(DomainError) as caught:
        plan_refund(again.order, RefundRequest(lines=(("L1", 1),)), LATER)
    assert caught.value.code == "refund_exceeds_paid"


def test_unpaid_orders_cannot_be_refunded():
    with pytest.raises(DomainError) as caught:
        plan_refund(awaiting_order(), RefundRequest(amount=100), LATER)
    assert caught.value.code == "order_not_paid"


@given(st.integers(0, 10**7), st.dictionaries(st.sampled_from(["7", "19"]), st.integers(1, 10**6), min_size=1))
def test_an_amount_is_split_over_rates_to_the_cent(amount, gross_by_rate):
    parts = split_by_rate(amount, gross_by_rate)
    assert sum(parts.values()) == amount
    assert all(value >= 0 for value in parts.values())
    taxable = min(amount, sum(gross_by_rate.values()))
    assert sum(v for rate, v in parts.items() if rate != "0") == taxable


@given(st.lists(st.integers(1, 700), max_size=10))
def test_refunds_never_exceed_the_payment(amounts):
    order = paid_order()
    for amount in amounts:
        try:
            order = plan_refund(order, RefundRequest(amount=amount), LATER).order
        except DomainError as error:
            assert error.code in ("refund_exceeds_paid", "order_not_paid")
        assert 0 <= order.refunded_amount <= order.amount_due


@pytest.mark.parametrize(
    ("current", "reported", "after"),
    [
        ("pending", "pending", "pending"),
        ("pending", "succeeded", "succeeded"),
        ("pending", "failed", "failed"),
        ("succeeded", "pending", "succeeded"),
        ("succeeded", "succeeded", "succeeded"),
        ("succeeded", "failed", "failed"),
        ("failed", "pending", "failed"),
        ("failed", "succeeded", "failed"),
        ("failed", "failed", "failed"),
    ],
)
def test_a_refund_status_never_moves_backwards(current, reported, after):
    assert status_after(current, reported) == after


def test_a_refund_made_at_the_provider_is_split_like_one_by_amount_and_capped_by_what_is_left():
    reported = ReportedRefund("re_1", 200, "succeeded", "pay_1")
    change = refund_made_at_provider(paid_order(), reported, LATER)
    assert (change.order.refunded_amount, change.order.payment_status, change.refund_amount) == (
        200,
        "partially_refunded",
        200,
    )
    assert ([(v.rate, v.net, v.tax, v.gross) for v in change.refund_vat], change.refund_reason) == (
        [("7", 187, 13, 200)],
        "made_at_provider",
    )
    assert change.provider_refund == reported
    beyond = refund_made_at_provider(change.order, ReportedRefund("re_2", 500, "succeeded", "pay_1"), LATER)
    assert (beyond.order.refunded_amount, beyond.order.payment_status, beyond.refund_amount) == (580, "refunded", 380)
    nothing_left = refund_made_at_provider(beyond.order, ReportedRefund("re_3", 100, "pending", "pay_1"), LATER)
    assert (nothing_left.order, nothing_left.refund_amount, nothing_left.refund_vat) == (None, 0, ())
    assert nothing_left.provider_refund.amount == 100  # what the provider reported stays visible


def test_a_refund_made_at_the_provider_that_failed_leaves_the_order_as_it_is():
    change = refund_made_at_provider(paid_order(), ReportedRefund("re_1", 200, "failed", "pay_1"), LATER)
    assert (change.order, change.refund_amount, change.provider_refund.status) == (None, 200, "failed")
