"""Orders: pricing a cart from the catalog, and the order as it is stored and shown.

Prices come from the catalog only. A line's unit price is the product price plus its chosen
options; VAT is split once per rate over the whole order (see money.py). A tip is not part of
the merchant's taxable turnover here (it is passed on to staff), so it is outside the VAT lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .catalog import Product, ProductOption, Store
from .errors import DomainError, FieldError
from .money import VatLine, split_by_rate, vat_breakdown

ONLINE_PAYMENT_WINDOW = timedelta(minutes=30)


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
    vat_rate: str
    total: int
    options: tuple[ProductOption, ...] = ()  # as priced when ordered (options are immutable values)
    note: str | None = None


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount: int
    tip: int
    total: int
    vat: tuple[VatLine, ...]


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
    payment: PaymentRef | None = None
    expires_at: datetime | None = None
    last_payment_error: str | None = None

    @property
    def amount_due(self) -> int:
        return self.totals.total - self.gift_card_amount


@dataclass(frozen=True)
class OrderRequest:
    items: tuple[CartItem, ...]
    fulfilment: Fulfilment
    customer: Customer
    payment_method: str
    provider: str | None = None
    tip: int = 0


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[OrderLine, ...]
    totals: Totals


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
        if product.kind != "item":
            problems.append(FieldError(f"{where}.product_id", "gift cards cannot be ordered yet"))
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
        assert product.vat_rate is not None  # items always carry a rate; enforced when seeding
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
            )
        )
    if problems:
        raise DomainError("validation_failed", "The order has invalid items.", problems)
    if unavailable:
        raise DomainError("product_unavailable", f"Not available right now: {', '.join(unavailable)}.")
    return PricedCart(lines=tuple(lines), totals=totals_for(tuple(lines), discount=0, tip=tip))


def totals_for(lines: tuple[OrderLine, ...], discount: int, tip: int) -> Totals:
    """Totals with VAT over what is actually charged: a discount lowers each rate's gross in
    proportion (to the cent), so the VAT lines add up to subtotal - discount."""
    subtotal = sum(line.total for line in lines)
    gross: dict[str, int] = {}
    for line in lines:
        gross[line.vat_rate] = gross.get(line.vat_rate, 0) + line.total
    off = split_by_rate(discount, gross)
    vat = vat_breakdown((rate, amount - off.get(rate, 0)) for rate, amount in gross.items())
    return Totals(subtotal=subtotal, discount=discount, tip=tip, total=subtotal - discount + tip, vat=tuple(vat))


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
    if problems:
        raise DomainError("validation_failed", "The order cannot be fulfilled or paid as requested.", problems)
    if not store.is_open(now):
        raise DomainError("store_closed", f"{store.name} is not taking orders right now.")


def new_order(
    *,
    order_id: str,
    store: Store,
    request: OrderRequest,
    cart: PricedCart,
    number: int,
    now: datetime,
    invoice_number: str | None,
    payment: PaymentRef | None,
) -> Order:
    """The order as placed: `placed` (pay at the counter) or `awaiting_payment` (online)."""
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
        invoice_number=invoice_number,
        payment=payment,
        expires_at=None if on_site else now + ONLINE_PAYMENT_WINDOW,
    )


def invoice_number(series: str, year: int, seq: int) -> str:
    return f"{series}-{year}-{seq:06d}"
