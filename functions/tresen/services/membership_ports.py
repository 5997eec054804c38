"""What the store, invitation and membership use cases read through: the ports the storage adapter
implements (adapters/membership_store.py), and the unit of work as they see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .order_ports import OrderUnitOfWork

if TYPE_CHECKING:
    from ..domain.memberships import EmailHolder, Invitation, Membership
    from .identity_ports import IdentityDirectory

Versioned = tuple[Any, Any]  # (the record, the version it was read at)


class Invitations(Protocol):
    def get(self, invitation_id: str) -> tuple[Invitation, Any] | None: ...

    def by_token_hash(self, token_hash: str) -> Invitation | None: ...

    def of_store(self, store_id: str) -> list[Invitation]:
        """Newest first."""


class EmailHolders(Protocol):
    def get(self, email: str) -> tuple[EmailHolder, Any] | None:
        """The store holding this (normalised) address, with the version read."""


class Members(Protocol):
    def of_store(self, store_id: str) -> list[Membership]: ...

    def get(self, store_id: str, uid: str) -> tuple[Membership, Any] | None: ...

    def roles_of(self, uid: str) -> dict[str, str] | None:
        """The person's roles by store as Tresen keeps them; None if they never were a member
        (their token's own `stores` claim then counts)."""


class PortalUnitOfWork(OrderUnitOfWork, Protocol):
    invitations: Invitations
    email_holders: EmailHolders
    members: Members
    identity: IdentityDirectory
