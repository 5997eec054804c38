"""Suppliers and purchase orders: a supplier added, goods ordered from it by e-mail (with the order
as PDF and CSV), what arrived received into stock — routes and their models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from werkzeug.wrappers import Response

from ..domain.purchase_orders import Arrival, LineAsked, PurchaseLine, PurchaseOrder, Supplier
from ..services import purchase_orders
from ..services.purchase_orders import CreatePurchaseOrder, CreateSupplier, ReceiveGoods
from . import models as m
from .present import local_time
from .router import STAFF_ROLES, UNKNOWN, Call, current_uow, route, staff

UNKNOWN.update(purchase_order="purchase_order_not_found")
DENIED = ("unauthenticated", "forbidden")
IDEMPOTENCY = ("idempotency_key_required", "idempotency_key_reused", "idempotency_in_progress")
SUPERVISORS = staff("owner", "supervisor")
RECEIVERS = staff("owner", "supervisor", "staff")
READERS = staff(*STAFF_ROLES)
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=m.EMAIL_PATTERN)]
CustomerNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Units = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
LineNumber = Annotated[int, Field(strict=True, ge=1, le=100)]


class SupplierIn(m.Inbound):
    name: m.ShortText
    email: Email = Field(description="where its purchase orders are mailed")
    customer_number: CustomerNumber | None = Field(None, description="the store's customer number at the supplier")


class SupplierOut(m.Outbound):
    id: str
    name: str
    email: str
    customer_number: str | None


class SupplierList(m.Outbound):
    data: list[SupplierOut] = Field(description="by name")


class LineIn(m.Inbound):
    model_config = ConfigDict(extra="ignore", defer_build=True, json_schema_extra=m.one_of("product_id", "name"))

    product_id: m.Id | None = Field(None, description="a product of the catalog: the line takes its name")
    name: m.ShortText | None = Field(None, description="a free line: what is ordered (raw material not sold)")
    quantity: Units = Field(description='whole units of `unit`: order 500 "g", not 0.5 "kg"')
    unit: Unit = Field(description='"Stück", "kg", "l" …')

    @model_validator(mode="after")
    def _product_or_name(self) -> LineIn:
        if (self.product_id is None) == (self.name is None):
            raise ValueError("send either product_id or name")
        return self


class PurchaseOrderIn(m.Inbound):
    supplier_id: m.Id
    lines: list[LineIn] = Field(min_length=1, max_length=100)


class ArrivalIn(m.Inbound):
    line: LineNumber = Field(description="the line's number in the order (`lines[].line`)")
    quantity: Units = Field(description="units of it that arrived")


class ReceiptIn(m.Inbound):
    lines: list[ArrivalIn] = Field(min_length=1, max_length=100)


class PurchaseLineOut(m.Outbound):
    line: int
    product_id: str | None = Field(description="null: a free line")
    name: str
    quantity: int
    unit: str
    received: int = Field(description="units of it received so far")


class ArrivalOut(m.Outbound):
    line: int
    quantity: int


class ReceiptOut(m.Outbound):
    received_at: datetime
    lines: list[ArrivalOut]


class PurchaseOrderOut(m.Outbound):
    id: str
    number: str = Field(description="PO-{year}-{n:06d}, gap-free per store and year")
    supplier_id: str
    lines: list[PurchaseLineOut]
    status: Literal["sent", "partially_received", "received"]
    created_at: datetime
    receipts: list[ReceiptOut] = Field(description="what arrived, receipt by receipt, oldest first")


class PurchaseOrderList(m.Outbound):
    data: list[PurchaseOrderOut] = Field(description="newest first")


class PurchaseOrdersQuery(m.Model):
    limit: int = Field(50, ge=1, le=100)


def supplier_out(supplier: Supplier) -> SupplierOut:
    return SupplierOut.model_validate(supplier)


def line_out(line: PurchaseLine) -> PurchaseLineOut:
    return PurchaseLineOut.model_validate(line)


def purchase_order_out(order: PurchaseOrder) -> PurchaseOrderOut:
    zone = current_uow().catalog.get(order.store_id)[0].zone  # cached: the use case has just read the store
    return PurchaseOrderOut(
        id=order.id,
        number=order.number,
        supplier_id=order.supplier.id,
        lines=[line_out(line) for line in order.lines],
        status=order.status,
        created_at=local_time(order.created_at, zone),
        receipts=[
            ReceiptOut(
                received_at=local_time(receipt.received_at, zone),
                lines=[ArrivalOut.model_validate(arrival) for arrival in receipt.arrivals],
            )
            for receipt in order.receipts
        ],
    )


@route(
    "POST",
    "/v1/stores/{store}/suppliers",
    summary="Add a supplier the store orders goods from by e-mail",
    tag="staff",
    access=SUPERVISORS,
    body=SupplierIn,
    response=SupplierOut,
    present=supplier_out,
    status=201,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def create_supplier(call: Call) -> Supplier:
    body: SupplierIn = call.body
    command = CreateSupplier(call.params["store"], body.name, body.email, body.customer_number, call.caller.actor())
    return purchase_orders.create_supplier(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/suppliers",
    summary="The store's suppliers, by name",
    tag="staff",
    access=READERS,
    response=SupplierList,
    errors=(*DENIED, "store_not_found"),
)
def list_suppliers(call: Call) -> SupplierList:
    found = purchase_orders.suppliers(call.uow, call.params["store"])
    return SupplierList(data=[supplier_out(supplier) for supplier in found])


@route(
    "POST",
    "/v1/stores/{store}/purchase-orders",
    summary="Order goods from a supplier: numbered, and mailed to it with the order as PDF and CSV",
    tag="staff",
    access=SUPERVISORS,
    body=PurchaseOrderIn,
    response=PurchaseOrderOut,
    present=purchase_order_out,
    status=201,
    idempotent=True,
    key_optional=True,  # recommended: without one, a retry mails the supplier again
    claims_at_commit=lambda call: True,  # one commit, and nothing is done before it
    errors=(*DENIED, "store_not_found", "validation_failed", *IDEMPOTENCY),
)
def create_purchase_order(call: Call) -> PurchaseOrder:
    body: PurchaseOrderIn = call.body
    lines = tuple(LineAsked(line.product_id, line.name, line.quantity, line.unit) for line in body.lines)
    command = CreatePurchaseOrder(call.params["store"], body.supplier_id, lines, call.caller.actor())
    return purchase_orders.create_purchase_order(command, call.uow)


@route(
    "GET",
    "/v1/stores/{store}/purchase-orders",
    summary="The store's purchase orders, newest first",
    tag="staff",
    access=READERS,
    query=PurchaseOrdersQuery,
    response=PurchaseOrderList,
    errors=(*DENIED, "store_not_found", "validation_failed"),
)
def list_purchase_orders(call: Call) -> PurchaseOrderList:
    found = purchase_orders.purchase_orders(call.uow, call.params["store"], call.query.limit)
    return PurchaseOrderList(data=[purchase_order_out(order) for order in found])


@route(
    "GET",
    "/v1/stores/{store}/purchase-orders/{purchase_order}",
    summary="One purchase order, with what arrived of it",
    tag="staff",
    access=READERS,
    response=PurchaseOrderOut,
    present=purchase_order_out,
    errors=(*DENIED, "purchase_order_not_found"),
)
def get_purchase_order(call: Call) -> PurchaseOrder:
    return purchase_orders.purchase_order(call.uow, call.params["store"], call.params["purchase_order"])


@route(
    "GET",
    "/v1/stores/{store}/purchase-orders/{purchase_order}.pdf",
    summary="A purchase order's PDF, as its supplier got it",
    tag="staff",
    access=READERS,
    media_type="application/pdf",
    errors=(*DENIED, "purchase_order_not_found"),
)
def purchase_order_pdf(call: Call) -> Response:
    document = purchase_orders.purchase_order_document(call.uow, call.params["store"], call.params["purchase_order"])
    disposition = f'inline; filename="{document.filename}"'
    return Response(document.pdf, content_type="application/pdf", headers={"Content-Disposition": disposition})


@route(
    "POST",
    "/v1/stores/{store}/purchase-orders/{purchase_order}/receive",
    summary="Receive goods of a purchase order (all or a part): the stock of its tracked products rises",
    tag="staff",
    access=RECEIVERS,
    body=ReceiptIn,
    response=PurchaseOrderOut,
    present=purchase_order_out,
    idempotent=True,
    key_optional=True,  # recommended: without one, a retry adds the delivery to the stock again
    claims_at_commit=lambda call: True,  # one commit, and nothing is done before it
    errors=(*DENIED, "purchase_order_not_found", "over_delivery", "validation_failed", *IDEMPOTENCY),
)
def receive_goods(call: Call) -> PurchaseOrder:
    arrivals = tuple(Arrival(line.line, line.quantity) for line in call.body.lines)
    command = ReceiveGoods(call.params["store"], call.params["purchase_order"], arrivals, call.caller.actor())
    return purchase_orders.receive_goods(command, call.uow)
