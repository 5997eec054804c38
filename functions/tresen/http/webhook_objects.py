"""How a webhook event shows its object: as the HTTP API shows that record — an order exactly as
`GET /v1/stores/{store}/orders/{order}` answers, a refund as the refund's answer (with the
provider's refund id once known), a gift card as its inquiry does (never its code), a block
activation, a closing, a customer record and a customer import as their GET routes do, a product's
stock as its stock change answers.

Loaded with every entry point's routes (http/app.py `load_routes`), it registers itself with the
webhook use cases (services/webhook_ports.py); the presenters themselves load with the first event.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..domain.webhooks import ObjectRef
from ..services.webhook_ports import present_objects_with
from .router import CURRENT_CALL

READERS = 8  # records read at once


@dataclass(frozen=True)
class Rendering:
    """Stands for the request being answered: the presenters read the store (its timezone) through
    `current_uow()`, here the dispatcher's unit of work."""

    uow: Any


class PresentedObjects:
    """services/webhook_ports.py `WebhookObjects`: the records read and shown side by side (an order
    takes three reads; a busy store's batch holds dozens)."""

    def __init__(self):
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="webhook-objects")

    def shown(self, uow: Any, store_id: str, refs: Sequence[ObjectRef]) -> dict[ObjectRef, Any]:
        return dict(zip(refs, self._readers.map(lambda ref: self.one(uow, store_id, ref), refs), strict=True))

    @staticmethod
    def one(uow: Any, store_id: str, ref: ObjectRef) -> Any:
        from ..services.webhook_records import record_of

        record = record_of(uow, store_id, ref)
        if record is None:
            return None
        model = contextvars.copy_context().run(presented, uow, ref.kind, record)
        return json.loads(model.model_dump_json())


def presented(uow: Any, kind: str, record: Any) -> Any:
    """The record's response model, in a context of its own (the caller's stays untouched)."""
    CURRENT_CALL.set(Rendering(uow))
    return presenters()[kind](record)


def presenters() -> dict[str, Any]:
    from . import models as m
    from .catalog_routes import stock_out
    from .customer_import_routes import import_out
    from .customer_routes import record_out
    from .giftcard_routes import card_out
    from .present import order_out

    return {
        "order": order_out,
        "refund": refund_out,
        "giftcard": card_out,
        "giftcard_activation": lambda status: m.ActivationOut.model_validate(status, from_attributes=True),
        "closing": m.ClosingOut.model_validate,
        "customer": record_out,
        "customer_import": import_out,
        "stock": stock_out,
    }


def refund_out(refund: Any) -> Any:
    """As the refund's own answer shows it, with the provider's refund id once the provider named it;
    the gift card a refund went onto is its `giftcard.refund` event's object."""
    from ..services.refunds import RefundResult
    from .present import refund_out as answered

    fields = {name: getattr(refund, name) for name in RefundResult.__dataclass_fields__ if name != "giftcard"}
    return answered(RefundResult(**fields)).model_copy(update={"provider_refund_id": refund.provider_refund_id})


present_objects_with(PresentedObjects())
