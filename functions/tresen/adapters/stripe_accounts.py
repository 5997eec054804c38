"""The stores' Stripe connected accounts in the document store: `stores/{id}/settings/stripe` holds
the store's account, `stripe_accounts/{account id}` names the store of an account (Connect events
name only the account)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..services.documents import Documents
from .lazy import TtlCache
from .repository import CATALOG_TTL

if TYPE_CHECKING:  # Connect's types are loaded where an account is read, not by every cold start
    from ..domain.stripe_connect import StripeAccount


def stripe_account_path(store_id: str) -> str:
    return f"stores/{store_id}/settings/stripe"


def account_route_path(account_id: str) -> str:
    return f"stripe_accounts/{account_id}"


def account_to_doc(account: StripeAccount) -> dict[str, Any]:
    status, fee = account.status, account.platform_fee
    return {
        "store_id": account.store_id,
        "account_id": account.account_id,
        "charges_enabled": status.charges_enabled,
        "payouts_enabled": status.payouts_enabled,
        "details_submitted": status.details_submitted,
        "requirements_due": list(status.requirements_due),
        "reported_at": status.reported_at,
        "platform_fee": {"percent": fee.percent, "fixed": fee.fixed} if fee else None,
    }


def account_from_doc(doc: dict[str, Any]) -> StripeAccount:
    from ..domain.stripe_connect import AccountStatus, PlatformFee, StripeAccount

    fee = doc.get("platform_fee")
    status = AccountStatus(
        doc["charges_enabled"],
        doc["payouts_enabled"],
        doc["details_submitted"],
        tuple(doc["requirements_due"]),
        doc["reported_at"],
    )
    return StripeAccount(doc["store_id"], doc["account_id"], status, PlatformFee(**fee) if fee else None)


class DocumentStripeAccounts:
    """services/order_ports.py `StripeAccounts`: cached as briefly as the catalog, so that a store's
    orders need no read for it, and a store whose account was restricted stops offering Stripe
    within seconds everywhere."""

    def __init__(self, docs: Documents, ttl: float = CATALOG_TTL):
        self._docs = docs
        self._cache: TtlCache[StripeAccount | None] = TtlCache(ttl)

    def of_store(self, store_id: str, fresh: bool = False) -> StripeAccount | None:
        """A fresh read is kept too: the instance that learns a change offers what it learnt at once."""
        if fresh:
            return self._cache.put(store_id, self._read(store_id))
        return self._cache.get(store_id, lambda: self._read(store_id))

    def by_account(self, account_id: str) -> StripeAccount | None:
        route = self._docs.get(account_route_path(account_id))
        return self.of_store(route.data["store_id"], fresh=True) if route else None

    def _read(self, store_id: str) -> StripeAccount | None:
        found = self._docs.get(stripe_account_path(store_id))
        return account_from_doc(found.data) if found else None
