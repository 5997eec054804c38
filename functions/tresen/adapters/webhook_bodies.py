"""Reading a provider's signed webhook body, of which nothing is believed unchecked.

After a valid signature every body becomes an event: what we handle, a type we do not handle, or
an `UnprocessableEvent` — anything we cannot understand (not JSON, nested beyond reason, an id
Firestore cannot take, a field of the wrong shape). Reading never raises, so a signed body can
never cause a 5xx: a provider retries a 5xx for days. Each provider reads its own kinds of event
(adapters/payments.py, adapters/stripe_provider.py) with the models here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ..domain.ids import ID, is_id
from ..domain.payments import ProviderEvent, UnprocessableEvent

# Ids that will name a document must be usable as one; amounts must fit a Firestore integer and
# the journal's JSON numbers (strict: floats, strings and booleans are refused).
ProviderId = Annotated[str, StringConstraints(pattern=f"^{ID.pattern}$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]  # only compared
Cents = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
PayoutCents = Annotated[int, Field(strict=True, ge=-(10**12), le=10**12)]  # a payout may be negative
EventType = Annotated[str, StringConstraints(max_length=100)]


class Body(BaseModel):
    """Unknown fields are ignored; validators are built on first use (cold starts stay cheap)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class Unreadable(Exception):
    """A signed body that says something we cannot understand; the message is the reason."""


def read_event(provider: str, raw: bytes, read_kind: Callable[[dict], ProviderEvent]) -> ProviderEvent:
    """Our view of a signed body, its kind read by `read_kind`. An event without a usable id is
    keyed by the SHA-256 of its body, so a replay of it is still recognised."""
    body_key = "sha256_" + hashlib.sha256(raw).hexdigest()
    try:
        body = json.loads(raw, parse_constant=_not_json)
    except (ValueError, RecursionError):
        return UnprocessableEvent(provider, body_key, None, "the body is not JSON (or nested too deeply)")
    if not isinstance(body, dict):
        return UnprocessableEvent(provider, body_key, None, "the body is not a JSON object")
    event_id, kind = body.get("id"), body.get("type")
    kind = kind if isinstance(kind, str) and 0 < len(kind) <= 100 else None
    if not is_id(event_id):
        return UnprocessableEvent(provider, body_key, kind, "the event id is missing or cannot be stored")
    if kind is None:
        return UnprocessableEvent(provider, event_id, None, "the event type is missing or not a short string")
    try:
        return read_kind(body)
    except Unreadable as error:
        return UnprocessableEvent(provider, event_id, kind, str(error))


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def validated(model: type[BaseModel], value: Any, where: str) -> Any:
    """`value` as `model`; Unreadable naming the first field at fault (`data.amount: …`)."""
    try:
        return model.model_validate(value)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in (where, *first["loc"]) if part != "")
        raise Unreadable(f"{field or 'the event'}: {first['msg']}") from None
