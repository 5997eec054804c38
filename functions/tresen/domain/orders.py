"""Orders: pricing a cart from the catalog, and the order as it is stored and shown.

Prices come from the catalog only. A line's unit price is the product price plus its chosen
options; VAT is split once per rate over the whole order (see money.py). A tip is not part of
the merchant's taxable turnover here (it is passed on to staff), so it is outside the VAT lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .catalog import Product, ProductOption, Store
from .customer_fields import EMAIL
from .errors import DomainError, FieldError
from .money import VatLine, split_by_rate, vat_breakdown

ONLINE_PAYMENT_WINDOW = timedelta(minutes=30)
# a requested time a little in the past is a clock skew or "as soon as possible"; beyond a week
# ahead it is a mistake
REQUESTED_TIME_PAST = timedelta(minutes=5)
REQUESTED_TIME_AHEAD = timedelta(days=7)
MAX_CARDS_SOLD = 20  # keeps the commit that activates them within Firestore's 500 writes
RECEIPT_BY_EMAIL = "email"  # the customer asked for the receipt by e-mail
# where an order was placed: by the customer (the ordering page, an app) or by staff at the till
ONLINE_CHANNEL, COUNTER_CHANNEL = "online", "counter"


@dataclass(frozen=True)
class CartItem:
    product_id: str
    quantity: int
    options: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class OrderLine:
    id: str
    product_id: str
    name: str
    quantity: int
    unit_price: int
    vat_rate: str | None  # None: a gift card sold (a multi-purpose voucher bears no VAT when sold)
    total: int
    options: tuple[ProductOption, ...] = ()  # as priced when ordered (options are immutable values)
    note: str | None = None
    kind: str = "item"  # item | giftcard


@dataclass(frozen=True)
class GiftCardUse:
    """A gift card paying part of an order (see order_giftcards.py)."""

    card_id: str
    card_key: str  # the card's document key (a keyed hash of its code)
    last4: str
    amount: int
    auth_code: str = ""
    status: str = "held"  # held | captured | released
    refunded: int = 0  # credited back to the card by refunds


@dataclass(frozen=True)
class SoldCard:
    """A gift card an order sells: pending until the order is paid."""

    card_id: str
    card_key: str
    last4: str
    amount: int
    line_id: str
    status: str = "pending"  # pending | active | void


@dataclass(frozen=True)
class AppliedPromotion:
    """The promotion an order got (domain/promotions.py): its terms as they were, the lines it was
    given on, and its discount per VAT rate, which add up to `discount`."""

    id: str
    code: str | None
    name: str | None
    percent: str | None  # a decimal string ("12.5"); or
    amount: int | None  # cents off, at most the lines' total
    line_ids: tuple[str, ...]
    discount: int
    by_rate: dict[str, int]


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    tip: int
    total: int
    vat: tuple[VatLine, ...]  # over the taxable sales: subtotal - discount - giftcards_sold
    giftcards_sold: int = 0  # gift cards sold: a liability (multi-purpose vouchers), not revenue


@dataclass(frozen=True)
class Fulfilment:
    type: str
    table: str | None = None
    address: str | None = None
    requested_time: datetime | None = None


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class PaymentRef:
    id: str
    provider: str
    status: str
    checkout_url: str | None = None
    client_secret: str | None = None
    terminal_id: str | None = None  # paid by card at this terminal (payment method card_present)
    brand: str | None = None  # the card's brand, once a terminal took it


@dataclass(frozen=True)
class Order:
    id: str
    store_id: str
    currency: str
    timezone: str
    number: int
    business_day: date
    status: str
    payment_status: str
    payment_method: str
    lines: tuple[OrderLine, ...]
    totals: Totals
    fulfilment: Fulfilment
    customer: Customer
    created_at: datetime
    updated_at: datetime
    gift_card_amount: int = 0
    refunded_amount: int = 0
    refunded_quantities: dict[str, int] = field(default_factory=dict)  # line id → quantity refunded
    invoice_number: str | None = None
    invoiced_at: datetime | None = None  # when it got its invoice number: its receipt's date
    payment: PaymentRef | None = None
    expires_at: datetime | None = None
    last_payment_error: str | None = None
    gift_cards: tuple[GiftCardUse, ...] = ()
    cards_sold: tuple[SoldCard, ...] = ()
    # keyed pseudonyms of the customer's e-mail and phone (domain/customers.py `contact_key`): they
    # link the order to a customer record of the store, never spelling out the person
    contact_keys: tuple[str, ...] = ()
    receipt: str | None = None  # RECEIPT_BY_EMAIL: its receipt is mailed to the customer
    # a sale taken on site: its TSE transaction (domain/tse.py `as_record`) once signed, and whether
    # it is: pending, signed, or failed (the TSE could not be reached; a job finishes it)
    tse: dict | None = None
    tse_status: str | None = None
    channel: str = ONLINE_CHANNEL
    # line id → units of the line taken from the store's stock and not given back yet (domain/stock.py)
    stock_held: dict[str, int] = field(default_factory=dict)
    promotion: AppliedPromotion | None = None  # its discount is part of `totals.discount`

    @property
    def amount_due(self) -> int:
        """What the payment provider (or the counter) collects; gift cards pay the rest."""
        return self.totals.total - self.gift_card_amount


@dataclass(frozen=True)
class OrderRequest:
    items: tuple[CartItem, ...]
    fulfilment: Fulfilment
    customer: Customer
    payment_method: str
    provider: str | None = None
    tip: int = 0
    gift_cards: tuple[tuple[str, int | None], ...] = ()  # (code as typed, amount or None: as much as needed)
    receipt: str | None = None
    terminal_id: str | None = None  # card_present: the terminal that takes the card
    channel: str = ONLINE_CHANNEL
    promotion_code: str | None = None  # as typed: a promotion's code (domain/promotions.py)


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[OrderLine, ...]
    totals: Totals
    promotion: AppliedPromotion | None = None  # its discount is in `totals`


def price_cart(products: dict[str, Product], items: tuple[CartItem, ...], tip: int) -> PricedCart:
    """Lines and totals for a cart, from catalog prices only. Raises DomainError on bad items."""
    problems: list[FieldError] = []
    lines: list[OrderLine] = []
    unavailable: list[str] = []
    for index, item in enumerate(items):
        product = products.get(item.product_id)
        where = f"items[{index}]"
        if product is None:
            problems.append(FieldError(f"{where}.product_id", "unknown product"))
            continue
        if not product.available:
            unavailable.append(product.id)
            continue
        chosen: list[ProductOption] = []
        for option_id in item.options:
            option = product.option(option_id)
            if option is None:
                problems.append(FieldError(f"{where}.options", f"unknown option {option_id!r}"))
            elif any(c.id == option_id for c in chosen):
                problems.append(FieldError(f"{where}.options", f"option {option_id!r} chosen twice"))
            else:
                chosen.append(option)
        unit_price = product.price + sum(o.price for o in chosen)
        lines.append(
            OrderLine(
                id=f"L{index + 1}",
                product_id=product.id,
                name=product.name,
                quantity=item.quantity,
                unit_price=unit_price,
                vat_rate=product.vat_rate,
                total=unit_price * item.quantity,
                options=tuple(chosen),
                note=item.note,
                kind=product.kind,
            )
        )
    if problems:
        raise DomainError("validation_failed", "The order has invalid items.", problems)
    if unavailable:
        raise DomainError("product_unavailable", f"Not available right now: {', '.join(unavailable)}.")
    return PricedCart(lines=tuple(lines), totals=totals_for(tuple(lines), discount=0, tip=tip))


def totals_for(
    lines: tuple[OrderLine, ...], discount: int, tip: int, by_rate: Mapping[str, int] | None = None
) -> Totals:
    """Totals with VAT over what is actually charged: a discount lowers each rate's gross in
    proportion (to the cent), so the VAT lines add up to subtotal - discount. `by_rate` is the part
    of `discount` already taken off per rate (a promotion on some lines only: off their rates); the
    rest lowers what it left of each rate's gross in proportion."""
    subtotal = sum(line.total for line in lines)
    gross: dict[str, int] = {}
    for line in lines:
        if line.vat_rate is not None:
            gross[line.vat_rate] = gross.get(line.vat_rate, 0) + line.total
    taken = dict(by_rate or {})
    left = {rate: amount - taken.get(rate, 0) for rate, amount in gross.items()}
    off = split_by_rate(discount - sum(taken.values()), left)
    vat = vat_breakdown((rate, amount - off.get(rate, 0)) for rate, amount in left.items())
    return Totals(
        subtotal=subtotal,
        discount=discount,
        tip=tip,
        total=subtotal - discount + tip,
        vat=tuple(vat),
        giftcards_sold=sum(line.total for line in lines if line.vat_rate is None),
    )


def taxable(lines: tuple[OrderLine, ...]) -> int:
    """What a discount may reduce: gift cards are sold at face value."""
    return sum(line.total for line in lines if line.vat_rate is not None)


def check_orderable(store: Store, request: OrderRequest, now: datetime) -> None:
    """Store-level rules: open now, and the requested fulfilment and payment are offered."""
    problems = []
    if request.fulfilment.type not in store.fulfilment_types:
        problems.append(FieldError("fulfilment.type", f"this store offers {', '.join(store.fulfilment_types)}"))
    if request.payment_method not in store.payment_methods:
        problems.append(FieldError("payment.method", f"this store accepts {', '.join(store.payment_methods)}"))
    elif request.payment_method == "online":
        provider = request.provider or store.online_providers[0]
        if provider not in store.online_providers:
            problems.append(
                FieldError("payment.provider", f"this store pays online with {', '.join(store.online_providers)}")
            )
    requested = request.fulfilment.requested_time
    if requested and not now - REQUESTED_TIME_PAST <= requested <= now + REQUESTED_TIME_AHEAD:
        problems.append(FieldError("fulfilment.requested_time", "must lie between 5 minutes ago and 7 days ahead"))
    if problems:
        raise DomainError("validation_failed", "The order cannot be fulfilled or paid as requested.", problems)
    if not store.is_open(now):
        raise DomainError("store_closed", f"{store.name} is not taking orders right now.")


def check_receipt(request: OrderRequest) -> None:
    """A receipt by e-mail needs an address a mail can go to (the order's own check is looser)."""
    if request.receipt == RECEIPT_BY_EMAIL and not EMAIL.fullmatch(request.customer.email):
        problem = FieldError("customer.email", "a receipt by e-mail needs an address it can be sent to")
        raise DomainError("validation_failed", "The receipt cannot be sent to this address.", [problem])


def check_giftcard_sale(request: OrderRequest, cart: PricedCart) -> None:
    """Cards are sold only when the money comes in before they are activated: paid online or by card
    at a terminal (at the counter staff sell them directly, POST /giftcards)."""
    cards = sum(line.quantity for line in cart.lines if line.kind == "giftcard")
    problems = []
    if cards and request.payment_method == "on_site":
        problems.append(FieldError("payment.method", "gift cards are sold with a card or online payment (or by staff)"))
    if cards > MAX_CARDS_SOLD:
        problems.append(FieldError("items", f"at most {MAX_CARDS_SOLD} gift cards per order"))
    if problems:
        raise DomainError("validation_failed", "The gift cards in this order cannot be sold this way.", problems)


def new_order(
    *,
    order_id: str,
    store: Store,
    request: OrderRequest,
    cart: PricedCart,
    number: int,
    now: datetime,
    payment: PaymentRef | None,
    gift_cards: tuple[GiftCardUse, ...] = (),
    cards_sold: tuple[SoldCard, ...] = (),
    contact_keys: tuple[str, ...] = (),
) -> Order:
    """The order as placed: `placed` (pay at the counter) or `awaiting_payment` (online, or by card
    at a terminal)."""
    on_site = request.payment_method == "on_site"
    return Order(
        id=order_id,
        store_id=store.id,
        currency=store.currency,
        timezone=store.timezone,
        number=number,
        business_day=store.business_day(now),
        status="placed" if on_site else "awaiting_payment",
        payment_status="unpaid",
        payment_method=request.payment_method,
        lines=cart.lines,
        totals=cart.totals,
        fulfilment=request.fulfilment,
        customer=request.customer,
        created_at=now,
        updated_at=now,
        payment=payment,
        expires_at=None if on_site else now + ONLINE_PAYMENT_WINDOW,
        gift_cards=gift_cards,
        gift_card_amount=sum(use.amount for use in gift_cards),
        cards_sold=cards_sold,
        contact_keys=contact_keys,
        receipt=request.receipt,
        channel=request.channel,
        promotion=cart.promotion,
    )


def invoice_number(series: str, year: int, seq: int) -> str:
    return f"{series}-{year}-{seq:06d}"
