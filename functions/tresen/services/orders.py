"""Placing an order: priced from the catalog, paid by gift cards, online or at the counter."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from ..domain.catalog import Store
from ..domain.closings import sale_record
from ..domain.contacts import order_contact_keys
from ..domain.errors import DomainError
from ..domain.events import OrderPaid, OrderPlaced
from ..domain.journal import JournalEvent, pseudonym
from ..domain.money import vat_records
from ..domain.order_giftcards import hold_at_placement, plan_uses, settle
from ..domain.orders import (
    COUNTER_CHANNEL,
    ONLINE_PAYMENT_WINDOW,
    GiftCardUse,
    Order,
    OrderLine,
    OrderRequest,
    PaymentRef,
    PricedCart,
    SoldCard,
    check_giftcard_sale,
    check_orderable,
    check_receipt,
    invoice_number,
    new_order,
    price_cart,
)
from ..domain.payments import PaymentRecord
from ..domain.refunds import paid
from ..domain.terminals import CARD_PRESENT
from ..domain.tse import PENDING, needs_tse
from .card_present import send_to_reader, start_card_payment, terminal_for_payment
from .order_ports import OrderUnitOfWork, catalog_or_404
from .ports import PaymentLine, PaymentRequest
from .promotions import placed_promotion, promotion_offer
from .receipt_mail import mail_receipt
from .stock import check_in_stock, take_for_order
from .tse import sign_placed
from .tse_ports import TseUnitOfWork
from .unit_of_work import INVOICE_NUMBERS, PICKUP_NUMBERS, Claims, Counter, Plan, Writes

# the names of a provider's payment lines that are not products (the customer reads them there)
TIP_LINE, ORDER_LINE = "Trinkgeld", "Bestellung"


@dataclass(frozen=True)
class PlaceOrder:
    store_id: str
    request: OrderRequest
    actor: Mapping[str, Any]


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    access_token: str  # the customer's: shown once, only its hash is kept
    card_codes: tuple[str | None, ...] = ()  # of the cards sold, in order, once active (paid at once)


def place_order(command: PlaceOrder, uow: TseUnitOfWork) -> PlacedOrder:
    """The hot path: reads only the cached catalog, the cards that pay and the store's cached key.
    A card payment at a terminal is sent to the reader once the order is committed."""
    store, products = catalog_or_404(uow, command.store_id)
    request, now = command.request, uow.now()
    check_orderable(store, request, now)
    check_receipt(request)
    offer = promotion_offer(uow, store, products, request, price_cart(products, request.items, request.tip), now)
    cart = offer.cart
    check_giftcard_sale(request, cart)
    order_id, access_token = uow.new_id("ord_"), uow.new_secret_token()
    uses, due = card_shares(uow, store, request, cart.totals.total, now)
    payment = provider_payment(uow, store, request, cart, order_id, due) if due > 0 else None
    sold = sold_cards(uow, cart, access_token, store, now, order_id)
    pii_key = uow.stores.pii_key(store.id)
    contacts = order_contact_keys(pii_key, request.customer.email, request.customer.phone)

    def build(claims: Claims) -> Plan[PlacedOrder]:
        number = claims.next(Counter(PICKUP_NUMBERS, store.business_day(now).isoformat()), order_id)
        offer.use(claims, order_id)
        order = new_order(
            order_id=order_id,
            store=store,
            request=request,
            cart=cart,
            number=number,
            now=now,
            payment=payment,
            gift_cards=uses,
            cards_sold=tuple(card for card, _ in sold.values()),
            contact_keys=contacts,
        )
        if uow.tse is not None and needs_tse(order):  # its TSE transaction follows the commit
            order = replace(order, tse_status=PENDING)
        unsettled = replace(order, status="awaiting_payment")
        if request.payment_method != "on_site" and due == 0:  # the cards pay for all of it
            order = replace(order, status="paid", payment_status="paid", expires_at=None)
        holds = hold_at_placement(order, now)
        order, settling = settle(unsettled, order, now)  # on site or paid at once: captured now
        if paid(order):
            year = store.local(now).year
            n = claims.next(Counter(INVOICE_NUMBERS, str(year)), order_id)
            order = replace(order, invoice_number=invoice_number(store.invoice_series, year, n), invoiced_at=now)
        writes = Writes(command.actor)
        order, taken = take_for_order(uow, products, order, writes)  # read afresh in every attempt
        mail_receipt(store, order, writes)
        uow.cards.apply(holds + settling, writes, {card.card_key: pending for card, pending in sold.values()})
        events = [placed_event(order, pii_key), *taken, *writes.events, *paid_at_once(order)]
        writes.new_order(order, token_hash(access_token))
        if payment:
            writes.new_payment(payment_record(order, payment, now))
        return Plan(PlacedOrder(order, access_token, active_codes(sold, order)), now, command.actor, events, writes)

    placed = uow.commit(store.id, build).result
    if payment and payment.terminal_id:
        send_to_reader(uow, store, placed.order)
    if placed.order.tse_status == PENDING:  # the TSE's round trips after the answer (the job catches a cut-off)
        uow.run_later(f"tse-{placed.order.id}", partial(sign_placed, order=placed.order))
    return placed


def active_codes(sold: dict[str, tuple], order: Order) -> tuple[str | None, ...]:
    """The codes of the cards the order sold, in order, where they are active (paid at once)."""
    return tuple(code if card.status == "active" else None for code, card in zip(sold, order.cards_sold, strict=True))


def provider_payment(
    uow: TseUnitOfWork, store: Store, request: OrderRequest, cart: PricedCart, order_id: str, due: int
) -> PaymentRef | None:
    """The provider's payment of what is due, made before the order's commit (an online checkout,
    or a card payment the reader is asked for after it); None at the counter."""
    if request.payment_method != "on_site":  # none for what is sold out (the commit checks again)
        check_in_stock(uow, store.id, cart.lines)
    if request.payment_method == CARD_PRESENT:
        terminal = terminal_for_payment(uow, store.id, request.terminal_id)
        return start_card_payment(uow, store, terminal, order_id, due)
    if request.payment_method != "online":
        return None
    provider = request.provider or store.online_providers[0]
    if provider not in uow.offered_providers(store):
        raise DomainError("provider_not_ready", f"Store {store.id} cannot take payments with {provider} yet.")
    expires_at = uow.now() + ONLINE_PAYMENT_WINDOW
    lines = payment_lines(cart, due, store.name)
    return uow.provider(provider, store.id).create_payment(
        PaymentRequest(order_id, store.id, due, store.currency, lines, expires_at)
    )


def payment_lines(cart: PricedCart, due: int, store_name: str) -> tuple[PaymentLine, ...]:
    """What the customer pays for, line by line; one line for the whole amount where gift cards or
    a discount pay part of it (a provider's lines must add up to what it charges)."""
    lines = [PaymentLine(line_name(line), line.unit_price, line.quantity) for line in cart.lines]
    if cart.totals.tip:
        lines.append(PaymentLine(TIP_LINE, cart.totals.tip, 1))
    if sum(line.unit_amount * line.quantity for line in lines) != due:
        return (PaymentLine(f"{store_name}: {ORDER_LINE}", due, 1),)
    return tuple(lines)


def line_name(line: OrderLine) -> str:
    chosen = ", ".join(option.name for option in line.options)
    return f"{line.name} ({chosen})" if chosen else line.name


def card_shares(
    uow: OrderUnitOfWork, store: Store, request: OrderRequest, total: int, now: datetime
) -> tuple[tuple[GiftCardUse, ...], int]:
    """(what each gift card pays, what is left to pay)."""
    found = [uow.cards.find(code)[:2] for code, _ in request.gift_cards]
    uses = plan_uses(found, [amount for _, amount in request.gift_cards], store.id, total, now)
    return uses, total - sum(use.amount for use in uses)


def paid_at_once(order: Order) -> list[JournalEvent]:
    """`order.paid` when gift cards paid all of it at placement (after their captures)."""
    if order.payment_status != "paid":
        return []
    paid_by_cards = OrderPaid(
        order_id=order.id, invoice_number=order.invoice_number, amount=0, gift_card_amount=order.gift_card_amount
    )
    return [JournalEvent.of(paid_by_cards)]


def payment_record(order: Order, payment: PaymentRef, now: datetime) -> PaymentRecord:
    """Our record of the provider's payment: what it is to charge, for which order."""
    return PaymentRecord(payment.id, order.store_id, order.id, payment.provider, order.amount_due, order.currency, now)


def sold_cards(
    uow: OrderUnitOfWork, cart: PricedCart, access_token: str, store: Store, now: datetime, order_id: str
) -> dict[str, tuple]:
    """The pending cards a cart's gift-card lines sell, by code: derived from the order's access
    token, so only its holder can be shown the codes (the database keeps none)."""
    sold = {}
    for line in cart.lines:
        if line.kind != "giftcard":
            continue
        for index in range(line.quantity):
            code = sold_card_code(uow, access_token, line.id, index)
            key, pending = uow.cards.new_pending(store, code, now, order_id)
            sold[code] = (SoldCard(pending.id, key, pending.last4, line.unit_price, line.id), pending)
    return sold


def sold_card_code(uow: OrderUnitOfWork, access_token: str, line_id: str, index: int) -> str:
    return uow.cards.derived_code(f"order:{access_token}:{line_id}:{index}")


def placed_event(order: Order, pii_key: bytes) -> JournalEvent:
    """The journal's record of a new order: amounts in full, personal data only as keyed hashes."""
    sale = {"sale": sale_record(order)} if order.invoice_number else {}
    counter = {"channel": order.channel} if order.channel == COUNTER_CHANNEL else {}  # absent: online
    placed = OrderPlaced(
        order_id=order.id,
        number=order.number,
        business_day=order.business_day.isoformat(),
        status=order.status,
        payment_method=order.payment_method,
        payment_id=order.payment.id if order.payment else None,
        invoice_number=order.invoice_number,
        currency=order.currency,
        lines=[
            {
                "line_id": line.id,
                "product_id": line.product_id,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vat_rate": line.vat_rate,
                "total": line.total,
                "kind": line.kind,
                "options": [option.id for option in line.options],
            }
            for line in order.lines
        ],
        totals={
            "subtotal": order.totals.subtotal,
            "discount": order.totals.discount,
            "tip": order.totals.tip,
            "total": order.totals.total,
            "vat": vat_records(order.totals.vat),
            "giftcards_sold": order.totals.giftcards_sold,  # a liability, not revenue
        },
        # paid by gift cards (a payment method); the provider or the counter collects the rest
        gift_card_amount=order.gift_card_amount,
        gift_cards=[{"card_id": u.card_id, "amount": u.amount} for u in order.gift_cards],
        cards_sold=[{"card_id": c.card_id, "line_id": c.line_id, "amount": c.amount} for c in order.cards_sold],
        fulfilment_type=order.fulfilment.type,
        customer={
            "name": pseudonym(pii_key, order.customer.name),
            "email": pseudonym(pii_key, order.customer.email),
        },
        **sale,
        **placed_promotion(order),
        **counter,
    )
    return JournalEvent.of(placed)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
