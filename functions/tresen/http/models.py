"""Pydantic models for everything that crosses the HTTP boundary (and the OpenAPI document)."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# Money is integer cents: floats, strings, booleans and negatives are refused (strict mode).
Cents = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=99)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]
OrderStatus = Literal[
    "awaiting_payment",
    "paid",
    "placed",
    "accepted",
    "ready",
    "completed",
    "canceled",
    "rejected",
    "out_for_delivery",
    "delivered",
]
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE)


def rfc3339_text(value: object) -> object:
    """Times are RFC 3339 strings with an offset: pydantic alone would also take a number of
    seconds (`0` → 1970) or a date without a time."""
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 time with an offset, e.g. 2026-11-23T18:04:05+01:00")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(rfc3339_text)]


class Model(BaseModel):
    """Validators are built on first use, not at import: keeps the functions' cold start cheap."""

    model_config = ConfigDict(defer_build=True)


class Inbound(Model):
    """Request bodies ignore unknown fields: a client-sent price is dropped, never trusted."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class OrderItemIn(Inbound):
    product_id: Id
    quantity: Quantity
    options: list[Id] = Field(default_factory=list, max_length=20)
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


def one_of(*fields: str) -> dict:
    """The JSON-schema form of "exactly one of these fields" (the model's own check enforces it)."""
    return {"oneOf": [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in fields]}


# the field each fulfilment type needs, and what a request without it is told
FULFILMENT_DETAILS = {
    "table": ("table", "a table number is required for table service"),
    "delivery": ("address", "an address is required for delivery"),
}


class FulfilmentIn(Inbound):
    model_config = ConfigDict(
        extra="ignore",
        defer_build=True,
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                    "then": {"required": [field], "properties": {field: {"type": "string", "pattern": r"\S"}}},
                }
                for kind, (field, _) in FULFILMENT_DETAILS.items()
            ]
        },
    )

    type: Literal["pickup", "delivery", "table"]
    # validated even when absent, so that a missing table or address is reported at its own field
    # (`fulfilment.table`), where a form shows it, not at `fulfilment`
    table: ShortText | None = Field(default=None, validate_default=True)
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = Field(
        default=None, validate_default=True
    )
    requested_time: Time | None = Field(default=None, description="5 minutes ago at the earliest, 7 days ahead")

    @field_validator("table", "address")
    @classmethod
    def _needed_for_type(cls, value: str | None, info: ValidationInfo) -> str | None:
        field, missing = FULFILMENT_DETAILS.get(info.data.get("type"), (None, ""))
        if not value and field == info.field_name:
            raise PydanticCustomError("missing", missing)
        return value


class CustomerIn(Inbound):
    name: ShortText
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=40, pattern=r"^\+?[0-9 ()/-]{3,40}$")] | None
    ) = None


class GiftCardUseIn(Inbound):
    code: Annotated[str, StringConstraints(max_length=40)]
    amount: Cents | None = None


class PaymentIn(Inbound):
    method: Literal["online", "on_site", "card_present"] = Field(
        description="online at the provider's page, on_site at the counter, card_present by card at a terminal"
    )
    provider: Literal["sandbox", "stripe"] | None = None
    terminal_id: Id | None = Field(None, description="card_present: the terminal that takes the card")

    @model_validator(mode="after")
    def _terminal_for_card_present(self) -> "PaymentIn":
        if (self.method == "card_present") != (self.terminal_id is not None):
            raise ValueError("terminal_id is given exactly when the method is card_present")
        return self


PromotionCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class CreateOrder(Inbound):
    items: list[OrderItemIn] = Field(min_length=1, max_length=100)
    fulfilment: FulfilmentIn
    customer: CustomerIn
    tip: Cents = 0
    gift_cards: list[GiftCardUseIn] = Field(default_factory=list, max_length=10)
    payment: PaymentIn
    receipt: Literal["email"] | None = Field(
        default=None,
        description="email: the receipt (PDF) is mailed to `customer.email` once the order is paid or placed "
        "to be paid at the counter, and a correction receipt for each refund",
    )
    promotion_code: PromotionCode | None = Field(
        default=None,
        description="a promotion's code (any case): it must apply, or the order is refused "
        "(409 promotion_not_applicable, with the reason)",
    )


class Outbound(Model):
    """Response models read straight from the domain's dataclasses."""

    model_config = ConfigDict(from_attributes=True, defer_build=True)


class OptionOut(Outbound):
    id: str
    name: str
    price: int


class ProductOut(Outbound):
    id: str
    name: str
    price: int
    vat_rate: Literal["7", "19"] | None = Field(description="null for gift cards (multi-purpose vouchers)")
    available: bool
    kind: Literal["item", "giftcard"]
    options: list[OptionOut]


class StoreOut(Model):
    id: str
    name: str
    currency: str
    timezone: str
    open_now: bool
    payment_methods: list[str]
    online_providers: list[str] = Field(
        description='who takes `online` payments now, the default first: "sandbox" (dev), "stripe"'
    )
    fulfilment_types: list[str]


class MenuOut(Model):
    store: StoreOut
    products: list[ProductOut]


class LineOut(Outbound):
    id: str
    product_id: str
    name: str
    kind: Literal["item", "giftcard"]
    quantity: int
    unit_price: int
    vat_rate: str | None = Field(description="null for gift cards sold (multi-purpose vouchers)")
    total: int
    options: list[OptionOut]
    note: str | None


class VatOut(Outbound):
    rate: str
    net: int
    tax: int
    gross: int


class TotalsOut(Outbound):
    subtotal: int
    discount: int
    tip: int
    total: int
    vat: list[VatOut] = Field(description="over the taxable sales: subtotal - discount - giftcards_sold")
    giftcards_sold: int = Field(description="gift cards sold: a liability (multi-purpose vouchers), not revenue")


class GiftCardPaymentOut(Outbound):
    card_id: str
    last4: str
    amount: int
    status: Literal["held", "captured", "released"]
    refunded: int


class SoldCardOut(Model):
    card_id: str
    line_id: str
    last4: str
    amount: int
    status: Literal["pending", "active", "void"]
    code: str | None = Field(description="the full code: to the customer (X-Order-Token) once the order is paid")


class FulfilmentOut(Model):
    type: str
    table: str | None
    address: str | None
    requested_time: datetime | None


class CustomerOut(Outbound):
    name: str
    email: str
    phone: str | None


class PaymentOut(Outbound):
    id: str
    provider: str
    status: str = Field(description="card_present: processing, succeeded, failed (declined) or canceled")
    checkout_url: str | None = None
    client_secret: str | None = None
    terminal_id: str | None = Field(None, description="card_present: the terminal taking the card")
    brand: str | None = Field(None, description="card_present: the card's brand, once taken")


class OrderRefundOut(Outbound):
    id: str
    amount: int
    status: Literal["pending", "succeeded", "failed"]
    provider_amount: int = Field(description="paid back through the payment provider (or at the counter)")
    giftcard_amount: int = Field(description="credited to gift cards")
    provider_refund_id: str | None = Field(description="the provider's id of the refund, once the provider has told it")
    created_at: datetime


class TseOut(Outbound):
    """A sale's TSE transaction, as the TSE finished it."""

    tss_serial: str = Field(description="the TSE's serial number")
    client_id: str = Field(description="the till's serial number (the TSE client)")
    transaction_number: int
    signature_counter: int
    start: str = Field(description="RFC 3339, UTC")
    end: str = Field(description="RFC 3339, UTC")
    signature: str = Field(description="base64")
    signature_algorithm: str
    log_time_format: str
    public_key: str = Field(description="base64")
    state: Literal["FINISHED", "CANCELLED"]
    process_data: str = Field(description="what the TSE signed: DSFinV-K's process data of the receipt")
    qr_code: str = Field(description="the receipt's DSFinV-K V0 code")


class OrderPromotionOut(Outbound):
    id: str
    code: str | None = Field(description="null: a promotion that applied by itself")
    name: str | None
    discount: int = Field(description="what it took off the order's goods: part of totals.discount")


class OrderOut(Model):
    id: str
    store_id: str
    number: int
    status: OrderStatus
    payment_status: Literal["unpaid", "paid", "partially_refunded", "refunded", "mismatch"]
    currency: str
    lines: list[LineOut]
    totals: TotalsOut
    gift_card_amount: int = Field(description="paid by gift cards (a payment method, not a discount)")
    gift_cards: list[GiftCardPaymentOut]
    gift_cards_sold: list[SoldCardOut]
    amount_due: int
    refunded_amount: int
    refunds: list[OrderRefundOut] = Field(
        description="oldest first, including refunds made at the provider (its dashboard) and failed ones"
    )
    invoice_number: str | None
    receipt: Literal["email"] | None = Field(description="email: receipts are mailed to the customer")
    payment: PaymentOut | None
    last_payment_error: str | None
    tse_status: Literal["pending", "signed", "failed"] | None = Field(
        None, description="a sale taken on site: its TSE transaction pending, signed, or failed (the TSE was down)"
    )
    tse: TseOut | None = Field(None, description="the sale's TSE transaction, once signed")
    fulfilment: FulfilmentOut
    customer: CustomerOut
    customer_id: str | None = Field(
        None, description="staff answers: the store's customer record whose e-mail or phone the order's matches"
    )
    business_day: str
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    channel: Literal["online", "counter"] = Field(
        "online", description="where it was placed: by the customer, or by staff at the counter"
    )
    promotion: OrderPromotionOut | None = Field(None, description="the promotion the order got, if any")


class CreatedOrderOut(OrderOut):
    access_token: str = Field(description="Shown once; send it as X-Order-Token to read the order later")


class OrderPage(Model):
    data: list[OrderOut]
    next_cursor: str | None
    has_more: bool


class OrderListQuery(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    status: OrderStatus | None = None
    since: Time | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class Health(Model):
    status: Literal["ok", "unavailable"]


class WebhookAck(Model):
    received: bool = True
    duplicate: bool = False
    ignored: str | None = Field(default=None, description="an event type we do not handle (recorded once)")
    unprocessable: str | None = Field(
        default=None, description="why the event was parked for an operator (`tresen webhooks --unprocessable`)"
    )


class StatusChange(Inbound):
    status: Literal["accepted", "ready", "completed", "rejected"]
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class ExpiredOut(Model):
    expired: int


class RefundLineIn(Inbound):
    line_id: Id
    quantity: Quantity


class RefundIn(Inbound):
    model_config = ConfigDict(extra="ignore", defer_build=True, json_schema_extra=one_of("amount", "lines"))

    amount: Annotated[int, Field(strict=True, ge=1, le=100_000_000)] | None = None
    lines: list[RefundLineIn] | None = Field(default=None, min_length=1, max_length=100)
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    to: Literal["original", "giftcard"] = Field(
        default="original",
        description="original: gift cards that paid first, the rest through the provider; giftcard: all onto a card",
    )
    giftcard_code: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None, description="with to=giftcard: credit this card of the store; without: a new card is issued"
    )
    restock: Annotated[bool, Field(strict=True)] = Field(
        default=False, description="a refund by lines: the refunded units go back to the products' stock"
    )

    @model_validator(mode="after")
    def _amount_or_lines(self) -> "RefundIn":
        if (self.amount is None) == (self.lines is None):
            raise ValueError("send either amount or lines")
        if self.restock and self.lines is None:
            raise ValueError("restock goes with a refund by lines")
        return self


class RefundCardOut(Model):
    id: str
    last4: str
    balance: int
    code: str | None = Field(description="the full code, when the refund issued a new card (shown once)")


class RefundOut(Model):
    id: str
    order_id: str
    amount: int
    status: Literal["pending", "succeeded", "failed"]
    to: Literal["original", "giftcard"]
    provider_amount: int = Field(description="paid back through the payment provider (or at the counter)")
    giftcard_amount: int = Field(description="credited to gift cards")
    giftcard: RefundCardOut | None = None
    provider_refund_id: str | None = Field(
        default=None,
        description="null here: the provider is asked right after this answer is stored; the order's `refunds` show it",
    )


class PasskeyIn(Inbound):
    pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    protect: list[Literal["void_unpaid", "refund", "discount", "customer_data"]] = Field(max_length=4)


class VoidIn(Inbound):
    lines: list[RefundLineIn] = Field(min_length=1, max_length=100)
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None


class DiscountIn(Inbound):
    model_config = ConfigDict(extra="ignore", defer_build=True, json_schema_extra=one_of("amount", "percent"))

    amount: Annotated[int, Field(strict=True, ge=1, le=100_000_000)] | None = None
    percent: Annotated[int, Field(strict=True, ge=1, le=100)] | None = None
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _amount_or_percent(self) -> "DiscountIn":
        if (self.amount is None) == (self.percent is None):
            raise ValueError("send either amount or percent")
        return self


GiftCardAmount = Annotated[int, Field(strict=True, ge=1, le=100_000_00)]
GiftCardCode = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class GiftCardIssueIn(Inbound):
    amount: GiftCardAmount
    count: Annotated[int, Field(strict=True, ge=2, le=10_000)] | None = Field(
        default=None, description="2-10 000: a block activation, processed in chunks of 100 (202)"
    )


class GiftCardAmountIn(Inbound):
    amount: GiftCardAmount
    auth_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{6}$", to_upper=True)] | None = Field(
        default=None, description="captures this authorization (redeem) or uses this approval (load)"
    )


class GiftCardAuthorizeIn(Inbound):
    type: Literal["redeem", "load"]
    amount: GiftCardAmount


class GiftCardDeactivateIn(Inbound):
    reason: Literal["lost", "stolen", "fraud", "other"]


class GiftCardBalanceIn(Inbound):
    code: GiftCardCode


class HoldOut(Outbound):
    auth_code: str
    type: Literal["redeem", "load"]
    amount: int
    expires_at: datetime
    order_id: str | None


class GiftCardActivityOut(Outbound):
    n: int
    type: str
    amount: int
    balance_change: int
    balance_after: int
    at: datetime
    order_id: str | None
    refund_id: str | None
    auth_code: str | None
    reason: str | None
    linked_card_id: str | None


GiftCardStatus = Literal["pending", "active", "deactivated", "expired"]


class GiftCardOut(Model):
    id: str
    code: str | None = Field(description="the full code: only in the response that created the card")
    last4: str
    status: GiftCardStatus
    balance: int
    currency: str
    issued_at: datetime
    expires_at: datetime
    deactivation_reason: str | None
    transferred_to: str | None
    transferred_from: str | None
    holds: list[HoldOut]
    activities: list[GiftCardActivityOut] = Field(description="the 20 latest, newest first (card inquiry only)")
    auth_code: str | None = Field(default=None, description="the new authorization's code (authorizations only)")


class GiftCardTransferOut(Model):
    old: GiftCardOut
    new: GiftCardOut


class BlockAcceptedOut(Model):
    activation_id: str
    status: Literal["running"] = "running"


class ActivationChunkOut(Model):
    index: int
    status: Literal["pending", "done"]
    activated: int
    failed: int


class ActivationOut(Outbound):
    id: str
    status: Literal["running", "done"]
    total: int
    activated: int
    failed: int
    chunks: list[ActivationChunkOut]


class GiftCardBalanceOut(Model):
    status: GiftCardStatus
    balance: int
    currency: str
    expires_at: datetime


# The journal's checkpoints and proofs. Hashes and proofs are standard base64, as in C2SP notes.
Base64Hash = Annotated[str, Field(description="base64 of a 32-byte SHA-256 hash")]
TreeSize = Annotated[int, Field(ge=1, le=2**63 - 1)]


class CheckpointOut(Model):
    store_id: str
    origin: str = Field(description="tresen/<project id>/<store id>")
    size: int = Field(description="how many journal entries (seq 1..size) the tree holds")
    root: Base64Hash
    key_id: str = Field(description="8 hex digits: the signing key's C2SP key id")
    signed_at: str = Field(description="RFC 3339, UTC")
    note: str = Field(description="the C2SP tlog-checkpoint signed note")


class CheckpointPage(Model):
    data: list[CheckpointOut]
    next_cursor: str | None
    has_more: bool


class PageQuery(Model):
    """`limit` and `cursor` of a paginated list (checkpoints, closings)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, StringConstraints(max_length=500)] | None = None


class EntryProofQuery(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    tree_size: TreeSize | None = None


class EntryProofOut(Model):
    entry: dict[str, Any] = Field(description="the journal entry as stored; its RFC 8785 bytes are the leaf")
    leaf_index: int
    tree_size: int
    proof: list[Base64Hash] = Field(description="RFC 6962 inclusion proof, from the leaf's sibling up")


class ConsistencyQuery(Model):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=False)

    from_size: TreeSize = Field(alias="from")
    to_size: TreeSize = Field(alias="to")


class ConsistencyOut(Model):
    model_config = ConfigDict(defer_build=True, serialize_by_alias=True)

    from_size: int = Field(serialization_alias="from")
    to_size: int = Field(serialization_alias="to")
    proof: list[Base64Hash]


class OrderProofOut(Model):
    seq: int
    type: str
    proof: str = Field(description="C2SP tlog-proof; `extra` holds the entry's RFC 8785 bytes")


class OrderProofsOut(Model):
    proofs: list[OrderProofOut]


class PublicKeyOut(Model):
    key_id: str
    vkey: str = Field(description="C2SP signed-note verifier key")
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    valid_from: str = Field(description="RFC 3339, UTC")
    valid_to: str | None = Field(description="RFC 3339, UTC; null for the key signing now")


class PublicKeysOut(RootModel[list[PublicKeyOut]]):
    model_config = ConfigDict(defer_build=True)


class SignedCheckpointsOut(Model):
    signed: list[CheckpointOut]


# Closings (Z-reports): read straight from the domain's `Closing`. All amounts in cents.


class VatTotalOut(Outbound):
    gross: int
    net: int
    tax: int


class RefundFiguresOut(Outbound):
    count: int
    amount: int
    vat: list[VatOut] = Field(description="per rate")
    by_method: dict[str, int] = Field(description="on_site, online, giftcard, card_present")


class ReductionsOut(Outbound):
    count: int
    amount: int


class DiscountsOut(ReductionsOut):
    vat: list[VatOut] = Field(description="per rate (closings made before promotions: none)")


class GiftCardFiguresOut(Outbound):
    sold: int = Field(description="a liability (multi-purpose vouchers), not revenue")
    redeemed: int


class CardPaymentsOut(Outbound):
    count: int
    amount: int


class ClosingCheckpointOut(Outbound):
    origin: str
    size: int
    root: Base64Hash
    key_id: str
    note: str = Field(description="the C2SP tlog-checkpoint signed note")


class ClosingOut(Outbound):
    """A Z-report. Every figure is computed from the journal entries first_seq..last_seq alone."""

    store_id: str
    z_number: int
    business_day: str = Field(description="YYYY-MM-DD: the business day of the period's last entry")
    closed_at: str = Field(description="RFC 3339, store time")
    closed_by: dict[str, Any]
    first_seq: int
    last_seq: int
    currency: str
    counts: dict[str, int]
    sales: VatTotalOut = Field(description="over all rates")
    vat: list[VatOut] = Field(description="the sales per rate")
    payments: dict[str, int] = Field(description="on_site, online, giftcard, card_present (a card at a terminal)")
    card_brands: dict[str, CardPaymentsOut] = Field(
        description="the card_present payments per card brand (visa, girocard, …, unknown): they add up to "
        "payments.card_present; refunds to cards are not split by brand"
    )
    tips: int
    refunds: RefundFiguresOut = Field(description="refunds made, per rate and by how they were paid back")
    failed_refunds: RefundFiguresOut = Field(
        description="provider refunds reported failed in this period (of this or an earlier closing): added back"
    )
    voids: ReductionsOut
    discounts: DiscountsOut = Field(
        description="staff's discounts on unpaid orders (when given) and promotions' (with their sale)"
    )
    giftcards: GiftCardFiguresOut
    checkpoint: ClosingCheckpointOut = Field(description="the signed checkpoint at last_seq")
    previous_hash: str
    hash: str = Field(description="SHA-256 of the RFC 8785 bytes of the closing as stored, without `hash`")


class ClosingPage(Model):
    data: list[ClosingOut]
    next_cursor: str | None
    has_more: bool


class ClosingsCreated(Model):
    closed: list[ClosingOut]
