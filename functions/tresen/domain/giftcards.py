"""Gift cards: codes, states and the append-only ledger of activities (no I/O).

A card's `balance` is what can be spent now: the sum of its ledger's `balance_change`s. A redeem
authorization takes its amount out of the balance at once (held), its capture changes nothing
more and a release gives it back; so the balance never counts held money twice and can never go
below zero. Every operation here returns the card as it becomes plus the activities that got it
there, each recording the balance after it; storing them is the adapter's job.

A card that is deactivated or expired changes no more: only a capture of money held before (no
balance change) is honoured. A hold that should be released while the card is inactive is marked
due and released once the card is active again.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import DomainError, FieldError
from .events import model_for
from .journal import JournalEvent

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: codes are read aloud and typed
CODE_LENGTH = 16
AUTH_CODE_ALPHABET = string.ascii_uppercase + string.digits
AUTH_CODE_LENGTH = 6
HOLD_PERIOD = timedelta(days=7)
VALIDITY_YEARS = 3  # § 195 BGB: three years after the end of the year of issue
DEACTIVATION_REASONS = ("lost", "stolen", "fraud", "other")
MAX_BALANCE = 100_000_00  # a sanity bound on one card (and on every amount), in cents


@dataclass(frozen=True)
class Hold:
    auth_code: str
    type: str  # redeem: the amount is held; load: an approved load, nothing held
    amount: int
    expires_at: datetime
    order_id: str | None = None


@dataclass(frozen=True)
class Card:
    id: str
    store_id: str
    last4: str
    currency: str
    status: str  # pending | active | deactivated  (expired is a matter of time, see status_at)
    balance: int
    issued_at: datetime
    expires_at: datetime
    activity_count: int = 0
    holds: tuple[Hold, ...] = ()
    deactivation_reason: str | None = None
    order_id: str | None = None  # the order that sold it
    transferred_to: str | None = None
    transferred_from: str | None = None

    def status_at(self, now: datetime) -> str:
        return "expired" if self.status in ("active", "deactivated") and now >= self.expires_at else self.status

    def hold(self, auth_code: str) -> Hold | None:
        return next((h for h in self.holds if h.auth_code == auth_code), None)


@dataclass(frozen=True)
class Activity:
    n: int  # position in the card's ledger, from 1
    type: str
    amount: int  # what the activity is about (always >= 0)
    balance_change: int
    balance_after: int
    at: datetime
    order_id: str | None = None
    refund_id: str | None = None
    auth_code: str | None = None
    reason: str | None = None
    linked_card_id: str | None = None


@dataclass(frozen=True)
class CardChange:
    card: Card
    activities: tuple[Activity, ...]


@dataclass(frozen=True)
class CardResult:
    """A card as a use case answers with it."""

    card: Card
    now: datetime  # for the card's status at this moment (expiry)
    code: str | None = None  # shown once: for a card created by this call
    activities: tuple[Activity, ...] = ()  # newest first
    auth_code: str | None = None


# --- codes -------------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_from_digest(digest: bytes) -> str:
    """A code from 32 random-looking bytes (block activations derive theirs, see services)."""
    value = int.from_bytes(digest, "big")  # 256 bits for 79 bits of code: no visible bias
    chars = []
    for _ in range(CODE_LENGTH):
        value, index = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def normalize_code(raw: str) -> str | None:
    """The code as stored, or None if it cannot be one (case-insensitive, spaces and dashes ignored)."""
    code = raw.replace(" ", "").replace("-", "").upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def new_auth_code(taken: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(AUTH_CODE_ALPHABET) for _ in range(AUTH_CODE_LENGTH))
        if code not in taken:
            return code


def expiry_for(issued_at: datetime, timezone: str) -> datetime:
    """The first moment after the third year following the year of issue, in store time."""
    year = issued_at.astimezone(ZoneInfo(timezone)).year
    return datetime(year + VALIDITY_YEARS + 1, 1, 1, tzinfo=ZoneInfo(timezone))


# --- the ledger --------------------------------------------------------------------------------


class Ledger:
    """Applies activities to a card one after another, numbering them and recording balances."""

    def __init__(self, card: Card):
        self.card = card
        self.activities: list[Activity] = []

    def record(self, type_: str, amount: int, change: int, at: datetime, **links) -> None:
        balance = self.card.balance + change
        if balance < 0:  # unreachable through the operations below; the invariant is checked anyway
            raise AssertionError(f"card {self.card.id} would go below zero")
        n = self.card.activity_count + 1
        self.activities.append(Activity(n, type_, amount, change, balance, at, **links))
        self.card = replace(self.card, balance=balance, activity_count=n)

    def result(self) -> CardChange:
        return CardChange(self.card, tuple(self.activities))


def check_amount(amount: int, field: str = "amount") -> None:
    if not 0 < amount <= MAX_BALANCE:
        raise DomainError(
            "validation_failed", "Amounts are positive cents.", [FieldError(field, f"must be 1..{MAX_BALANCE}")]
        )


def _active(ledger: Ledger, now: datetime) -> None:
    """Refuse unless active; first release holds that are past due (the card is touched anyway)."""
    status = ledger.card.status_at(now)
    if status != "active":
        raise DomainError("giftcard_not_active", f"The gift card is {status}.")
    for hold in ledger.card.holds:
        if hold.expires_at <= now:
            _close_hold(ledger, hold, "release", now)


def _close_hold(ledger: Ledger, hold: Hold, type_: str, now: datetime, amount: int | None = None) -> None:
    """Capture or release a hold entirely; a redeem hold's money comes back on release."""
    ledger.card = replace(ledger.card, holds=tuple(h for h in ledger.card.holds if h.auth_code != hold.auth_code))
    give_back = hold.amount if type_ == "release" and hold.type == "redeem" else 0
    ledger.record(
        type_,
        hold.amount if amount is None else amount,
        give_back,
        now,
        auth_code=hold.auth_code,
        order_id=hold.order_id,
    )


def issue(
    card_id: str, store_id: str, last4: str, currency: str, timezone: str, amount: int, now: datetime
) -> CardChange:
    """A new card, active with `amount`: sold at the counter, or one of a block."""
    check_amount(amount)
    return activate(pending_card(card_id, store_id, last4, currency, timezone, now), amount, now)


def pending_card(
    card_id: str, store_id: str, last4: str, currency: str, timezone: str, now: datetime, order_id: str | None = None
) -> Card:
    return Card(
        id=card_id,
        store_id=store_id,
        last4=last4,
        currency=currency,
        status="pending",
        balance=0,
        issued_at=now,
        expires_at=expiry_for(now, timezone),
        order_id=order_id,
    )


def activate(card: Card, amount: int, now: datetime, type_: str = "activate", **links) -> CardChange:
    if amount < 0:  # 0 is fine: a transfer of an empty card; issue() bounds what is sold
        raise DomainError("validation_failed", "Amounts are positive cents.", [FieldError("amount", "negative")])
    if card.status != "pending":
        raise DomainError("giftcard_not_active", f"The gift card is {card.status}, not pending.")
    ledger = Ledger(replace(card, status="active"))
    ledger.record(type_, amount, amount, now, **links)
    return ledger.result()


def load(card: Card, amount: int, now: datetime, auth_code: str | None = None) -> CardChange:
    check_amount(amount)
    ledger = Ledger(card)
    _active(ledger, now)
    if auth_code is not None:
        hold = ledger.card.hold(auth_code)
        if hold is None or hold.type != "load":
            raise DomainError("giftcard_authorization_not_found", "No open load authorization with this code.")
        if amount > hold.amount:
            raise DomainError(
                "validation_failed", "More than authorized.", [FieldError("amount", "above authorization")]
            )
        ledger.card = replace(ledger.card, holds=tuple(h for h in ledger.card.holds if h.auth_code != auth_code))
    if ledger.card.balance + amount > MAX_BALANCE:
        raise DomainError("giftcard_balance_limit", f"A card holds at most {MAX_BALANCE} cents.")
    ledger.record("load", amount, amount, now, auth_code=auth_code)
    return ledger.result()


def redeem(
    card: Card, amount: int, now: datetime, auth_code: str | None = None, order_id: str | None = None
) -> CardChange:
    """Spend from the card, or capture an authorization (then at most its amount; the rest is released)."""
    check_amount(amount)
    ledger = Ledger(card)
    if auth_code is None:
        _active(ledger, now)
        _ensure_funds(ledger.card, amount)
        ledger.record("redeem", amount, -amount, now, order_id=order_id)
        return ledger.result()
    return capture(card, auth_code, amount, now)


def capture(card: Card, auth_code: str, amount: int, now: datetime) -> CardChange:
    """Take held money for good. Allowed on an inactive card: it was set aside before the block;
    what is not taken goes back at once, or once the card is active again."""
    check_amount(amount)
    ledger = Ledger(card)
    hold = card.hold(auth_code)
    if hold is None or hold.type != "redeem":
        raise DomainError("giftcard_authorization_not_found", "No open redeem authorization with this code.")
    if amount > hold.amount:
        raise DomainError(
            "giftcard_insufficient_funds", f"The authorization {auth_code} holds only {hold.amount} cents."
        )
    _close_hold(ledger, replace(hold, amount=amount), "capture", now)
    rest = hold.amount - amount
    if rest and card.status_at(now) == "active":
        ledger.record("release", rest, rest, now, auth_code=auth_code, order_id=hold.order_id)
    elif rest:
        ledger.card = replace(ledger.card, holds=(*ledger.card.holds, replace(hold, amount=rest, expires_at=now)))
    return ledger.result()


def reduce_hold(card: Card, auth_code: str, to: int, now: datetime) -> CardChange:
    """Hold less (the order now costs less): the difference comes back (see capture for inactive cards)."""
    hold = card.hold(auth_code)
    if hold is None or hold.type != "redeem" or to >= hold.amount or card.status_at(now) != "active":
        return CardChange(card, ())
    if to <= 0:
        return release(card, auth_code, now)
    ledger = Ledger(replace(card, holds=tuple(replace(h, amount=to) if h is hold else h for h in card.holds)))
    ledger.record("release", hold.amount - to, hold.amount - to, now, auth_code=auth_code, order_id=hold.order_id)
    return ledger.result()


def authorize(
    card: Card, type_: str, amount: int, now: datetime, order_id: str | None = None, auth_code: str | None = None
) -> CardChange:
    """Hold `amount` for 7 days under a 6-character code (a load authorization holds nothing).
    An order brings its own code, drawn when it read the card; a clash is retried as a conflict."""
    check_amount(amount)
    ledger = Ledger(card)
    _active(ledger, now)
    if type_ == "redeem":
        _ensure_funds(ledger.card, amount)
    taken = {hold.auth_code for hold in ledger.card.holds}
    if auth_code in taken:
        raise DomainError("giftcard_authorization_conflict", "The authorization code is in use; please retry.")
    auth_code = auth_code or new_auth_code(taken)
    hold = Hold(auth_code, type_, amount, now + HOLD_PERIOD, order_id)
    ledger.card = replace(ledger.card, holds=(*ledger.card.holds, hold))
    ledger.record("authorize", amount, -amount if type_ == "redeem" else 0, now, auth_code=auth_code, order_id=order_id)
    return ledger.result()


def release(card: Card, auth_code: str, now: datetime) -> CardChange:
    """Give held money back; on an inactive card the hold is only marked due (see module doc)."""
    hold = card.hold(auth_code)
    if hold is None:
        return CardChange(card, ())
    if card.status_at(now) != "active":
        due = replace(hold, expires_at=min(hold.expires_at, now))
        return CardChange(replace(card, holds=tuple(due if h is hold else h for h in card.holds)), ())
    ledger = Ledger(card)
    _close_hold(ledger, hold, "release", now)
    return ledger.result()


def release_due(card: Card, now: datetime) -> CardChange:
    """The expiry job: release every hold past due, if the card is active."""
    if card.status_at(now) != "active":
        return CardChange(card, ())
    ledger = Ledger(card)
    _active(ledger, now)
    return ledger.result()


def refund(card: Card, amount: int, now: datetime, order_id: str, refund_id: str | None = None) -> CardChange:
    check_amount(amount)
    ledger = Ledger(card)
    _active(ledger, now)
    ledger.record("refund", amount, amount, now, order_id=order_id, refund_id=refund_id)
    return ledger.result()


def deactivate(card: Card, reason: str, now: datetime) -> CardChange:
    if reason not in DEACTIVATION_REASONS:
        raise DomainError(
            "validation_failed", "Unknown reason.", [FieldError("reason", f"one of {', '.join(DEACTIVATION_REASONS)}")]
        )
    ledger = Ledger(card)
    _active(ledger, now)
    ledger.card = replace(ledger.card, status="deactivated", deactivation_reason=reason)
    ledger.record("deactivate", 0, 0, now, reason=reason)
    return ledger.result()


def reactivate(card: Card, now: datetime) -> CardChange:
    status = card.status_at(now)
    if status != "deactivated" or card.deactivation_reason not in DEACTIVATION_REASONS:  # not transferred or void
        raise DomainError(
            "giftcard_not_deactivated", f"Only a deactivated card can be reactivated; this one is {status}."
        )
    ledger = Ledger(replace(card, status="active", deactivation_reason=None))
    ledger.record("reactivate", 0, 0, now)
    _active(ledger, now)  # holds that fell due while it was blocked are released now
    return ledger.result()


def void_pending(card: Card, now: datetime, order_id: str) -> CardChange:
    """A card sold in an order that was never paid: it never carried value and never will."""
    if card.status != "pending":
        return CardChange(card, ())
    ledger = Ledger(replace(card, status="deactivated", deactivation_reason="order_canceled"))
    ledger.record("deactivate", 0, 0, now, reason="order_canceled", order_id=order_id)
    return ledger.result()


def transfer(old: Card, new: Card, now: datetime) -> tuple[CardChange, CardChange]:
    """The whole balance moves to `new` (a pending card), `old` is deactivated; each names the other."""
    ledger = Ledger(old)
    _active(ledger, now)
    if ledger.card.holds:
        raise DomainError("giftcard_has_holds", "Capture or release the card's open authorizations first.")
    amount = ledger.card.balance
    ledger.record("transfer_out", amount, -amount, now, linked_card_id=new.id)
    ledger.card = replace(ledger.card, status="deactivated", deactivation_reason="transferred", transferred_to=new.id)
    incoming = activate(replace(new, transferred_from=old.id), amount, now, "transfer_in", linked_card_id=old.id)
    return ledger.result(), incoming


def expire(card: Card, now: datetime) -> CardChange:
    """Mark a card past its validity; the balance left is recorded, no longer spendable."""
    if card.status not in ("active", "deactivated") or now < card.expires_at:
        return CardChange(card, ())
    ledger = Ledger(replace(card, status="expired"))  # holds stay: money set aside may still be captured
    ledger.record("expire", card.balance, 0, now)
    return ledger.result()


def _ensure_funds(card: Card, amount: int) -> None:
    if amount > card.balance:
        raise DomainError("giftcard_insufficient_funds", f"The card has {card.balance} cents, not {amount}.")


def card_journal_event(card: Card, activity: Activity) -> JournalEvent:
    """The journal's record of one ledger activity: amounts and links, never the code."""
    links = ("order_id", "refund_id", "auth_code", "reason", "linked_card_id")
    recorded = model_for(f"giftcard.{activity.type}")(
        card_id=card.id,
        last4=card.last4,
        n=activity.n,
        amount=activity.amount,
        balance_change=activity.balance_change,
        balance_after=activity.balance_after,
        **{link: getattr(activity, link) for link in links if getattr(activity, link)},  # only the links it has
    )
    return JournalEvent.of(recorded)
