"""Where each named write of a use case lives, and what its document holds.

The use cases name their writes by what they are (services/unit_of_work.py `Writes`); this is the
one place that turns each into a document path and a document, and that tells the unit of work
which of them are create-only, numbered from a read, guarded by a version, or set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..domain.payouts import match_id
from ..services.documents import Batch
from ..services.unit_of_work import Write
from . import giftcard_store as cards
from . import repository as repo
from .accounting_store import accounting_path
from .api_key_store import api_key_path, key_to_doc
from .billing_store import (
    billing_profile_path,
    invoice_account_to_doc,
    licence_invoice_path,
    licence_pdf_path,
    profile_to_doc,
)
from .closing_store import closing_path
from .customer_imports import import_path
from .customer_store import contact_path, customer_path, customer_to_doc
from .mail_outbox import mail_path, new_mail_doc
from .membership_store import (
    email_holder_path,
    holder_to_doc,
    invitation_path,
    invitation_to_doc,
    member_path,
    member_to_doc,
    user_roles_path,
    user_roles_to_doc,
)
from .passkeys import passkey_path
from .promotion_store import promotion_code_path, promotion_path, promotion_to_doc
from .purchase_order_store import purchase_order_path, purchase_order_to_doc, supplier_path, supplier_to_doc
from .stock_store import stock_path, stock_to_doc
from .stripe_accounts import account_route_path, account_to_doc, stripe_account_path
from .terminal_store import (
    shift_path,
    shift_to_doc,
    terminal_path,
    terminal_to_doc,
    workplace_path,
    workplace_to_doc,
)
from .tour_store import latest_to_doc, position_path, position_to_doc, tour_path, tour_to_doc
from .tse_store import tse_path, tse_to_doc


def payout_path(provider: str, payout_id: str) -> str:
    return f"payouts/{provider}:{payout_id}"


def payout_match_path(kind: str, object_id: str) -> str:
    return f"payout_matches/{match_id(kind, object_id)}"


def statement_path(store_id: str, statement_id: str) -> str:
    return f"stores/{store_id}/statements/{statement_id}"


def webhook_endpoint_path(endpoint_id: str) -> str:
    from .webhook_store import endpoint_path  # the webhook types load where webhooks are used

    return endpoint_path(endpoint_id)


def webhook_endpoint_doc(endpoint: Any) -> dict[str, Any]:
    from .webhook_store import endpoint_to_doc

    return endpoint_to_doc(endpoint) if endpoint else {}


def as_is(value: Any) -> dict[str, Any]:
    return dict(value)


@dataclass(frozen=True)
class Mapping:
    path: Callable[..., str]  # of the write's key
    document: Callable[[Any], dict[str, Any]]  # of the write's value


MAPPINGS: dict[str, Mapping] = {
    "new_order": Mapping(repo.order_path, lambda value: repo.order_to_doc(*value)),
    "order": Mapping(repo.order_path, repo.order_to_doc),
    "payment": Mapping(repo.payment_path, repo.payment_to_doc),
    "payment_amount": Mapping(repo.payment_path, lambda amount: {"amount": amount}),
    "refund": Mapping(repo.refund_path, repo.refund_to_doc),
    "refund_status": Mapping(repo.refund_path, lambda value: {"status": value[0], "provider_refund_id": value[1]}),
    "card": Mapping(cards.card_path, cards.card_to_doc),
    "card_activity": Mapping(cards.activity_path, lambda value: cards.activity_to_doc(*value)),
    "event_seen": Mapping(repo.event_path, as_is),
    "payout": Mapping(payout_path, as_is),
    "payout_match": Mapping(payout_match_path, as_is),
    "passkey": Mapping(passkey_path, as_is),
    "passkey_attempts": Mapping(passkey_path, lambda value: {"failures": value[0], "locked_until": value[1]}),
    "api_key": Mapping(api_key_path, key_to_doc),
    "api_key_revoked": Mapping(api_key_path, lambda revoked_at: {"revoked_at": revoked_at}),
    "api_key_used": Mapping(api_key_path, lambda used_at: {"last_used_at": used_at}),
    "accounting": Mapping(accounting_path, as_is),
    "stripe_account": Mapping(stripe_account_path, account_to_doc),
    "customer": Mapping(customer_path, lambda customer: customer_to_doc(customer) if customer else {}),
    "customer_import": Mapping(import_path, as_is),
    "customer_contact": Mapping(contact_path, lambda customer_id: {"customer_id": customer_id} if customer_id else {}),
    "stripe_account_route": Mapping(account_route_path, lambda store_id: {"store_id": store_id}),
    "closing": Mapping(closing_path, as_is),
    "statement": Mapping(statement_path, as_is),
    "activation": Mapping(cards.activation_path, cards.activation_to_doc),
    "activation_done": Mapping(cards.activation_path, lambda _: {"status": "done"}),
    "activation_chunk": Mapping(cards.chunk_path, cards.chunk_to_doc),
    "mail": Mapping(mail_path, new_mail_doc),
    "store": Mapping(repo.store_path, repo.store_to_doc),
    "billing_profile": Mapping(billing_profile_path, profile_to_doc),
    "licence_invoice": Mapping(licence_invoice_path, invoice_account_to_doc),
    "licence_invoice_pdf": Mapping(licence_pdf_path, lambda pdf: {"pdf": pdf}),
    "invitation": Mapping(invitation_path, invitation_to_doc),
    "email_holder": Mapping(email_holder_path, lambda holder: holder_to_doc(holder) if holder else {}),
    "member": Mapping(member_path, member_to_doc),
    "user_roles": Mapping(user_roles_path, user_roles_to_doc),
    "webhook_endpoint": Mapping(webhook_endpoint_path, webhook_endpoint_doc),
    "webhook_endpoint_failing": Mapping(webhook_endpoint_path, lambda since: {"failing_since": since}),
    "tour": Mapping(tour_path, tour_to_doc),
    "tour_position": Mapping(position_path, lambda value: position_to_doc(*value)),
    "tour_latest": Mapping(tour_path, latest_to_doc),
    "workplace": Mapping(workplace_path, workplace_to_doc),
    "terminal": Mapping(terminal_path, terminal_to_doc),
    "terminal_checked": Mapping(terminal_path, lambda check: {"last_check": asdict(check)}),
    "shift": Mapping(shift_path, shift_to_doc),
    "store_tse": Mapping(tse_path, tse_to_doc),
    "product": Mapping(repo.product_path, repo.product_to_doc),
    "stock": Mapping(stock_path, stock_to_doc),
    "promotion": Mapping(promotion_path, promotion_to_doc),
    "promotion_code": Mapping(promotion_code_path, lambda promotion_id: {"promotion_id": promotion_id}),
    "supplier": Mapping(supplier_path, supplier_to_doc),
    "purchase_order": Mapping(purchase_order_path, purchase_order_to_doc),
}


@dataclass(frozen=True)
class Placed:
    """A write as a document: where, what, and how it is guarded."""

    kind: str
    path: str
    data: dict[str, Any]
    read_at: Any = None


def placed(write: Write) -> Placed:
    mapping = MAPPINGS[write.record]
    return Placed(write.kind, mapping.path(*write.key), mapping.document(write.value), write.read_at)


def add_to(batch: Batch, write: Placed) -> None:
    if write.kind in ("create", "sequenced"):
        batch.create(write.path, write.data)
    elif write.kind == "set":
        batch.set(write.path, write.data)
    elif write.kind == "delete":
        batch.delete(write.path)
    else:
        batch.update(write.path, write.data, write.read_at)
