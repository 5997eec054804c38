"""Where stores, products, orders, payments and refunds live, and how each maps to and from its
document; the stores' menus, cached."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from ..domain.catalog import Product, ProductOption, Store
from ..domain.money import VatLine, vat_records
from ..domain.orders import (
    ONLINE_CHANNEL,
    AppliedPromotion,
    Customer,
    Fulfilment,
    GiftCardUse,
    Order,
    OrderLine,
    PaymentRef,
    SoldCard,
    Totals,
)
from ..domain.payments import PaymentRecord
from ..domain.refunds import Refund
from ..services.documents import Documents
from .lazy import TtlCache

IN_QUERY_LIMIT = 30  # ids in one `in` query: Firestore's limit
CATALOG_TTL = 5.0  # seconds a process serves a store's settings and products before reading them again


def store_path(store_id: str) -> str:
    return f"stores/{store_id}"


def product_path(store_id: str, product_id: str) -> str:
    return f"stores/{store_id}/products/{product_id}"


def pii_key_path(store_id: str) -> str:
    return f"store_secrets/{store_id}"


def order_path(order_id: str) -> str:
    return f"orders/{order_id}"


def store_from_doc(store_id: str, doc: dict[str, Any]) -> Store:
    hours = doc.get("opening_hours")
    return Store(
        id=store_id,
        name=doc["name"],
        currency=doc["currency"],
        timezone=doc["timezone"],
        invoice_series=doc["invoice_series"],
        payment_methods=tuple(doc["payment_methods"]),
        online_providers=tuple(doc.get("online_providers", ())),
        fulfilment_types=tuple(doc["fulfilment_types"]),
        opening_hours=None
        if hours is None
        else {day: [(span["from"], span["to"]) for span in spans] for day, spans in hours.items()},
        cors_origins=tuple(doc.get("cors_origins", ())),
        address=tuple(doc.get("address", ())),
        tax_number=doc.get("tax_number"),
        vat_id=doc.get("vat_id"),
    )


def store_to_doc(store: Store) -> dict[str, Any]:
    doc = asdict(store)
    del doc["id"]
    if store.opening_hours is not None:
        doc["opening_hours"] = {
            day: [{"from": start, "to": end} for start, end in spans] for day, spans in store.opening_hours.items()
        }
    return doc


def product_from_doc(product_id: str, doc: dict[str, Any]) -> Product:
    return Product(
        id=product_id,
        name=doc["name"],
        price=doc["price"],
        vat_rate=doc.get("vat_rate"),
        available=doc["available"],
        kind=doc.get("kind", "item"),
        options=tuple(ProductOption(**option) for option in doc.get("options", ())),
        position=doc.get("position", 0),
        category=doc.get("category"),
        description=doc.get("description"),
        stock_tracked=doc.get("stock_tracked", False),
        low_stock_at=doc.get("low_stock_at"),
        hidden=doc.get("hidden", False),
    )


def product_to_doc(product: Product) -> dict[str, Any]:
    doc = asdict(product)
    del doc["id"]
    return doc


def load_store(docs: Documents, store_id: str) -> Store | None:
    found = docs.get(store_path(store_id))
    return store_from_doc(store_id, found.data) if found else None


def load_products(docs: Documents, store_id: str) -> dict[str, Product]:
    """The products on the menu: a hidden one is not offered, nor orderable."""
    stored = docs.query(f"stores/{store_id}/products")
    products = (product_from_doc(d.id, d.data) for d in stored if not d.data.get("hidden"))
    return {p.id: p for p in sorted(products, key=lambda p: (p.position, p.id))}


class CatalogCache:
    """Stores and their products, cached for a few seconds per process.

    Every order needs both; reading them on each request doubled order latency. A change to the
    menu (sold out, new price) reaches every instance within `ttl` seconds.
    """

    def __init__(self, docs: Documents, ttl: float = CATALOG_TTL):
        self._docs = docs
        self.cache: TtlCache[tuple[Store | None, dict[str, Product]]] = TtlCache(ttl)

    def get(self, store_id: str) -> tuple[Store | None, dict[str, Product]]:
        return self.cache.get(store_id, lambda: self._load(store_id))

    def refresh(self, store_id: str) -> None:
        """Read again now: a store just opened here is served at once, not after `ttl`."""
        self.cache.put(store_id, self._load(store_id))

    def _load(self, store_id: str) -> tuple[Store | None, dict[str, Product]]:
        store = load_store(self._docs, store_id)
        return store, load_products(self._docs, store_id) if store else {}


def order_to_doc(order: Order, access_token_hash: str | None = None) -> dict[str, Any]:
    doc = asdict(order)
    doc["business_day"] = order.business_day.isoformat()
    doc["amount_due"] = order.amount_due
    if access_token_hash is not None:
        doc["access_token_hash"] = access_token_hash
    return doc


def event_path(provider: str, event_id: str) -> str:
    return f"webhook_events/{provider}:{event_id}"


def payment_path(payment_id: str) -> str:
    return f"payments/{payment_id}"


def payment_to_doc(payment: PaymentRecord) -> dict[str, Any]:
    return {k: v for k, v in asdict(payment).items() if k != "id"}


def payment_from_doc(payment_id: str, data: dict[str, Any]) -> PaymentRecord:
    fields = {k: data[k] for k in PaymentRecord.__dataclass_fields__ if k in data}
    return PaymentRecord(**(fields | {"id": payment_id, "created_at": as_aware(data["created_at"])}))


def refund_path(refund_id: str) -> str:
    return f"refunds/{refund_id}"


def refund_to_doc(refund: Refund) -> dict[str, Any]:
    doc = asdict(refund)
    doc["vat"] = vat_records(refund.vat)
    return {k: v for k, v in doc.items() if v is not None or k == "payment_id"}


def refund_from_doc(doc: dict[str, Any]) -> Refund:
    fields = {k: doc[k] for k in Refund.__dataclass_fields__ if k in doc}
    vat = tuple(VatLine(**line) for line in doc.get("vat", ()))
    return Refund(**(fields | {"vat": vat, "lines": doc.get("lines") or {}, "created_at": as_aware(doc["created_at"])}))


def order_from_doc(doc: dict[str, Any]) -> Order:
    totals = doc["totals"]
    fulfilment = doc["fulfilment"]
    payment = doc.get("payment")
    return Order(
        id=doc["id"],
        store_id=doc["store_id"],
        currency=doc["currency"],
        timezone=doc["timezone"],
        number=doc["number"],
        business_day=date.fromisoformat(doc["business_day"]),
        status=doc["status"],
        payment_status=doc["payment_status"],
        payment_method=doc["payment_method"],
        lines=tuple(
            OrderLine(**(line | {"options": tuple(ProductOption(**o) for o in line["options"])}))
            for line in doc["lines"]
        ),
        totals=Totals(**(totals | {"vat": tuple(VatLine(**v) for v in totals["vat"])})),
        fulfilment=Fulfilment(**fulfilment),
        customer=Customer(**doc["customer"]),
        created_at=as_aware(doc["created_at"]),
        updated_at=as_aware(doc["updated_at"]),
        gift_card_amount=doc["gift_card_amount"],
        refunded_amount=doc["refunded_amount"],
        refunded_quantities=doc.get("refunded_quantities", {}),
        invoice_number=doc.get("invoice_number"),
        invoiced_at=as_aware(doc["invoiced_at"]) if doc.get("invoiced_at") else None,
        payment=PaymentRef(**payment) if payment else None,
        expires_at=as_aware(doc["expires_at"]) if doc.get("expires_at") else None,
        last_payment_error=doc.get("last_payment_error"),
        gift_cards=tuple(GiftCardUse(**use) for use in doc.get("gift_cards", ())),
        cards_sold=tuple(SoldCard(**card) for card in doc.get("cards_sold", ())),
        contact_keys=tuple(doc.get("contact_keys", ())),
        receipt=doc.get("receipt"),
        tse=doc.get("tse"),
        tse_status=doc.get("tse_status"),
        channel=doc.get("channel", ONLINE_CHANNEL),
        stock_held=doc.get("stock_held", {}),
        promotion=promotion_from(doc.get("promotion")),
    )


def promotion_from(stored: dict[str, Any] | None) -> AppliedPromotion | None:
    return AppliedPromotion(**(stored | {"line_ids": tuple(stored["line_ids"])})) if stored else None


def as_aware(moment: datetime) -> datetime:
    """Firestore returns its own datetime subclass; normalise to a plain aware datetime."""
    return datetime.fromtimestamp(moment.timestamp(), tz=moment.tzinfo)
