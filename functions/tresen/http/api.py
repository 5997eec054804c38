"""The endpoints: each a few lines from validated request to use case to response model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from ..config import settings
from ..domain.orders import CartItem, Customer, Fulfilment, OrderRequest
from ..domain.refunds import RefundRequest
from ..services import order_views, orders, receipt_downloads
from ..services.card_present import expire_unpaid_orders
from ..services.corrections import DiscountOrder, VoidItems, discount_order, void_items
from ..services.order_status import ChangeStatus, change_status
from ..services.passkeys import SetPasskey, set_passkey
from ..services.refunds import RefundOrder, refund_order
from ..services.sandbox_checkout import PressCheckoutButton, press_checkout_button, sandbox_payment
from ..services.webhooks import ReceiveWebhook, receive_webhook
from . import models as m
from . import present
from .checkout import after_press, checkout_page, return_address
from .problems import ApiProblem
from .router import JOB, STAFF_ROLES, Call, route, staff

if TYPE_CHECKING:  # annotations only: the mail types are loaded where a receipt is made
    from ..domain.mail import Attachment


@route(
    "GET",
    "/v1/stores/{store}/menu",
    summary="The store and its products",
    tag="customer",
    response=m.MenuOut,
    present=present.menu_out,
    errors=("store_not_found",),
)
def get_menu(call: Call):
    return order_views.menu(call.uow, call.params["store"])


# what placing an order may answer, whoever places it (the customer, or staff at the counter)
ORDER_ERRORS = (
    "store_not_found",
    "store_closed",
    "product_unavailable",
    "out_of_stock",
    "validation_failed",
    "giftcard_not_active",
    "giftcard_insufficient_funds",
    "promotion_not_applicable",
    "idempotency_key_required",
    "idempotency_key_reused",
    "idempotency_in_progress",
)


@route(
    "POST",
    "/v1/stores/{store}/orders",
    summary="Place an order",
    tag="customer",
    body=m.CreateOrder,
    response=m.CreatedOrderOut,
    present=present.created_order_out,
    status=201,
    idempotent=True,
    errors=ORDER_ERRORS,
    claims_at_commit=lambda call: call.body.payment.method == "on_site",
)
def create_order(call: Call):
    body: m.CreateOrder = call.body
    request = OrderRequest(
        items=tuple(CartItem(i.product_id, i.quantity, tuple(i.options), i.note) for i in body.items),
        fulfilment=Fulfilment(**body.fulfilment.model_dump()),
        customer=Customer(**body.customer.model_dump()),
        payment_method=body.payment.method,
        provider=body.payment.provider,
        tip=body.tip,
        gift_cards=tuple((card.code, card.amount) for card in body.gift_cards),
        receipt=body.receipt,
        terminal_id=body.payment.terminal_id,
        promotion_code=body.promotion_code,
    )
    return orders.place_order(orders.PlaceOrder(call.params["store"], request, call.caller.actor()), call.uow)


@route(
    "GET",
    "/v1/orders/{order}",
    summary="An order, for the customer holding its X-Order-Token",
    tag="customer",
    headers=("X-Order-Token",),
    response=m.OrderOut,
    present=present.order_out,
    errors=("order_not_found",),
)
def get_order(call: Call):
    return order_views.order_for_customer(call.uow, call.params["order"], call.request.headers.get("X-Order-Token"))


@route(
    "GET",
    "/v1/orders/{order}/receipt.pdf",
    summary="The order's receipt (PDF), for the customer holding its X-Order-Token",
    tag="customer",
    headers=("X-Order-Token",),
    media_type="application/pdf",
    errors=("order_not_found", "order_not_paid"),
)
def get_receipt(call: Call):
    document = receipt_downloads.receipt(call.uow, call.params["order"], call.request.headers.get("X-Order-Token"))
    return pdf_download(document)


@route(
    "GET",
    "/v1/orders/{order}/refunds/{refund}/receipt.pdf",
    summary="A refund's correction receipt (PDF), for the customer holding the order's X-Order-Token",
    tag="customer",
    headers=("X-Order-Token",),
    media_type="application/pdf",
    errors=("order_not_found", "not_found"),
)
def get_correction_receipt(call: Call):
    token = call.request.headers.get("X-Order-Token")
    document = receipt_downloads.correction(call.uow, call.params["order"], call.params["refund"], token)
    return pdf_download(document)


def pdf_download(document: Attachment) -> Response:
    disposition = f'attachment; filename="{document.filename}"'
    return Response(document.content, content_type=document.content_type, headers={"Content-Disposition": disposition})


@route(
    "GET",
    "/v1/stores/{store}/orders",
    summary="The store's orders, newest first",
    tag="staff",
    access=staff(*STAFF_ROLES),
    query=m.OrderListQuery,
    response=m.OrderPage,
    present=present.order_page_out,
    errors=("unauthenticated", "forbidden", "validation_failed"),
)
def list_orders(call: Call):
    q: m.OrderListQuery = call.query
    return order_views.list_orders(
        call.uow, call.params["store"], status=q.status, since=q.since, limit=q.limit, cursor=q.cursor
    )


@route(
    "GET",
    "/v1/stores/{store}/orders/{order}",
    summary="One order of the store",
    tag="staff",
    access=staff(*STAFF_ROLES),
    response=m.OrderOut,
    present=present.order_out,
    errors=("unauthenticated", "forbidden", "order_not_found"),
)
def get_store_order(call: Call):
    return order_views.order_view_for_staff(call.uow, call.params["store"], call.params["order"])


@route(
    "POST",
    "/v1/webhooks/{provider}",
    summary="Signed events from a payment provider",
    tag="webhooks",
    raw_body=True,
    headers=("Stripe-Signature", "Sandbox-Signature"),
    response=m.WebhookAck,
    errors=("invalid_signature", "not_found", "validation_failed", "service_unavailable"),
)
def provider_webhook(call: Call):
    outcome = receive_webhook(ReceiveWebhook(call.params["provider"], call.request.headers, call.raw), call.uow)
    return m.WebhookAck(duplicate=outcome.duplicate, ignored=outcome.ignored, unprocessable=outcome.unprocessable)


@route(
    "GET",
    "/v1/sandbox/checkout/{payment}",
    summary="Sandbox checkout page (dev mode only)",
    tag="sandbox",
    media_type="text/html",
)
def sandbox_checkout(call: Call):
    _sandbox_only()
    payment = sandbox_payment(call.uow, call.params["payment"])
    return checkout_page(payment, back_to=return_address(call.request))


@route(
    "POST",
    "/v1/sandbox/checkout/{payment}",
    summary="Press Pay or Fail (form post)",
    tag="sandbox",
    media_type="text/html",
    errors=("validation_failed", "payload_too_large"),
)
def sandbox_press(call: Call):
    _sandbox_only()
    if call.request.content_length and call.request.content_length > 10_000:
        raise ApiProblem("payload_too_large", "A checkout form is small.")
    action = call.request.form.get("action")
    payment = press_checkout_button(PressCheckoutButton(call.params["payment"], action), call.uow)
    return after_press(call.request, payment, action)


def _sandbox_only() -> None:
    if not settings().sandbox_enabled:
        raise ApiProblem("not_found", "The sandbox is not enabled.")


@route(
    "POST",
    "/v1/stores/{store}/orders/{order}/status",
    summary="Move an order through the workflow",
    tag="staff",
    access=staff("owner", "supervisor", "staff"),
    body=m.StatusChange,
    response=m.OrderOut,
    present=present.order_out,
    errors=("unauthenticated", "forbidden", "order_not_found", "invalid_transition", "validation_failed"),
)
def change_order_status(call: Call):
    order_id = call.params["order"]
    body: m.StatusChange = call.body
    command = ChangeStatus(call.params["store"], order_id, body.status, call.caller.actor(), body.reason)
    return change_status(command, call.uow)


@route(
    "POST",
    "/v1/stores/{store}/orders/{order}/refunds",
    summary="Refund a paid order, by amount or by lines",
    tag="staff",
    headers=("X-Passkey",),
    access=staff("owner", "supervisor", "staff"),
    body=m.RefundIn,
    response=m.RefundOut,
    present=present.refund_out,
    status=201,
    idempotent=True,
    errors=(
        "unauthenticated",
        "forbidden",
        "order_not_found",
        "order_not_paid",
        "refund_exceeds_paid",
        "giftcard_not_active",
        "validation_failed",
        "idempotency_key_required",
        "idempotency_key_reused",
        "idempotency_in_progress",
    ),
)
def refund(call: Call):
    order_id = call.params["order"]
    body: m.RefundIn = call.body
    request = RefundRequest(
        amount=body.amount, lines=tuple((line.line_id, line.quantity) for line in body.lines or ()), reason=body.reason
    )
    command = RefundOrder(
        call.params["store"],
        order_id,
        request,
        call.caller.actor(),
        call.caller.role,
        call.request.headers.get("X-Passkey"),
        to_giftcard=body.to == "giftcard",
        giftcard_code=body.giftcard_code,
        restock=body.restock,
    )
    return refund_order(command, call.uow)


CORRECTION_ERRORS = (
    "unauthenticated",
    "forbidden",
    "order_not_found",
    "order_not_unpaid",
    "validation_failed",
    "passkey_required",
    "passkey_invalid",
    "passkey_locked",
)


@route(
    "POST",
    "/v1/stores/{store}/orders/{order}/void",
    summary="Remove items from an unpaid order",
    tag="staff",
    headers=("X-Passkey",),
    access=staff("owner", "supervisor", "staff"),
    body=m.VoidIn,
    response=m.OrderOut,
    present=present.order_out,
    errors=CORRECTION_ERRORS,
)
def void(call: Call):
    body: m.VoidIn = call.body
    command = VoidItems(
        call.params["store"],
        call.params["order"],
        tuple((line.line_id, line.quantity) for line in body.lines),
        body.reason,
        call.caller.actor(),
        call.caller.role,
        call.request.headers.get("X-Passkey"),
    )
    return void_items(command, call.uow)


@route(
    "POST",
    "/v1/stores/{store}/orders/{order}/discount",
    summary="Give a discount on an unpaid order",
    tag="staff",
    headers=("X-Passkey",),
    access=staff("owner", "supervisor", "staff"),
    body=m.DiscountIn,
    response=m.OrderOut,
    present=present.order_out,
    errors=CORRECTION_ERRORS,
)
def give_discount(call: Call):
    body: m.DiscountIn = call.body
    command = DiscountOrder(
        call.params["store"],
        call.params["order"],
        body.amount,
        body.percent,
        body.reason,
        call.caller.actor(),
        call.caller.role,
        call.request.headers.get("X-Passkey"),
    )
    return discount_order(command, call.uow)


@route(
    "PUT",
    "/v1/stores/{store}/passkey",
    summary="Set the store passkey and the actions it protects",
    tag="staff",
    access=staff("owner", "supervisor"),
    body=m.PasskeyIn,
    status=204,
    errors=("unauthenticated", "forbidden", "validation_failed"),
)
def put_passkey(call: Call):
    body: m.PasskeyIn = call.body
    set_passkey(SetPasskey(call.params["store"], body.pin, tuple(body.protect), call.caller.actor()), call.uow)
    return Response(status=204)


@route(
    "POST",
    "/v1/jobs/expire-orders",
    summary="Cancel unpaid orders past their window, card payments at a terminal canceled there first (scheduler)",
    tag="jobs",
    access=JOB,
    response=m.ExpiredOut,
)
def expire_orders_job(call: Call):
    return m.ExpiredOut(expired=expire_unpaid_orders(call.uow))
