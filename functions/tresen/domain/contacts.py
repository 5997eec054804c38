"""The keys a person's e-mail and phone are found by within a store: keyed pseudonyms (the store's
key, as in the journal), so an order can name its customer's record and no document spells out a
person. An order keeps the keys of its own contacts (`Order.contact_keys`); a record claims its own."""

from __future__ import annotations

from .journal import pseudonym


def contact_key(pii_key: bytes, kind: str, value: str) -> str:
    """The keyed pseudonym an e-mail (`email`) or a phone in E.164 (`phone`) is found by."""
    return f"{kind}:{pseudonym(pii_key, value)}"


def order_contact_keys(pii_key: bytes, email: str | None, phone: str | None) -> tuple[str, ...]:
    """The keys of an order's customer: as typed at the order, normalised like a record's (a phone
    that cannot be read as a number links nothing)."""
    from .customer_fields import normalize_email, normalize_phone  # its checks cost every cold start otherwise

    keys = []
    for kind, value, normalise in (("email", email, normalize_email), ("phone", phone, normalize_phone)):
        if not value:
            continue
        try:
            keys.append(contact_key(pii_key, kind, normalise(value)))
        except ValueError:
            continue
    return tuple(keys)
