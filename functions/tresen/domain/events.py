"""The journal's events: every type a use case appends, with its payload (`data`) declared field by
field. These models are the schema: `make_entry` refuses a payload that does not validate against
its type's model, `tresen journal-schema` renders them as docs/journal.md and as one JSON Schema
per type and version, and readers read entries through them (`read_event`, `Projection`).

A payload model accepts exactly what is written: no field it does not declare (`extra="forbid"`,
so a misspelt field fails) and no value of another type (`strict`: the entry keeps the data as the
writer gave it, so a `"5"` that validated as 5 would reach the chain as `"5"`). A field with a
default may be left out of the entry; one without is always written, with null where its type
allows it.

**Versions.** An entry without `v` is version 1 of its type, as every entry written before types
had versions. A type whose payload changes shape gets the next version; its entries carry `"v": n`
at the top level (covered by the hash, as every member is), and readers pick the model by
(type, `v` or 1). Version-1 entries never get a `v`, so their bytes and hashes stay as they are.
An additive change keeps the version: a new field with a default (absent from older entries, which
read as that default) adds to the model of the version written now, and its entries stay valid.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.json_schema import SkipJsonSchema

PaymentMethod = Literal["on_site", "online", "card_present"]


class Payload(BaseModel):
    """What an entry of one event type holds in `data`."""

    model_config = ConfigDict(
        defer_build=True,  # each model's validator is built when first used, not by every cold start
        extra="forbid",
        strict=True,
        frozen=True,
        validate_by_name=True,  # writers construct `from_=...`; entries spell it `from`
        validate_by_alias=True,
        serialize_by_alias=True,
    )

    TYPE: ClassVar[str]
    VERSION: ClassVar[int]

    def as_data(self) -> dict[str, Any]:
        """The payload as an entry's `data`: fields left out stay out."""
        return self.model_dump(exclude_unset=True)


class Part(Payload):
    """A structure inside a payload (a VAT line, a sale, an actor)."""


EVENTS: dict[tuple[str, int], type[Payload]] = {}  # (type, version) → its payload model
CURRENT_VERSION: dict[str, int] = {}  # type → the version written now

P = TypeVar("P", bound=type[Payload])


def declared(type_: str, version: int = 1) -> Callable[[P], P]:
    """Registers a payload model as `type_`'s payload in `version`; the highest one is written."""

    def register(model: P) -> P:
        model.TYPE, model.VERSION = type_, version
        EVENTS[(type_, version)] = model
        CURRENT_VERSION[type_] = max(version, CURRENT_VERSION.get(type_, 0))
        return model

    return register


def cents(meaning: str, default: Any = ...) -> Any:
    return Field(default, description=f"{meaning}, in cents")


# ---------------------------------------------------------------------------------- structures


class VatRecord(Part):
    """The VAT of one rate: net + tax == gross, to the cent."""

    rate: str = Field(description='VAT rate in percent as a decimal string: "7", "19" ("0": a refunded tip)')
    net: int = cents("net amount of the rate")
    tax: int = cents("VAT of the rate")
    gross: int = cents("gross amount of the rate")


class SalePromotion(Part):
    """The promotion a sale was given: its discount, per VAT rate of the goods it was given on."""

    id: str = Field(description="the promotion (promo_…)")
    discount: int = cents("what it took off the goods")
    vat: list[VatRecord] = Field(description="the discount per VAT rate, ascending by rate: the gross adds up to it")


class Sale(Part):
    """What an invoice sold, as the closing, DATEV and DSFinV-K read it from the one entry that issues
    the invoice number."""

    payment_method: PaymentMethod = Field(
        description="how the order was paid: at the counter, online, or by card at a terminal (card_present)"
    )
    total: int = cents("the order's total: goods after discount, plus tip, plus gift cards sold")
    tip: int = cents("tip, passed on to staff (no revenue, no VAT)")
    gift_card_amount: int = cents("part of the total paid by gift cards")
    giftcards_sold: int = cents("gift cards sold in the order: a liability, not revenue, no VAT")
    vat: list[VatRecord] = Field(description="VAT per rate of the goods sold, ascending by rate")
    card_brand: str | None = Field(None, description="card_present: the card's brand (visa, mastercard, girocard, …)")
    terminal_id: str | None = Field(None, description="card_present: the terminal that took the card")
    promotion: SalePromotion | None = Field(
        None, description="the promotion given on the sale (its discount is already out of `total` and `vat`)"
    )


class Actor(Part):
    """Who acted: a customer, a staff member, an API key, the payment provider or a job."""

    type: str = Field(description="customer, staff, api_key, provider, system or cli")
    uid: str | None = Field(None, description="the staff member's user id (staff)")
    role: str | None = Field(None, description="the staff member's role: staff, supervisor, owner, finance or driver")
    key_id: str | None = Field(None, description="the API key's id (api_key)")
    job: str | None = Field(None, description="the job that acted (system)")
    activation_id: str | None = Field(None, description="the block activation the job works on")
    passkey: bool | None = Field(None, description="true: the store's passkey approved the action")


class PaymentMethods(Part):
    """An amount per way of payment."""

    on_site: int = cents("paid at the counter")
    online: int = cents("paid online, through the payment provider")
    giftcard: int = cents("paid by gift cards")
    card_present: int = cents("paid by card at a terminal (0 in closings made before card terminals)", 0)


# ------------------------------------------------------------------------------------- orders


class OrderedLine(Part):
    line_id: str = Field(description="the line's id within the order: L1, L2, …")
    product_id: str = Field(description="the catalog's product id")
    quantity: int = Field(description="how many, a count")
    unit_price: int = cents("price of one, options included (gross)")
    vat_rate: str | None = Field(description="VAT rate in percent as a decimal string; null for a gift card sold")
    total: int = cents("unit_price × quantity")
    kind: Literal["item", "giftcard"] = Field(description="item, or a gift card sold")
    options: list[str] = Field(description="the ids of the options chosen")


class OrderTotals(Part):
    subtotal: int = cents("sum of the lines")
    discount: int = cents("discount given")
    tip: int = cents("tip")
    total: int = cents("subtotal - discount + tip")
    vat: list[VatRecord] = Field(description="VAT per rate over the goods: subtotal - discount - giftcards_sold")
    giftcards_sold: int = cents("gift cards sold: a liability, not revenue")


class CardShare(Part):
    card_id: str = Field(description="the gift card's id")
    amount: int = cents("what the card pays")


class CardSold(Part):
    card_id: str = Field(description="the id of the card sold (pending until the order is paid)")
    line_id: str = Field(description="the order line that sells it")
    amount: int = cents("the card's value")


class OrderPromotion(Part):
    id: str = Field(description="the promotion (promo_…)")
    code: str | None = Field(description="its code, as the customer gave it (upper case); null: it applied by itself")
    discount: int = cents("what it took off the order's goods (part of totals.discount)")


class Pseudonyms(Part):
    """Personal data as keyed hashes only: erasing a customer drops the store's key, not entries."""

    name: str = Field(description="HMAC-SHA256 (hex) of the name, trimmed and case-folded, under the store's key")
    email: str = Field(description="HMAC-SHA256 (hex) of the e-mail address, trimmed and case-folded")


@declared("order.placed")
class OrderPlaced(Payload):
    """An order was placed: its lines and totals as priced from the catalog, how it is paid, and
    who ordered (as pseudonyms). An order paid at placement (at the counter, or wholly by gift
    cards) gets its invoice number here and carries its `sale`."""

    order_id: str = Field(description="the order's id (ord_…)")
    number: int = Field(description="pickup number, gap-free per business day")
    business_day: str = Field(description="business day in store time, YYYY-MM-DD (a day runs 05:00 to 05:00)")
    status: str = Field(description="placed (pay at the counter), awaiting_payment (online) or paid")
    payment_method: PaymentMethod = Field(description="at the counter or online")
    payment_id: str | None = Field(description="the provider's payment; null when nothing is paid online")
    invoice_number: str | None = Field(description="{series}-{year}-{n:06d}, gap-free per year; null until paid")
    currency: str = Field(description="ISO 4217 code of every amount (EUR)")
    lines: list[OrderedLine] = Field(description="the order's lines, in order")
    totals: OrderTotals = Field(description="the order's totals")
    gift_card_amount: int = cents("part of the total paid by gift cards")
    gift_cards: list[CardShare] = Field(description="the gift cards paying, each with its share")
    cards_sold: list[CardSold] = Field(description="gift cards the order sells")
    fulfilment_type: str = Field(description="how the order reaches the customer: pickup, table, delivery, …")
    customer: Pseudonyms = Field(description="the customer, pseudonymised")
    sale: Sale | None = Field(None, description="present when the order was paid at placement")
    channel: Literal["online", "counter"] = Field(
        "online", description="where it was placed: by the customer (absent: online) or by staff at the counter"
    )
    promotion: OrderPromotion | None = Field(None, description="the promotion the order got, if any")


@declared("order.paid")
class OrderPaid(Payload):
    """An order was paid and got its invoice number: online when the provider reported the payment
    (with the `sale`), or at placement when gift cards paid all of it (the sale is on `order.placed`)."""

    order_id: str = Field(description="the order")
    invoice_number: str = Field(description="the invoice number issued now")
    amount: int = cents("what the provider collected (0 when gift cards paid all of it)")
    payment_id: str | None = Field(None, description="the provider's payment (absent when gift cards paid)")
    event_id: str | None = Field(None, description="the provider's event that reported it")
    provider: str | None = Field(None, description="the payment provider: sandbox, stripe, …")
    currency: str | None = Field(None, description="ISO 4217 code of the amount")
    gift_card_amount: int | None = cents("what gift cards paid (present when they paid all of it)", None)
    sale: Sale | None = Field(None, description="the sale (present when paid online)")


@declared("order.canceled")
class OrderCanceled(Payload):
    """An unpaid order was canceled: nobody paid it within its window, or the customer canceled the
    payment at the provider."""

    order_id: str = Field(description="the order")
    reason: Literal["expired", "payment_canceled"] = Field(description="why")
    payment_id: str | None = Field(None, description="the provider's payment (payment_canceled)")
    event_id: str | None = Field(None, description="the provider's event (payment_canceled)")
    provider: str | None = Field(None, description="the payment provider (payment_canceled)")


class StatusChange(Payload):
    order_id: str = Field(description="the order")
    from_: str = Field(alias="from", description="the order's status before")
    to: str = Field(description="the order's status now")


@declared("order.accepted")
class OrderAccepted(StatusChange):
    """Staff accepted an order (paid, or to be paid at the counter)."""


@declared("order.ready")
class OrderReady(StatusChange):
    """Staff marked an accepted order ready."""


@declared("order.completed")
class OrderCompleted(StatusChange):
    """Staff marked a ready order handed over."""


@declared("order.rejected")
class OrderRejected(StatusChange):
    """Staff rejected an order. One already paid online is refunded (a `refund.created` follows in
    the same commit), except for gift cards it sold."""

    reason: str | None = Field(description="the reason staff gave, if any")


class TourStatusChange(StatusChange):
    tour_id: str = Field(description="the delivery tour that moved it, `tour_…`")


@declared("order.out_for_delivery")
class OrderOutForDelivery(TourStatusChange):
    """A delivery order left the store with its driver: its tour started."""


@declared("order.delivered")
class OrderDelivered(TourStatusChange):
    """The driver handed a delivery order over at its address: final, as `completed` is."""


@declared("order.returned")
class OrderReturned(TourStatusChange):
    """A delivery order came back undelivered: its tour finished without it. It is ready again, for
    another tour or the counter."""


class CorrectedTotals(Part):
    subtotal: int = cents("sum of the lines now")
    discount: int = cents("discount now")
    total: int = cents("the order's total now")


class VoidedLine(Part):
    line_id: str = Field(description="the line")
    quantity: int = Field(description="how many were taken off, a count")


class Correction(Payload):
    order_id: str = Field(description="the order")
    reason: str | None = Field(description="the reason staff gave, if any")
    totals: CorrectedTotals = Field(description="the order's totals after the correction")
    reduced_by: int = cents("what the correction took off the total")
    status: str = Field(description="the order's status after it")


@declared("order.voided")
class OrderVoided(Correction):
    """Items were taken off an unpaid order."""

    lines: list[VoidedLine] = Field(description="the lines and quantities taken off")


@declared("order.discounted")
class OrderDiscounted(Correction):
    """An unpaid order was given a discount (by amount or by percent)."""

    amount: int | None = cents("the discount asked for as an amount (null: by percent)")
    percent: int | None = Field(description="the discount asked for in percent, an integer (null: by amount)")
    vat: list[VatRecord] | None = Field(
        None, description="what it took off, per VAT rate (absent in entries written before promotions)"
    )


# ----------------------------------------------------------------------------------- payments


class ProviderEventRecord(Payload):
    order_id: str = Field(description="the order")
    payment_id: str = Field(description="the provider's payment")
    event_id: str = Field(description="the provider's event")
    provider: str = Field(description="the payment provider: sandbox, stripe, …")


@declared("payment.event_ignored")
class PaymentEventIgnored(ProviderEventRecord):
    """A provider event that changes nothing (the order moved on, or a type Tresen does not act on),
    recorded once."""

    type: str = Field(description="the provider event's type: payment.succeeded, payment.failed, …")
    reason: str = Field(description="why it changes nothing, e.g. 'order is paid/paid'")


@declared("payment.failed")
class PaymentFailed(ProviderEventRecord):
    """A payment attempt failed; the order stays open for another attempt."""

    error: str = Field(description="the provider's message")


@declared("payment.mismatch")
class PaymentMismatch(ProviderEventRecord):
    """A payment succeeded for another amount or currency than the order owes: never marked paid."""

    amount: int | None = cents("what the provider collected (null if it did not say)")
    currency: str | None = Field(description="its ISO 4217 code (null if it did not say)")
    expected_amount: int = cents("what the order owes")
    expected_currency: str = Field(description="the order's ISO 4217 code")


@declared("payment.succeeded_after_close")
class PaymentSucceededAfterClose(ProviderEventRecord):
    """A payment succeeded for an order already canceled or rejected: it is refunded in full (a
    `refund.created` follows in the same commit)."""

    amount: int | None = cents("what the provider collected (null if it did not say)")
    currency: str | None = Field(description="its ISO 4217 code (null if it did not say)")
    status: str = Field(description="the order's status: canceled or rejected")


# ------------------------------------------------------------------------------------ refunds


class RefundRecord(Payload):
    id: str = Field(description="the refund's id (re_…)")
    order_id: str = Field(description="the order refunded")


@declared("refund.created")
class RefundCreated(RefundRecord):
    """A refund of a paid order: its amount, its VAT split and how it is paid back. What goes back
    the way the order was paid is `provider_amount` (the provider, or the counter for an order paid
    there); what goes onto gift cards is `giftcard_amount`."""

    payment_id: str | None = Field(description="the provider's payment refunded; null for an order paid at the counter")
    amount: int = cents("the whole refund: provider_amount + giftcard_amount")
    provider_amount: int = cents("paid back through the provider, or at the counter")
    giftcard_amount: int = cents("credited to gift cards")
    reason: str = Field(description="why: the reason given, rejected, paid_after_close, made_at_provider, or empty")
    vat: list[VatRecord] = Field(description='the refund per VAT rate ("0": a refunded tip); a gift card sold has none')
    method: PaymentMethod = Field(description="the order's payment method: where provider_amount goes back")
    provider_refund_id: str | None = Field(None, description="the provider's refund (a refund made at the provider)")
    provider_reported_amount: int | None = cents("what the provider reported (a refund made at the provider)", None)


class ProviderAnswer(RefundRecord):
    amount: int = cents("what the provider was to pay back: its share of the refund")
    provider_refund_id: str = Field(description="the provider's refund")


@declared("refund.pending")
class RefundPending(ProviderAnswer):
    """The provider took a refund on but has not paid it out yet (it named its refund id)."""


@declared("refund.succeeded")
class RefundSucceeded(RefundRecord):
    """A refund was paid out: by the provider, or at once at the counter or onto gift cards."""

    amount: int = cents("paid back: the provider's share, or all of the refund when paid out at once")
    provider_refund_id: str | None = Field(None, description="the provider's refund (absent: paid out at once)")
    paid_out_at: Literal["counter", "giftcard"] | None = Field(
        None, description="where it was paid out at once: at the counter or onto gift cards (absent: by the provider)"
    )


@declared("refund.failed", version=1)
class RefundFailedV1(ProviderAnswer):
    """The provider could not pay a refund out, even after reporting success: what it was to pay
    back is refundable again; gift-card credits stand. Version 1, before the closing added failed
    refunds back."""


class FailedRefund(Part):
    """What a failed provider refund gives back, for the closing whose range holds its entry."""

    method: PaymentMethod = Field(description="the order's payment method: where the money stays")
    amount: int = cents("what the provider was to pay back and did not")
    vat: list[VatRecord] = Field(description="that amount per VAT rate (gift cards sold in the order bear none)")


@declared("refund.failed", version=2)
class RefundFailed(ProviderAnswer):
    """The provider could not pay a refund out, even after reporting success: what it was to pay
    back is refundable again; gift-card credits stand. The closing whose range holds this entry adds
    `failed_refund` back, whichever closing counted the refund."""

    failed_refund: FailedRefund | None = Field(
        None,
        description="what comes back into the books (absent: the provider was to pay nothing, or it failed before)",
    )


# --------------------------------------------------------------------------------- gift cards


class CardActivity(Payload):
    """One activity of a gift card's ledger (`giftcard.<activity>`): never the code."""

    card_id: str = Field(description="the card's id (gc_…)")
    last4: str = Field(description="the last four characters of its code")
    n: int = Field(description="the activity's place in the card's ledger, from 1")
    amount: int = cents("what the activity is about (never negative)")
    balance_change: int = cents("what it changed the spendable balance by (negative: taken out)")
    balance_after: int = cents("the spendable balance after it")
    order_id: str | None = Field(None, description="the order it concerns, if any")
    refund_id: str | None = Field(None, description="the refund it credits, if any")
    auth_code: str | None = Field(None, description="the authorization it opens, captures or releases")
    reason: str | None = Field(None, description="why a card was deactivated: lost, stolen, fraud, other, …")
    linked_card_id: str | None = Field(None, description="the other card of a transfer")


@declared("giftcard.activate")
class CardActivated(CardActivity):
    """A card became active with its value: sold at the counter (no `order_id`: paid at the counter)
    or in a paid order."""


@declared("giftcard.load")
class CardLoaded(CardActivity):
    """Value was added to a card (with `auth_code`: the value a load authorization approved)."""


@declared("giftcard.redeem")
class CardRedeemed(CardActivity):
    """Value was spent from a card."""


@declared("giftcard.authorize")
class CardAuthorized(CardActivity):
    """An amount was held on a card for 7 days under an authorization code (a redeem hold), or a
    load was approved (nothing held)."""


@declared("giftcard.capture")
class CardCaptured(CardActivity):
    """Held money was taken for good."""


@declared("giftcard.release")
class CardReleased(CardActivity):
    """Held money went back to the balance (released, expired, or the rest of a smaller capture)."""


@declared("giftcard.refund")
class CardRefunded(CardActivity):
    """A refund was credited to a card (a new one, activated by it, or one of the store's)."""


@declared("giftcard.deactivate")
class CardDeactivated(CardActivity):
    """A card was blocked (lost, stolen, fraud, other) or voided with the unpaid order that sold it."""


@declared("giftcard.reactivate")
class CardReactivated(CardActivity):
    """A blocked card was unblocked."""


@declared("giftcard.transfer_out")
class CardTransferredOut(CardActivity):
    """A card's whole balance moved to a new card; the old one is deactivated."""


@declared("giftcard.transfer_in")
class CardTransferredIn(CardActivity):
    """A new card was activated with the balance of the card it replaces."""


@declared("giftcard.expire")
class CardExpired(CardActivity):
    """A card passed its validity; `amount` is the balance it had, no longer spendable."""


@declared("giftcard.block_started")
class CardBlockStarted(Payload):
    """Staff started activating a block of cards of one value, issued in chunks."""

    activation_id: str = Field(description="the block activation (gca_…)")
    amount: int = cents("each card's value")
    count: int = Field(description="how many cards")


class BlockCard(Part):
    card_id: str = Field(description="the card's id")
    last4: str = Field(description="the last four characters of its code")


@declared("giftcard.block_chunk_activated")
class CardBlockChunkActivated(Payload):
    """One chunk of a block was issued: one entry for all its cards, each with ledger activity 1."""

    activation_id: str = Field(description="the block activation")
    chunk: int = Field(description="the chunk's index, from 0")
    amount: int = cents("each card's value")
    cards: list[BlockCard] = Field(description="the cards issued (codes that collided are left out)")


# ------------------------------------------------------------------------------ store settings


@declared("api_key.created")
class ApiKeyCreated(Payload):
    """An API key was created (never the key itself)."""

    key_id: str = Field(description="the key's id")
    name: str = Field(description="the name it was given")
    scopes: list[str] = Field(description="what it may do: exports:read, journal:read")


@declared("api_key.revoked")
class ApiKeyRevoked(Payload):
    """An API key was revoked."""

    key_id: str = Field(description="the key's id")


@declared("passkey.changed")
class PasskeyChanged(Payload):
    """The store's passkey was set (never its hash) and what it protects."""

    protect: list[str] = Field(description="the actions it approves: void_unpaid, refund, discount, customer_data")


@declared("accounting.changed")
class AccountingChanged(Payload):
    """The store's accounting settings for the DATEV export changed."""

    chart: str = Field(description="the chart of accounts: SKR03 or SKR04")
    consultant_number: int | None = Field(description="DATEV Beraternummer (null: not set)")
    client_number: int | None = Field(description="DATEV Mandantennummer (null: not set)")
    accounts: dict[str, str] = Field(description="account numbers overriding the chart's defaults, by role")


# ------------------------------------------------------------------------------ Stripe Connect


@declared("stripe.account_connected")
class StripeAccountConnected(Payload):
    """The store is paid on its own Stripe connected account from now on: every Stripe request made
    for it names this account."""

    account_id: str = Field(description="the connected account, `acct_…`")


@declared("stripe.account_status_changed")
class StripeAccountStatusChanged(Payload):
    """Stripe reported that the store's account may now, or may no longer, take card payments or be
    paid out: until `charges_enabled`, the store does not offer Stripe."""

    account_id: str = Field(description="the connected account, `acct_…`")
    charges_enabled: bool = Field(description="the account may take payments")
    payouts_enabled: bool = Field(description="Stripe may pay the account's balance out to the merchant")
    event_id: str | None = Field(description="Stripe's `account.updated` event that reported it (null: Tresen asked)")


@declared("stripe.platform_fee_set")
class StripePlatformFeeSet(Payload):
    """The fee the platform takes from each of the store's Stripe payments (Stripe's
    `application_fee_amount`): `percent` of the amount plus `fixed`, rounded half up to the cent."""

    percent: str | None = Field(description='percentage of each payment as a decimal string ("1.5"); null: no fee')
    fixed: int | None = cents("fixed part of the fee per payment (null: no fee)")


# ---------------------------------------------------------------------------------- webhooks


@declared("webhook_endpoint.created")
class WebhookEndpointCreated(Payload):
    """The owner added an endpoint of the merchant's own systems that receives the store's events
    (never its secret; its URL only as the origin, since a path may hold the receiver's token)."""

    endpoint_id: str = Field(description="the endpoint's id, `we_…`")
    origin: str = Field(description="scheme://host[:port] of its URL")
    events: list[str] = Field(description='the event types it receives ("*": all, "giftcard.*": a group)')
    after_seq: int = Field(description="the journal's head when it was made: it receives the entries after this seq")


@declared("webhook_endpoint.secret_rotated")
class WebhookEndpointSecretRotated(Payload):
    """The endpoint's signing secret was replaced; the previous one signs beside it until `previous_valid_until`."""

    endpoint_id: str = Field(description="the endpoint")
    previous_valid_until: str = Field(description="RFC 3339: until then both secrets sign each event")


@declared("webhook_endpoint.disabled")
class WebhookEndpointDisabled(Payload):
    """Tresen stopped sending to an endpoint: it answered 410 Gone, or no attempt succeeded for 5 days
    (its owner was e-mailed)."""

    endpoint_id: str = Field(description="the endpoint")
    reason: Literal["gone", "failing"] = Field(description="gone: it answered 410; failing: 5 days without a success")
    failing_since: str | None = Field(description="RFC 3339: its first failure with no success after it (null: gone)")


@declared("webhook_endpoint.enabled")
class WebhookEndpointEnabled(Payload):
    """The owner enabled a disabled endpoint again: it receives the entries after `after_seq` (what
    happened while it was disabled is not sent)."""

    endpoint_id: str = Field(description="the endpoint")
    after_seq: int = Field(description="the journal's head when it was enabled")


@declared("webhook_endpoint.deleted")
class WebhookEndpointDeleted(Payload):
    """The owner deleted an endpoint: nothing more is sent to it, not even what was still being retried."""

    endpoint_id: str = Field(description="the endpoint")


# ---------------------------------------------------------------------------------- customers


@declared("customer.created")
class CustomerCreated(Payload):
    """Staff made a customer record (an import journals one `customers.imported` for all of its
    rows). Personal data only as keyed pseudonyms (the store's key): the record itself is in
    Firestore and may be erased."""

    customer_id: str = Field(description="the record's id, `cus_…`")
    email: str | None = Field(description="keyed pseudonym of the e-mail address (null: none)")
    phone: str | None = Field(description="keyed pseudonym of the phone number in E.164 (null: none)")


@declared("customer.updated")
class CustomerUpdated(Payload):
    """A customer record changed: which fields (never their values)."""

    customer_id: str = Field(description="the record's id")
    fields: list[str] = Field(description="the names of the fields that changed")
    version: int = Field(description="the record's version after the change")


@declared("customer.consent_recorded")
class CustomerConsentRecorded(Payload):
    """A person's consent to be written to on a channel was granted or withdrawn."""

    customer_id: str = Field(description="the record's id")
    channel: str = Field(description="email or sms")
    state: str = Field(description="granted or withdrawn")
    source: str = Field(description="where it was given: the counter, the ordering page, an import, …")


@declared("customer.erased")
class CustomerErased(Payload):
    """A person was erased (GDPR Art. 17): the record and its consents are gone, and the person's
    name, e-mail and phone were removed from their orders, but for what tax law keeps."""

    customer_id: str = Field(description="the erased record's id")
    orders: int = Field(description="orders the person's data was removed from, a count")
    retained: int = Field(description="orders that keep the person's name on their invoice by law, a count")


@declared("customers.imported")
class CustomersImported(Payload):
    """A customer list was imported: what it did, counted (its rows are in the records)."""

    import_id: str = Field(description="the import's id, `imp_…`")
    rows: int = Field(description="rows read, a count")
    created: int = Field(description="records made, a count")
    updated: int = Field(description="records changed, a count")
    unchanged: int = Field(description="rows that changed nothing, a count")
    errors: int = Field(description="rows refused, a count")


# ------------------------------------------------------------------------ stores and their members


@declared("store.created")
class StoreCreated(Payload):
    """The platform opened the store for a merchant, on a licence plan."""

    name: str = Field(description="the store's name as customers see it")
    plan: str = Field(description="the licence plan billed monthly (starter, business, enterprise)")
    timezone: str = Field(description="the IANA timezone the store's days are counted in")


@declared("store.profile_changed")
class StoreProfileChanged(Payload):
    """The owner changed what the store's receipts and invoices name it by. The values are written,
    not only which changed: they are the business's, printed on every receipt it hands out, not a
    customer's; so the journal shows which name, address and tax numbers the receipts of each day
    carried."""

    changed: list[str] = Field(description="the fields that changed: name, address, tax_number, vat_id")
    name: str = Field(description="the store's name as customers see it")
    address: list[str] = Field(description="the postal lines as printed: the street, then postal code and city")
    tax_number: str | None = Field(description="the Steuernummer (null: none)")
    vat_id: str | None = Field(description="the USt-IdNr. (null: none)")


@declared("member.invited")
class MemberInvited(Payload):
    """Someone was invited by e-mail to work in the store with a role. The address only as a keyed
    pseudonym (the store's key)."""

    invitation_id: str = Field(description="the invitation's id, `inv_…`")
    email: str = Field(description="keyed pseudonym of the invited e-mail address")
    role: str = Field(description="owner, supervisor, staff, finance or driver")
    expires_at: str = Field(description="RFC 3339: after this the invitation's link no longer works")


@declared("member.invitation_revoked")
class MemberInvitationRevoked(Payload):
    """An invitation was withdrawn before it was accepted: its link no longer works."""

    invitation_id: str = Field(description="the invitation's id")


@declared("member.joined")
class MemberJoined(Payload):
    """The invited person signed in with the invited, verified address and accepted: from now on
    they act in the store with the role."""

    invitation_id: str = Field(description="the invitation accepted")
    uid: str = Field(description="the person's Firebase user id")
    role: str = Field(description="their role in the store")


@declared("member.role_changed")
class MemberRoleChanged(Payload):
    """A member's role changed; effective on their next request."""

    uid: str = Field(description="the member's Firebase user id")
    role: str = Field(description="the new role")
    previous_role: str = Field(description="the role before")


@declared("member.removed")
class MemberRemoved(Payload):
    """A member was removed; refused from their next request on."""

    uid: str = Field(description="the former member's Firebase user id")
    role: str = Field(description="the role they had")


# ------------------------------------------------------------------------------ delivery tours


@declared("tour.planned")
class TourPlanned(Payload):
    """Staff gave a driver some delivery orders to take out together. The driver's name is not
    journaled; their uid is, as in the member events."""

    tour_id: str = Field(description="the tour's id, `tour_…`")
    driver_uid: str = Field(description="the driver's Firebase user id")
    order_ids: list[str] = Field(description="the orders the tour carries, in the order staff gave")


@declared("tour.started")
class TourStarted(Payload):
    """The driver left with the tour's orders; each has its `order.out_for_delivery` in the same
    commit. Where the driver goes from here is not journaled: positions are personal data, kept beside
    the tour for a day only."""

    tour_id: str = Field(description="the tour")


@declared("tour.finished")
class TourFinished(Payload):
    """The tour is over: what was not delivered came back (each an `order.returned` in the same
    commit). A tour finished before it started took nothing out."""

    tour_id: str = Field(description="the tour")
    delivered: list[str] = Field(description="the orders delivered, in the tour's order")
    returned: list[str] = Field(description="the orders that came back to the store")


# ------------------------------------------------------------------------ workplaces, terminals, shifts


@declared("workplace.created")
class WorkplaceCreated(Payload):
    """The owner set up a workplace: a till where staff take payments, with its card terminals."""

    workplace_id: str = Field(description="the workplace's id, `wp_…`")
    name: str = Field(description="what staff call it, e.g. Tresen 1")


@declared("terminal.registered")
class TerminalRegistered(Payload):
    """A card terminal was registered at a workplace, while no shift was open there: the day the
    store acquired it for the register of its payment devices."""

    terminal_id: str = Field(description="Tresen's id of the terminal, `term_…`")
    workplace_id: str = Field(description="the workplace it stands at")
    provider: Literal["stripe_terminal", "sandbox"] = Field(description="who processes its payments")
    model: str = Field(description="the device's model")
    serial_number: str = Field(description="the device's serial number")
    bank_terminal_id: str | None = Field(description="the terminal id (TID) its acquiring bank gave it")
    reader_id: str = Field(description="the provider's id of the reader")


@declared("terminal.removed")
class TerminalRemoved(Payload):
    """A card terminal was taken out of use, while no shift was open at its workplace: the day it was
    decommissioned, for the register of payment devices."""

    terminal_id: str = Field(description="the terminal")
    workplace_id: str = Field(description="the workplace it stood at")


@declared("shift.opened")
class ShiftOpened(Payload):
    """A shift began at a workplace; who opened it is the entry's actor."""

    shift_id: str = Field(description="the shift's id, `shift_…`")
    workplace_id: str = Field(description="the workplace")


class BrandFigure(Part):
    count: int = Field(description="how many card payments")
    amount: int = cents("their sum")


class CardFigures(Part):
    """Card payments of one terminal in a shift, as one side holds them."""

    count: int = Field(description="how many card payments")
    amount: int = cents("their sum")
    by_brand: dict[str, BrandFigure] = Field(description="per card brand")


class ReconciliationMismatch(Part):
    kind: Literal["provider_only", "tresen_only", "amount"] = Field(
        description="provider_only: the provider took it, Tresen booked none; tresen_only: the reverse; "
        "amount: both have it, for different amounts"
    )
    amount: int = cents("the provider's amount (tresen_only: Tresen's)")
    provider_ref: str | None = Field(None, description="the provider's payment")
    order_id: str | None = Field(None, description="Tresen's order")
    tresen_amount: int | None = cents("amount: what Tresen holds", None)


class TerminalFigures(Part):
    terminal_id: str = Field(description="the terminal")
    provider: CardFigures = Field(description="the card payments the provider took on it in the shift")
    tresen: CardFigures = Field(description="the card payments Tresen booked on it in the shift")
    matched: bool = Field(description="true: both sides hold the same payments, to the cent")
    mismatches: list[ReconciliationMismatch] = Field(description="every payment one side has and the other has not")


@declared("shift.closed")
class ShiftClosed(Payload):
    """A shift ended at a workplace with the reconciliation of each terminal's totals: the provider's
    charges set against the card payments Tresen booked while it was open."""

    shift_id: str = Field(description="the shift")
    workplace_id: str = Field(description="the workplace")
    opened_at: str = Field(description="when it was opened (RFC 3339)")
    matched: bool = Field(description="true: every terminal's totals matched")
    terminals: list[TerminalFigures] = Field(description="per terminal of the workplace")


# ------------------------------------------------------------------------ the TSE (KassenSichV)


@declared("tse.installed")
class TseInstalled(Payload):
    """The store's TSS (its technical security system at fiskaly) was created and initialized: the
    day the store acquired its TSE, for the register of its payment devices."""

    tss_id: str = Field(description="the TSS's id at the provider (a UUID Tresen chose)")
    serial_number: str = Field(description="the TSE's serial number (hex SHA-256 of its public key)")
    public_key: str = Field(description="its public key (base64)")
    signature_algorithm: str = Field(description="e.g. ecdsa-plain-SHA384")
    log_time_format: str = Field(description="how its log times are written, e.g. unixTime")


@declared("tse.client_registered")
class TseClientRegistered(Payload):
    """A till was registered as a client of the store's TSS: a workplace, or the counter where orders
    of the ordering page are paid."""

    client_id: str = Field(description="the client's id at the provider (a UUID Tresen chose)")
    serial_number: str = Field(description="the till's serial number, as the TSE and DSFinV-K name it")
    workplace_id: str | None = Field(description="the workplace (null: the store's counter)")


@declared("tse.signed")
class TseSigned(Payload):
    """The TSE signed a sale taken on site: its transaction finished with the amounts per VAT rate and
    payment type (FINISHED), or canceled with the order (CANCELLED)."""

    order_id: str = Field(description="the order")
    transaction_id: str = Field(description="the transaction's id at the provider (derived from the order's)")
    state: Literal["FINISHED", "CANCELLED"] = Field(description="how it ended")
    tss_serial: str = Field(description="the TSE's serial number")
    client_id: str = Field(description="the till's serial number (the TSE client)")
    transaction_number: int = Field(description="the TSE's number of the transaction")
    signature_counter: int = Field(description="the TSE's signature counter of its end")
    start: str = Field(description="when the transaction started (RFC 3339)")
    end: str = Field(description="when it ended (RFC 3339)")
    signature: str = Field(description="the TSE's signature of its end (base64)")
    signature_algorithm: str = Field(description="e.g. ecdsa-plain-SHA384")
    log_time_format: str = Field(description="e.g. unixTime")
    public_key: str = Field(description="the TSE's public key (base64)")
    process_data: str = Field(description="what it signed: DSFinV-K's process data of the receipt")
    qr_code: str = Field(description="the receipt's DSFinV-K V0 code")


@declared("tse.failed")
class TseFailed(Payload):
    """The TSE could not be reached for a sale (a TSE failure, "Ausfall"): the sale went on unsigned,
    and a job signs it once the TSE is back (its `tse.signed` follows)."""

    order_id: str = Field(description="the order")
    transaction_id: str = Field(description="the transaction's id at the provider")
    reason: str = Field(description="what failed")


# ------------------------------------------------------------------------ the catalog and its stock


class OptionState(Part):
    id: str = Field(description="the option's id within the product")
    name: str = Field(description="its name on the menu")
    price: int = cents("what it adds to the product's price (gross)")


@declared("catalog.changed")
class CatalogChanged(Payload):
    """A product of the store's catalog was created, changed or hidden (taken off the menu). The
    product's whole state after the change is written, not only what changed: the entry in force on
    a day proves what the product cost then, at which VAT rate, and whether it was offered."""

    product_id: str = Field(description="the product's id in the catalog")
    change: Literal["created", "updated", "hidden"] = Field(description="what happened to it")
    name: str = Field(description="its name on the menu (and on the receipts of its orders)")
    price: int = cents("its price (gross), options not included")
    vat_rate: str | None = Field(description="VAT rate in percent as a decimal string; null for a gift card")
    kind: Literal["item", "giftcard"] = Field(description="an item, or a gift card sold")
    options: list[OptionState] = Field(description="the options a customer may choose, each with its price")
    available: bool = Field(description="offered now (a tracked product at 0 is sold out all the same)")
    hidden: bool = Field(description="off the menu and not orderable")
    category: str | None = Field(description="what the menu groups it under")
    description: str | None = Field(description="the text the menu shows with it")
    stock_tracked: bool = Field(description="sales take its stock; at 0 it cannot be ordered")
    low_stock_at: int | None = Field(description="its stock at or below this is low (`stock.low`)")


class StockMove(Part):
    product_id: str = Field(description="the product")
    quantity: int = Field(description="units moved, a count")
    before: int = Field(description="its stock before, a count")
    after: int = Field(description="its stock after, a count")


@declared("stock.taken")
class StockTaken(Payload):
    """An order took its stock-tracked products' units from the store's stock, in the commit that placed
    it (several lines of one product add up). Its `order.placed` entry precedes it."""

    order_id: str = Field(description="the order")
    products: list[StockMove] = Field(description="each tracked product the order took, by product id")


@declared("stock.returned")
class StockReturned(Payload):
    """Units an order had taken went back to the store's stock, in the commit that changed the order:
    all of them when it was canceled (expired, its payment canceled, every item voided) or rejected,
    a voided line's units, or the refunded lines' units of a refund made with `restock`."""

    order_id: str = Field(description="the order")
    reason: Literal["canceled", "rejected", "voided", "refund"] = Field(description="why they came back")
    refund_id: str | None = Field(None, description="the refund that gave them back (reason refund)")
    products: list[StockMove] = Field(description="each product given back, by product id")


@declared("stock.adjusted")
class StockAdjusted(Payload):
    """Staff changed a product's stock by hand: a delivery received, a count, goods thrown away, a
    correction. A count that confirms the stock is journaled too (`before` equals `after`)."""

    product_id: str = Field(description="the product")
    reason: Literal["delivery", "count", "waste", "correction"] = Field(description="why it changed")
    before: int = Field(description="its stock before, a count")
    after: int = Field(description="its stock after, a count")


@declared("stock.low")
class StockLow(Payload):
    """A tracked product's stock fell to or below its `low_stock_at` in this commit (an order, a
    waste): written once per crossing, again only after the stock rose above it and fell once more."""

    product_id: str = Field(description="the product")
    stock: int = Field(description="its stock now, a count")
    low_stock_at: int = Field(description="the threshold it reached")


# ---------------------------------------------------------------------------------- promotions


class PromotionGoods(Part):
    products: list[str] = Field(description="the products it is for, by id")
    categories: list[str] = Field(description="the categories whose products it is for (neither: every item)")


@declared("promotion.created")
class PromotionCreated(Payload):
    """An owner or supervisor made a promotion: a percent or an amount off the goods it is for, from
    `starts_at` until before `ends_at`, on its channels, with a code the customer gives or applying
    by itself, as often as `max_uses` allows."""

    promotion_id: str = Field(description="the promotion (promo_…)")
    code: str | None = Field(description="the code customers give (upper case); null: it applies by itself")
    name: str | None = Field(description="what receipts name it by where it has no code")
    percent: str | None = Field(description='percent off, a decimal string ("12.5"); null: an amount off')
    amount: int | None = cents("off the goods it is for, at most their total (null: a percent off)")
    applies_to: PromotionGoods = Field(description="the goods it is for")
    starts_at: str = Field(description="RFC 3339: valid from")
    ends_at: str = Field(description="RFC 3339: valid until before")
    channels: list[Literal["online", "counter"]] = Field(description="the orders it is for: online, at the counter")
    max_uses: int | None = Field(description="how many orders may use it, a count; null: unlimited")


@declared("promotion.ended")
class PromotionEnded(Payload):
    """An owner or supervisor ended a promotion before its time: no order placed after gets it."""

    promotion_id: str = Field(description="the promotion")
    ends_at: str = Field(description="RFC 3339: when it ended")


# ------------------------------------------------------------------------ suppliers and purchase orders


@declared("supplier.created")
class SupplierCreated(Payload):
    """An owner or supervisor added a supplier the store orders goods from. Its e-mail address only
    as a keyed pseudonym (the store's key), as a person's: a supplier's address may name one; the
    record itself is in Firestore."""

    supplier_id: str = Field(description="the supplier (sup_…)")
    name: str = Field(description="the supplier's name, a business's, as its purchase orders print it")
    email: str = Field(description="keyed pseudonym of the address its purchase orders are mailed to")
    customer_number: str | None = Field(description="the store's customer number at the supplier (null: none)")


class PurchaseLineState(Part):
    line: int = Field(description="the line's number in the order, from 1")
    product_id: str | None = Field(description="the product of the catalog it orders; null: a free line")
    name: str = Field(description="what it orders: the product's name, or the free line's")
    quantity: int = Field(description="how many of `unit`, a count")
    unit: str = Field(description='the unit it is ordered in ("Stück", "kg", "l")')


@declared("purchase_order.created")
class PurchaseOrderCreated(Payload):
    """An owner or supervisor ordered goods from a supplier: the purchase order, numbered gap-free per
    store and year, mailed to the supplier with its PDF and CSV from the outbox of this commit."""

    purchase_order_id: str = Field(description="the purchase order (po_…)")
    number: str = Field(description="PO-{year}-{n:06d}, gap-free per store and year")
    supplier_id: str = Field(description="the supplier it was sent to")
    lines: list[PurchaseLineState] = Field(description="what it orders, line by line")


class ArrivedLine(Part):
    line: int = Field(description="the line's number in the order")
    quantity: int = Field(description="units of it that arrived now, a count")
    received: int = Field(description="units of it received in all, this receipt's included, a count")


@declared("purchase_order.received")
class PurchaseOrderReceived(Payload):
    """Goods of a purchase order arrived (all it ordered, or a part). The stock of each stock-tracked
    product among them rose in the same commit: its `stock.adjusted` entry (reason `delivery`)
    follows this one."""

    purchase_order_id: str = Field(description="the purchase order")
    number: str = Field(description="its number")
    lines: list[ArrivedLine] = Field(description="the lines that arrived, as the receipt named them")
    status: Literal["partially_received", "received"] = Field(description="the order's status after it")


# ------------------------------------------------------------------------ licence billing (the platform's journal)


@declared("licence.subscribed")
class LicenceSubscribed(Payload):
    """The platform bills a store monthly for a plan from now on."""

    store_id: str = Field(description="the store billed")
    plan: str = Field(description="the plan")
    monthly_net: int = Field(description="the plan's monthly net price in cents")


@declared("licence_invoice.issued")
class LicenceInvoiceIssued(Payload):
    """The platform issued a store's licence invoice for a month, numbered gap-free in its series."""

    invoice_id: str = Field(description="the invoice's id, `li_…`")
    number: str = Field(description="the invoice number, `TRESEN-YYYY-NNNNNN`")
    store_id: str = Field(description="the store invoiced")
    period: str = Field(description="the month billed, `YYYY-MM`")
    plan: str = Field(description="the plan billed")
    net: int = Field(description="net amount in cents")
    vat: int = Field(description="VAT at 19 % in cents")
    gross: int = Field(description="gross amount in cents")
    due_on: str = Field(description="the payment is due on this day, YYYY-MM-DD")
    einvoice: bool = Field(description="an EN 16931 e-invoice (Factur-X) is embedded in the PDF")
    pdf_sha256: str = Field(description="SHA-256 of the invoice's PDF as issued (hex): the document proven unchanged")


@declared("licence_invoice.paid")
class LicenceInvoicePaid(Payload):
    """A licence invoice was paid in full."""

    invoice_id: str = Field(description="the invoice paid")
    number: str = Field(description="its number")
    method: str = Field(description="card (Checkout), card_on_file (charged off-session) or paypal")
    reference: str = Field(description="the provider's id of the payment (PaymentIntent, Checkout Session, capture)")
    amount: int = Field(description="the amount paid in cents")


@declared("licence_invoice.payment_failed")
class LicenceInvoicePaymentFailed(Payload):
    """Charging the saved card (or a PayPal capture) failed; the invoice stays open and the owner
    was sent a link to pay."""

    invoice_id: str = Field(description="the invoice")
    number: str = Field(description="its number")
    method: str = Field(description="card_on_file or paypal")
    reason: str = Field(description="authentication_required, declined, or the provider's code")
    attempt: int = Field(description="which attempt this was, from 1")
    next_attempt_on: str | None = Field(description="YYYY-MM-DD the saved card is tried again (null: no more tries)")


@declared("billing.card_saved")
class BillingCardSaved(Payload):
    """A store's owner saved a card for the monthly licence fees and agreed to the mandate."""

    store_id: str = Field(description="the store")
    brand: str = Field(description="the card's brand (visa, mastercard, …)")
    last4: str = Field(description="the card number's last four digits")
    mandate_version: str = Field(description="the version of the mandate text agreed to")
    accepted_by: str = Field(description="the Firebase user id of who agreed")
    accepted_at: str = Field(description="when they agreed, RFC 3339")


# ------------------------------------------------------------------------ closings, statements


class ClosingCounts(Part):
    orders_placed: int = Field(description="orders placed, a count")
    orders_on_site: int = Field(description="of them to be paid at the counter")
    sales: int = Field(description="invoices issued")
    canceled: int = Field(description="orders canceled")
    rejected: int = Field(description="orders rejected")
    refunds: int = Field(description="refunds created")
    voids: int = Field(description="voids")
    discounts: int = Field(description="discounts")
    giftcards_sold: int = Field(description="gift-card sales (a sale of several cards counts once)")
    giftcards_redeemed: int = Field(description="gift-card redemptions and captures")


class VatSum(Part):
    gross: int = cents("gross, every rate together")
    net: int = cents("net")
    tax: int = cents("VAT")


class RefundFigures(Part):
    count: int = Field(description="how many, a count")
    amount: int = cents("their amount")
    vat: list[VatRecord] = Field(description="their amount per VAT rate")
    by_method: PaymentMethods = Field(description="per way the money went back (or, failed, came back)")


class VatRowV1(Part):
    """The VAT of one rate as closings and statements of version 1 hold it: the tax is named `vat`."""

    rate: str = Field(description="VAT rate in percent as a decimal string")
    gross: int = cents("gross")
    net: int = cents("net")
    vat: int = cents("VAT")


class VatSumV1(Part):
    gross: int = cents("gross, every rate together")
    net: int = cents("net")
    vat: int = cents("VAT")


class RefundFiguresV1(Part):
    count: int = Field(description="refunds, a count")
    amount: int = cents("refunded")
    vat: list[VatRowV1] = Field(description="refunded per VAT rate")
    by_method: PaymentMethods = Field(description="paid back at the counter, through the provider, onto gift cards")


class CountAndAmount(Part):
    count: int = Field(description="how many, a count")
    amount: int = cents("their amount")


class DiscountFigures(CountAndAmount):
    vat: list[VatRecord] = Field(
        default_factory=list,
        description="their amount per VAT rate (absent in closings made before promotions, and without the "
        "staff discounts journaled before then)",
    )


class GiftCardFigures(Part):
    sold: int = cents("gift cards sold")
    redeemed: int = cents("gift cards redeemed")


class ClosingCheckpoint(Part):
    """The signed checkpoint at the closing's last entry."""

    origin: str = Field(description="the journal's origin line: tresen/{project}/{store}")
    size: int = Field(description="entries it covers (= last_seq)")
    root: str = Field(description="the Merkle root, base64")
    key_id: str = Field(description="the signing key's id, hex")
    note: str = Field(description="the C2SP signed note")


class ClosingHead(Payload):
    store_id: str = Field(description="the store")
    z_number: int = Field(description="the closing's number, gap-free per store from 1")
    business_day: str = Field(description="business day of the period's last entry, YYYY-MM-DD")
    closed_at: str = Field(description="when, RFC 3339 in store time")
    closed_by: Actor = Field(description="who closed")
    first_seq: int = Field(description="the first journal entry it covers")
    last_seq: int = Field(description="the last journal entry it covers")
    currency: str = Field(description="ISO 4217 code of every amount")
    counts: ClosingCounts = Field(description="how many of each")
    payments: PaymentMethods = Field(description="what was taken, per way of payment")
    tips: int = cents("tips")
    voids: CountAndAmount = Field(description="voids")
    discounts: CountAndAmount = Field(description="discounts")
    giftcards: GiftCardFigures = Field(description="gift cards sold and redeemed")
    checkpoint: ClosingCheckpoint = Field(description="the signed checkpoint at last_seq")
    previous_hash: str = Field(description="the previous closing's hash; 64 zeros for the first")
    hash: str = Field(description="SHA-256 (hex) over the RFC 8785 JSON of the closing without hash")


@declared("closing.created", version=1)
class ClosingCreatedV1(ClosingHead):
    """A closing (Kassenabschluss, Z-report) of every entry since the previous one, each figure
    computed from those entries alone. Version 1: the tax of its VAT rows and sums is named `vat`,
    and failed refunds are not added back."""

    sales: VatSumV1 = Field(description="sales, every rate together")
    vat: list[VatRowV1] = Field(description="sales per VAT rate")
    refunds: RefundFiguresV1 = Field(description="refunds")


@declared("closing.created", version=2)
class ClosingCreated(ClosingHead):
    """A closing (Kassenabschluss, Z-report) of every entry since the previous one, each figure
    computed from those entries alone, with the checkpoint at its last entry and the hash of the
    previous closing. Provider refunds that failed within its range are added back, whichever
    closing counted them."""

    sales: VatSum = Field(description="sales, every rate together")
    vat: list[VatRecord] = Field(description="sales per VAT rate")
    refunds: RefundFigures = Field(description="refunds made")
    failed_refunds: RefundFigures = Field(description="provider refunds that failed: their money came back")
    discounts: DiscountFigures = Field(
        description="discounts: staff's on unpaid orders (when given) and promotions' (with the sale)"
    )
    card_brands: dict[str, CountAndAmount] = Field(
        default_factory=dict,
        description="the card_present payments per card brand (visa, girocard, …, unknown); they add up to "
        "payments.card_present. Refunds to cards are not split by brand: a refund entry names its order, "
        "not the card (absent in closings made before card terminals)",
    )


class StatementRefunds(Part):
    amount: int = cents("refunded")
    by_method: PaymentMethods = Field(description="paid back per way of payment")


class ProviderTotals(Part):
    payments: int = cents("provider payments")
    refunds: int = cents("provider refunds")
    fees: int = cents("the provider's fees")
    net: int = cents("payments - refunds - fees")
    paid_out: int = cents("paid out by payouts")
    not_paid_out: int = cents("not paid out yet")


class StatementSums(Part):
    payments: PaymentMethods = Field(description="taken per way of payment")
    tips: int = cents("tips")
    giftcards_sold: int = cents("gift cards sold")
    refunds: StatementRefunds = Field(description="refunds")
    provider: ProviderTotals = Field(description="the provider's payments, refunds and payouts")


class StatementTotalsV1(StatementSums):
    vat: list[VatRowV1] = Field(description="sales per VAT rate")


class StatementTotals(StatementSums):
    vat: list[VatRecord] = Field(description="sales per VAT rate")


class StatementClosings(Part):
    z_numbers: list[int] = Field(description="the closings of the period")
    first_seq: int | None = Field(description="the first entry they cover (null: none)")
    last_seq: int | None = Field(description="the last entry they cover (null: none)")
    covered: bool = Field(description="whether they cover every entry of the period, and nothing else")
    note: str = Field(description="what that means, in words")
    payments: PaymentMethods | None = Field(description="what they took per way of payment (null: none)")
    ties_out: bool = Field(description="whether the period's figures equal theirs")


class StatementCounts(Part):
    payments: int = Field(description="provider payments listed")
    refunds: int = Field(description="provider refunds listed")
    unmatched: int = Field(description="items no payout paid out yet")
    mismatched: int = Field(description="items paid out with another amount, reversed, or claimed twice")
    payouts: int = Field(description="payouts")


class StatementFile(Part):
    name: str = Field(description="the file's name")
    size: int = Field(description="its size in bytes")
    sha256: str = Field(description="its SHA-256, hex")


class StatementHead(Payload):
    id: str = Field(description="the statement's id (stm_…)")
    store_id: str = Field(description="the store")
    from_: str = Field(alias="from", description="its first business day, YYYY-MM-DD")
    to: str = Field(description="its last business day, YYYY-MM-DD")
    created_at: str = Field(description="when, RFC 3339 in store time")
    currency: str = Field(description="ISO 4217 code of every amount")
    closings: StatementClosings = Field(description="how the period ties out with its closings")
    created_by: Actor = Field(description="who made it")
    counts: StatementCounts = Field(description="how many lines of each")
    files: list[StatementFile] = Field(description="the files archived, manifest and signature included")
    manifest_sha256: str = Field(description="SHA-256 (hex) of manifest.json, which the signature covers")
    key_id: str = Field(description="the signing key's id, hex")


@declared("statement.created", version=1)
class StatementCreatedV1(StatementHead):
    """A statement of some business days: what the store was paid, matched to payouts, tied out
    with the closings; its files are archived with a signed manifest. Version 1: the tax of its VAT
    rows is named `vat`."""

    totals: StatementTotalsV1 = Field(description="the period's totals")


@declared("statement.created", version=2)
class StatementCreated(StatementHead):
    """A statement of some business days: what the store was paid, matched to payouts, tied out
    with the closings; its files are archived with a signed manifest."""

    totals: StatementTotals = Field(description="the period's totals")


# ------------------------------------------------------------------------------- the envelope

HEX_HASH = r"^[0-9a-f]{64}$"


class Entry(Part):
    """A journal entry: the envelope every event is written in (domain/journal.py `make_entry`)."""

    store_id: str = Field(description="the store (in every entry, so that an archived entry describes itself)")
    seq: int = Field(ge=1, description="the entry's number: 1, 2, 3, … per store, gap-free")
    type: str = Field(description="the event type, e.g. order.placed")
    v: int | SkipJsonSchema[None] = Field(None, ge=2, description="the type's version, from 2 on (absent: version 1)")
    at: str = Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00$",
        description="when, RFC 3339 in UTC to the second: 2026-11-23T11:36:39+00:00",
    )
    actor: Actor = Field(description="who acted")
    data: dict[str, Any] = Field(description="the event's payload, as its type and version declare it")
    prev_hash: str = Field(pattern=HEX_HASH, description="the previous entry's hash; 64 zeros for the first entry")
    hash: str = Field(
        pattern=HEX_HASH, description="SHA-256 (hex) over the RFC 8785 canonical JSON of the entry without `hash`"
    )


# -------------------------------------------------------------------------- writing, reading


class JournalEventError(ValueError):
    """An event the journal does not take, or an entry it cannot read."""


class UndeclaredEvent(JournalEventError):
    def __init__(self, type_: str, version: int | None = None):
        which = f"{type_!r}" if version is None else f"{type_!r} version {version}"
        super().__init__(f"journal event {which} is not declared (tresen/domain/events.py)")


class InvalidPayload(JournalEventError):
    """A payload its model refuses; `fields` names each field at fault (`lines.0.total`)."""

    def __init__(self, type_: str, version: int, error: ValidationError):
        problems = error.errors(include_url=False)
        self.fields = tuple(".".join(str(part) for part in problem["loc"]) for problem in problems)
        told = "; ".join(
            f"data.{field}: {problem['msg']}" for field, problem in zip(self.fields, problems, strict=True)
        )
        super().__init__(f"journal event {type_!r} version {version}: {told}")


def model_for(type_: str, version: int | None = None) -> type[Payload]:
    """The payload model of `type_` in `version` (None: the version written now)."""
    model = EVENTS.get((type_, CURRENT_VERSION.get(type_, 0) if version is None else version))
    if model is None:
        raise UndeclaredEvent(type_, version)
    return model


def checked(type_: str, data: Mapping[str, Any]) -> int:
    """The version `type_` is written in, once `data` validates against it; raises if not."""
    model = model_for(type_)
    try:
        model.__pydantic_validator__.validate_python(data)
    except ValidationError as error:
        raise InvalidPayload(type_, model.VERSION, error) from None
    return model.VERSION


def version_of(entry: Mapping[str, Any]) -> int:
    return entry.get("v", 1)


def read_event(entry: Mapping[str, Any]) -> Payload:
    """A whole entry's payload as its declared model, validated in full."""
    model = model_for(entry["type"], version_of(entry))
    try:
        return model.model_validate(entry["data"])
    except ValidationError as error:
        raise InvalidPayload(model.TYPE, model.VERSION, error) from None


class Projection:
    """The `data.*` fields a long read of the journal selects (`paths`, as a field mask names them),
    read as the entry's declared model: cheap enough for the 100 000 entries of a statement.

    A projected entry holds some fields of its payload only, so it cannot be validated as a whole:
    the fields selected that it has are validated against their declared types (into a model of
    those fields alone), then handed over to an instance of the entry's own model, unvalidated
    (`model_construct`). A field that was not selected or that the entry lacks reads as its
    default, or raises AttributeError if it has none. An entry with more than the selection (a full
    entry) reads the same way."""

    def __init__(self, paths: Iterable[str]):
        self.fields = frozenset(path.removeprefix("data.") for path in paths if path.startswith("data."))
        self._readers: dict[type[Payload], Callable[[Mapping[str, Any]], Payload]] = {}

    def read(self, entry: Mapping[str, Any]) -> Payload:
        model = model_for(entry["type"], version_of(entry))
        reader = self._readers.get(model) or self._reader(model)
        return reader(entry["data"])

    def _reader(self, model: type[Payload]) -> Callable[[Mapping[str, Any]], Payload]:
        kept = {name: info for name, info in model.model_fields.items() if (info.alias or name) in self.fields}
        selected = create_model(  # every field optional: a projection has what the entry has
            f"{model.__name__}Selected",
            __base__=Part,
            **{name: (info.annotation, Field(None, alias=info.alias)) for name, info in kept.items()},
        )
        names = tuple(info.alias or name for name, info in kept.items())
        validate = selected.__pydantic_validator__.validate_python

        def read(data: Mapping[str, Any]) -> Payload:
            try:
                found = validate({name: data[name] for name in names if name in data})
            except ValidationError as error:
                raise InvalidPayload(model.TYPE, model.VERSION, error) from None
            present = found.model_fields_set
            return model.model_construct(present, **{name: getattr(found, name) for name in present})

        self._readers[model] = read
        return read
