"""What a store's receipts and invoices name it by: its name, postal address, tax number
(Steuernummer) and VAT id (USt-IdNr.), §14 (4) UStG.

The store keeps its address as the postal lines its documents print (`Store.address`: the street,
then postal code and city); `Address` is the one place that writes those lines and reads them back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .catalog import Store
from .licence_invoices import Party

POSTAL_CODE_AND_CITY = re.compile(r"(?P<postal_code>[0-9]{5}) (?P<city>.+)")
PROFILE_FIELDS = ("name", "address", "tax_number", "vat_id")


@dataclass(frozen=True)
class Address:
    """A German postal address."""

    street: str
    postal_code: str
    city: str

    def lines(self) -> tuple[str, str]:
        """As a receipt prints it: `("Nordstraße 5", "20095 Hamburg")`."""
        return (self.street, f"{self.postal_code} {self.city}")

    @classmethod
    def from_lines(cls, lines: tuple[str, ...]) -> Address | None:
        """The address `lines()` wrote; None for lines of another shape (a store file may hold any)."""
        if len(lines) != 2 or not (found := POSTAL_CODE_AND_CITY.fullmatch(lines[1])):
            return None
        return cls(lines[0], found["postal_code"], found["city"])


@dataclass(frozen=True)
class StoreProfile:
    """`address` is None only as read from a store whose postal lines are of another shape than
    `Address.lines()` (a store file may hold any); a profile given to a store has one."""

    name: str
    address: Address | None
    tax_number: str | None
    vat_id: str | None

    @classmethod
    def of(cls, store: Store) -> StoreProfile:
        return cls(store.name, Address.from_lines(store.address), store.tax_number, store.vat_id)

    def given_to(self, store: Store) -> Store:
        return replace(
            store, name=self.name, address=self.address.lines(), tax_number=self.tax_number, vat_id=self.vat_id
        )

    def billed_as(self, recipient: Party) -> Party:
        """The licence invoices' recipient naming the store as its receipts do (its country and e-mail
        are the billing profile's own)."""
        address = self.address
        return replace(
            recipient,
            name=self.name,
            street=address.street,
            postal_code=address.postal_code,
            city=address.city,
            tax_number=self.tax_number,
            vat_id=self.vat_id,
        )


def changed_fields(before: Store, after: Store) -> list[str]:
    """The profile's fields whose printed value differs, in the order of `PROFILE_FIELDS`."""
    return [field for field in PROFILE_FIELDS if getattr(before, field) != getattr(after, field)]
