"""What the webhook use cases read and write through, as protocols: the endpoints, the deliveries
(an outbox whose records its senders take turns at, as the mail outbox's), each store's fan-out
cursor, the HTTP client that sends, and how an event shows its object (adapters/webhook_store.py,
adapters/webhook_sender.py; the object as the HTTP API shows it, http/webhook_objects.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from .order_ports import OrderUnitOfWork
from .store_runs import StoreRunUnitOfWork

if TYPE_CHECKING:  # annotations only: the adapters load this module with every cold start
    from ..domain.webhooks import Endpoint, ObjectRef
    from .card_ports import FoundCard
    from .journal_ports import JournalReader
    from .licence_ports import BillingProfiles
    from .membership_ports import Members

Version = Any  # opaque: what a guarded write names as "the version I read"


@dataclass(frozen=True)
class Delivery:
    """One event for one endpoint: the exact bytes every attempt sends, and where it stands."""

    id: str  # {endpoint}-{seq:012d} (a ping: {endpoint}-ping-…)
    endpoint_id: str
    store_id: str
    event_id: str  # `webhook-id`
    type: str
    seq: int | None  # None: a ping
    body: bytes
    created_at: datetime
    status: str = "pending"  # pending | sending (a sender holds it) | succeeded | failed
    attempts: int = 0
    next_attempt_at: datetime | None = None  # due at; a sending one's lease end; None once done
    last_status_code: int | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Held:
    """A delivery as its sender holds it: the lease's version guards what it records."""

    delivery: Delivery
    version: Version


@dataclass(frozen=True)
class Outcome:
    """What an attempt left a delivery as."""

    status: str  # pending | succeeded | failed
    attempts: int
    at: datetime
    next_attempt_at: datetime | None
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class Request:
    """One attempt: the body, signed for this moment."""

    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """The receiver's answer (`status_code`), or why there was none (`error`)."""

    status_code: int | None
    retry_after: str | None = None
    error: str | None = None


class WebhookEndpoints(Protocol):
    def of_store(self, store_id: str) -> list[Endpoint]:
        """Every endpoint of the store, oldest first."""

    def get(self, store_id: str, endpoint_id: str) -> tuple[Endpoint, Version] | None:
        """The store's endpoint (None for another store's) and the version read."""

    def get_all(self, endpoint_ids: Sequence[str]) -> dict[str, tuple[Endpoint, Version]]:
        """Those that exist, by id."""

    def stores_enabled_after(self, after: str | None, limit: int) -> list[str]:
        """The next `limit` stores with at least one enabled endpoint, in id order after `after`."""


class WebhookDeliveries(Protocol):
    """Each change is guarded by the version read, so of two senders only one takes a delivery."""

    def create(self, deliveries: Sequence[Delivery], lease_until: datetime) -> list[Held]:
        """Create those not created before (create-only: a second fan-out creates nothing twice),
        held by the caller until `lease_until`; answers the ones this call created."""

    def due(self, now: datetime, limit: int, store_id: str | None = None) -> list[Held]:
        """Pending deliveries whose time has come and those whose sender's lease ran out, oldest due first."""

    def claim(self, due: Sequence[Held], lease_until: datetime) -> list[Held]:
        """Those still as read, now held until `lease_until`; the others another sender took."""

    def record(self, outcomes: Sequence[tuple[Held, Outcome]]) -> int:
        """Each outcome on its delivery if the lease still holds; how many held."""

    def get(self, delivery_id: str) -> Held | None: ...

    def of_endpoint(self, endpoint_id: str, limit: int, after: Delivery | None) -> list[Delivery]:
        """Newest first, after `after` (the last one of the previous page)."""

    def due_now(self, held: Held, now: datetime) -> Held | None:
        """Pending again, due at `now`, its schedule started afresh (a retry by hand); None if it
        changed since it was read."""


class WebhookCursors(Protocol):
    def read(self, store_id: str) -> tuple[int, Version | None]:
        """The last seq fanned out (0 if none yet) and its version (None: no cursor yet)."""

    def advance(self, store_id: str, seq: int, version: Version | None) -> bool:
        """To `seq` if still as read; False if another dispatcher moved it first."""


class WebhookSender(Protocol):
    """The HTTP client: POSTs with a 15 s timeout, following no redirect (a 3xx is a failure), only
    to addresses allowed (checked when resolved, and the request goes to the address checked)."""

    retry_scale: float  # 1 in production; dev and the tests shorten the schedule

    def refusal(self, url: str) -> str | None:
        """Why nothing may be sent to `url` (its form, or what its name resolves to); None: admitted."""

    def send_all(self, requests: Sequence[Request]) -> list[Answer]:
        """Every request at once (up to the client's concurrency), each answer in the same order."""

    def jitter(self) -> float:
        """A random number in [-1, 1] that spreads the retries."""


class CardsById(Protocol):
    def find(self, card_id: str) -> FoundCard | None:
        """A gift card by its public id (`gc_…`): the events about a card never hold its code."""


class WebhookObjects(Protocol):
    def shown(self, uow: Any, store_id: str, refs: Sequence[ObjectRef]) -> dict[ObjectRef, Any]:
        """Each record as the HTTP API shows it (JSON-ready), or None once it is gone; read at once."""


# How an event shows its object is the HTTP layer's (its presenters); it registers it when its
# routes load (http/webhook_objects.py), and a process without it leaves its events to the job.
_PRESENTERS: list[WebhookObjects] = []


def present_objects_with(objects: WebhookObjects) -> None:
    _PRESENTERS[:] = [objects]


def object_presenter() -> WebhookObjects | None:
    return _PRESENTERS[0] if _PRESENTERS else None


class WebhookUnitOfWork(OrderUnitOfWork, StoreRunUnitOfWork, Protocol):
    webhook_endpoints: WebhookEndpoints
    webhook_deliveries: WebhookDeliveries
    webhook_cursors: WebhookCursors
    webhook_sender: WebhookSender
    cards_by_id: CardsById
    members: Members
    billing_profiles: BillingProfiles
    journal: JournalReader
