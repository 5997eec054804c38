"""Workplaces, their card terminals and shifts, and the reconciliation of a shift's card payments.

A workplace is a till: a place in the store where staff take payments, with the card terminals
standing there. Its terminals change only while no shift is open on it, so a shift's terminals are
the same from its opening to its close. At the close, each terminal's totals as its provider holds
them (the charges it took in the shift) are set against Tresen's (the card payments its journal
booked in the shift): count and sum per card brand, and every payment one side has and the other
has not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .errors import DomainError

STRIPE_TERMINAL, SANDBOX = "stripe_terminal", "sandbox"
TERMINAL_PROVIDERS = (STRIPE_TERMINAL, SANDBOX)
# the payment provider a terminal's payments are made with: refunds and webhooks go through it
PAYMENT_PROVIDER = {STRIPE_TERMINAL: "stripe", SANDBOX: "sandbox"}
CARD_PRESENT = "card_present"  # the payment method of an order paid by card at a terminal
# card brands as Stripe names them (`payment_method_details.card_present.brand`); the sandbox's too
CARD_BRANDS = (
    "amex",
    "cartes_bancaires",
    "diners",
    "discover",
    "eftpos_au",
    "girocard",
    "interac",
    "jcb",
    "maestro",
    "mastercard",
    "unionpay",
    "visa",
    "unknown",
)
PROVIDER_ONLY, TRESEN_ONLY, AMOUNT = "provider_only", "tresen_only", "amount"


@dataclass(frozen=True)
class Workplace:
    id: str
    store_id: str
    name: str
    created_at: datetime
    open_shift: str | None = None  # the shift open on it now
    location: str | None = None  # the provider's location its readers are registered to (Stripe)


@dataclass(frozen=True)
class TerminalCheck:
    """A connection check: what the provider said of the reader, and when."""

    status: str  # online | offline
    checked_at: datetime
    detail: str


@dataclass(frozen=True)
class Terminal:
    """A card terminal standing at a workplace. Kept after its removal (`removed_at`): the register
    of the store's payment devices names when each came and went."""

    id: str
    store_id: str
    workplace_id: str
    provider: str  # stripe_terminal | sandbox
    model: str
    serial_number: str
    bank_terminal_id: str | None  # the terminal id (TID) its acquiring bank gave it
    reader_id: str  # the provider's id of the reader (Stripe: `tmr_…`)
    registered_at: datetime
    removed_at: datetime | None = None
    last_check: TerminalCheck | None = None

    @property
    def payment_provider(self) -> str:
        return PAYMENT_PROVIDER[self.provider]


@dataclass(frozen=True)
class TerminalRegistration:
    """What the owner types to register a terminal (`registration_code`: Stripe's pairing code the
    reader shows)."""

    provider: str
    model: str
    serial_number: str
    bank_terminal_id: str | None = None
    registration_code: str | None = None


@dataclass(frozen=True)
class BrandTotal:
    count: int
    amount: int


@dataclass(frozen=True)
class CardTotals:
    count: int
    amount: int
    by_brand: Mapping[str, BrandTotal]


@dataclass(frozen=True)
class Mismatch:
    """`provider_only`: the provider took it, Tresen booked none; `tresen_only`: Tresen booked it,
    the provider did not take it; `amount`: both have it, for different amounts (`amount` the
    provider's, `tresen_amount` Tresen's)."""

    kind: str
    amount: int
    provider_ref: str | None = None
    order_id: str | None = None
    tresen_amount: int | None = None


@dataclass(frozen=True)
class TerminalReconciliation:
    terminal_id: str
    provider: CardTotals
    tresen: CardTotals
    mismatches: tuple[Mismatch, ...]

    @property
    def matched(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class Shift:
    id: str
    store_id: str
    workplace_id: str
    opened_at: datetime
    opened_by: Mapping[str, Any]
    journal_from: int  # the journal's seqs from here on were written while it was open
    closed_at: datetime | None = None
    closed_by: Mapping[str, Any] | None = None
    terminals: tuple[TerminalReconciliation, ...] = field(default_factory=tuple)

    @property
    def matched(self) -> bool:
        return all(terminal.matched for terminal in self.terminals)


@dataclass(frozen=True)
class ProviderCharge:
    """A card payment the provider took on a reader: `ref` its id of the payment (Stripe: the
    PaymentIntent), which is Tresen's payment id where Tresen started it."""

    ref: str
    amount: int
    currency: str
    brand: str
    at: datetime


@dataclass(frozen=True)
class BookedCardPayment:
    """A card payment at a terminal as Tresen's journal booked it (`order.paid`), or as it recorded
    it without booking it (`payment.mismatch`: `booked` False)."""

    payment_id: str
    order_id: str
    terminal_id: str
    amount: int
    brand: str
    booked: bool = True


def check_no_open_shift(workplace: Workplace) -> None:
    if workplace.open_shift is not None:
        raise DomainError(
            "shift_open", f"Workplace {workplace.name!r} has an open shift: close it before changing its terminals."
        )


def check_registration(registration: TerminalRegistration) -> None:
    from .errors import FieldError

    if registration.provider == STRIPE_TERMINAL and not registration.registration_code:
        missing = FieldError("registration_code", "required for stripe_terminal: the code the reader shows")
        raise DomainError("validation_failed", "A Stripe reader is registered with its pairing code.", [missing])


def opened(workplace: Workplace, shift_id: str) -> Workplace:
    check_no_open_shift(workplace)
    return replace(workplace, open_shift=shift_id)


def open_shift_of(workplace: Workplace, shift_id: str) -> None:
    if workplace.open_shift != shift_id:
        raise DomainError("shift_closed", f"Shift {shift_id} is not open on workplace {workplace.name!r}.")


def totals(pairs: Iterable[tuple[str, int]]) -> CardTotals:
    """Count and sum over (brand, amount) pairs, and per brand."""
    by_brand: dict[str, BrandTotal] = {}
    count = amount = 0
    for brand, cents in pairs:
        count, amount = count + 1, amount + cents
        seen = by_brand.get(brand, BrandTotal(0, 0))
        by_brand[brand] = BrandTotal(seen.count + 1, seen.amount + cents)
    return CardTotals(count, amount, dict(sorted(by_brand.items())))


def reconcile(
    terminal_id: str, charges: Iterable[ProviderCharge], payments: Iterable[BookedCardPayment]
) -> TerminalReconciliation:
    """The provider's charges set against Tresen's payments, matched by the provider's payment id.
    Tresen's totals count what it booked; a payment it recorded without booking (the provider
    reported another amount) is an `amount` mismatch beside the provider's charge."""
    charges = sorted(charges, key=lambda charge: (charge.at, charge.ref))
    by_ref = {payment.payment_id: payment for payment in payments}
    mismatches: list[Mismatch] = []
    for charge in charges:
        ours = by_ref.get(charge.ref)
        if ours is None:
            mismatches.append(Mismatch(PROVIDER_ONLY, charge.amount, provider_ref=charge.ref))
        elif ours.amount != charge.amount or not ours.booked:
            mismatches.append(Mismatch(AMOUNT, charge.amount, charge.ref, ours.order_id, ours.amount))
    taken = {charge.ref for charge in charges}
    for payment in by_ref.values():
        if payment.booked and payment.payment_id not in taken:
            mismatches.append(Mismatch(TRESEN_ONLY, payment.amount, order_id=payment.order_id))
    booked = [(payment.brand, payment.amount) for payment in by_ref.values() if payment.booked]
    return TerminalReconciliation(
        terminal_id, totals((charge.brand, charge.amount) for charge in charges), totals(booked), tuple(mismatches)
    )
