"""The composition root: the one place where adapters are wired into the HTTP layer.

The layers below never reach for an adapter themselves: a request's handler gets its unit of work
from the `Call`, and the router gets the token verifier, the stores' origins and the idempotency
records from here. Heavy clients are still made on first use (adapters/lazy.py), so importing this
module — what every cold start does — stays cheap.
"""

from __future__ import annotations

from functools import cache

from werkzeug.wrappers import Request, Response

from .adapters import clock
from .adapters.backend import backend
from .adapters.cors import origin_allowed
from .adapters.identity import verify_staff_token
from .adapters.transient import is_transient
from .adapters.unit_of_work import StoreUnitOfWork
from .http.app import Outside, router


def unit_of_work() -> StoreUnitOfWork:
    return StoreUnitOfWork(backend())


def idempotency_records():
    return backend().idempotency


def kept_roles(uid: str) -> dict[str, str] | None:
    return backend().members.roles_of(uid)


OUTSIDE = Outside(
    unit_of_work=unit_of_work,
    idempotency=idempotency_records,
    verify_staff_token=verify_staff_token,
    kept_roles=kept_roles,
    origin_allowed=origin_allowed,
    is_transient=is_transient,
    now=clock.now,
)


@cache
def entry_router(entry: str | None = None):
    return router(OUTSIDE, entry)


def handle(request: Request, entry: str | None = None) -> Response:
    return entry_router(entry)(request)
