"""Customer records in the document store: `stores/{store}/customers/{id}`, and one claim per e-mail
and phone, `stores/{store}/customer_contacts/{kind}:{keyed pseudonym}` naming the record that holds
it: created with the record, so two records can never hold the same contact (the second create of
a claim fails)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from ..services.customer_ports import CustomerQuery
from ..services.documents import Documents
from .repository import as_aware

if TYPE_CHECKING:  # the customer types are loaded where a record is read, not by every cold start
    from ..domain.customer_fields import CustomerFields
    from ..domain.customers import Customer

PREFIX_LENGTH = 20  # a name is found by any prefix of each of its words up to this long


def customer_path(store_id: str, customer_id: str) -> str:
    return f"stores/{store_id}/customers/{customer_id}"


def contact_path(store_id: str, key: str) -> str:
    return f"stores/{store_id}/customer_contacts/{key}"


def name_prefixes(fields: CustomerFields) -> list[str]:
    words = " ".join(value for value in (fields.given_name, fields.family_name, fields.company) if value)
    return sorted({word[:n] for word in words.casefold().split() for n in range(1, min(len(word), PREFIX_LENGTH) + 1)})


def customer_to_doc(customer: Customer) -> dict[str, Any]:
    fields, address = customer.fields, customer.address
    return {
        "id": customer.id,
        "store_id": customer.store_id,
        "given_name": fields.given_name,
        "family_name": fields.family_name,
        "email": fields.email,
        "phone": fields.phone,
        "company": fields.company,
        "birthday": fields.birthday.isoformat() if fields.birthday else None,
        "note": fields.note,
        "address": vars(address) if address else None,
        "consents": [vars(consent) for consent in customer.consents],
        "version": customer.version,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "name_prefixes": name_prefixes(fields),
    }


def customer_from_doc(doc: dict[str, Any]) -> Customer:
    from ..domain.customer_fields import CustomerFields
    from ..domain.customers import Address, Consent, Customer

    birthday = doc.get("birthday")
    fields = CustomerFields(
        given_name=doc.get("given_name"),
        family_name=doc.get("family_name"),
        email=doc.get("email"),
        phone=doc.get("phone"),
        company=doc.get("company"),
        birthday=date.fromisoformat(birthday) if birthday else None,
        note=doc.get("note"),
    )
    consents = tuple(Consent(**(c | {"at": as_aware(c["at"])})) for c in doc.get("consents", ()))
    return Customer(
        id=doc["id"],
        store_id=doc["store_id"],
        fields=fields,
        address=Address(**doc["address"]) if doc.get("address") else None,
        consents=consents,
        version=doc["version"],
        created_at=as_aware(doc["created_at"]),
        updated_at=as_aware(doc["updated_at"]),
    )


class DocumentCustomers:
    """services/customer_ports.py `Customers`."""

    def __init__(self, docs: Documents):
        self._docs = docs

    def read(self, store_id: str, customer_id: str):
        found = self._docs.get(customer_path(store_id, customer_id))
        return (customer_from_doc(found.data), found.version) if found else None

    def holders(self, store_id: str, keys: Sequence[str]) -> dict[str, str]:
        claims = self._docs.get_all([contact_path(store_id, key) for key in keys])
        return {key: claim.data["customer_id"] for key, claim in zip(keys, claims, strict=True) if claim}

    def read_many(self, store_id: str, customer_ids: Sequence[str]) -> dict[str, tuple[Customer, Any]]:
        found = self._docs.get_all([customer_path(store_id, customer_id) for customer_id in customer_ids])
        return {doc.data["id"]: (customer_from_doc(doc.data), doc.version) for doc in found if doc}

    def search(self, store_id: str, query: CustomerQuery, after: str | None, limit: int) -> list[Customer]:
        where = [] if query.kind == "all" else [query_filter(query)]
        found = self._docs.query(
            f"stores/{store_id}/customers",
            where=where,
            order_by=[("id", False)],
            limit=limit,
            start_after={"id": after} if after else None,
        )
        return [customer_from_doc(doc.data) for doc in found]


def query_filter(query: CustomerQuery) -> tuple[str, str, Any]:
    if query.kind == "name":
        return ("name_prefixes", "array_contains", query.value)
    return (query.kind, "==", query.value)
