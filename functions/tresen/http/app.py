"""The router's services (authentication, CORS, idempotency records, the unit of work of a request),
the routes each deployed function loads, health and the OpenAPI document.

What comes from outside (the token verifier, the origins a store admits, the database) is handed in
as `Outside` by the composition root (tresen/wiring.py); nothing here imports an adapter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from ..config import WEB_ORIGIN, settings
from ..services import api_keys
from ..services.ports import InvalidToken, StaffIdentity
from . import models as m
from .openapi import openapi_document
from .problems import ApiProblem
from .router import ROUTES, Call, Caller, Route, Router, route
from .system import health_check

# Where a store's own `cors_origins` are admitted; TRESEN_WEB_ORIGINS (the web pages) on any /v1 path.
CUSTOMER_PREFIXES = ("/v1/stores/", "/v1/orders/", "/v1/giftcards/balance")
# What a preflight allows: the staff board sends Authorization and X-Passkey, PUT, PATCH (with
# If-Match, the version it read) and DELETE.
ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, X-Order-Token, X-Passkey"
# What a page's script may read: when to retry (503, 409, 429), a replayed answer, a download's name.
EXPOSE_HEADERS = "Retry-After, Idempotent-Replayed, Content-Disposition"


# Each deployed function serves only its own routes (so each can scale, time out and be
# secured separately). `jobs` is deployed private (Cloud Run IAM, invoked by Cloud Scheduler with
# OIDC), so job routes trust their caller there; `tresen dev` serves everything (entry None).
ENTRY_POINTS: dict[str, tuple[str, ...]] = {
    "customer_api": ("system", "customer", "sandbox"),
    "staff_api": ("system", "staff", "journal"),
    "webhooks": ("system", "webhooks"),
    "exports": ("system", "exports"),
    "jobs": ("system", "jobs"),
}


def load_routes(entry: str | None) -> None:
    """Import the route modules that hold `entry`'s routes (every one for `tresen dev`), so that a
    deployed function's cold start loads its own use cases and models, not the other functions'.
    Modules hold routes of several tags: `router` keeps only the entry's."""
    if entry in ("customer_api", "staff_api", "webhooks", "jobs", None):
        from . import api  # noqa: F401
    # every entry commits events: how a webhook shows its object (the presenters load with the first)
    from . import webhook_objects  # noqa: F401

    if entry in ("customer_api", "staff_api", "jobs", None):
        from . import giftcard_routes, journal_routes  # noqa: F401
    if entry in ("customer_api", "staff_api", None):
        from . import live_routes  # noqa: F401
    if entry in ("customer_api", "staff_api", None):  # a tour's staff routes and an order's tracking
        from . import tour_routes  # noqa: F401
    if entry in ("customer_api", "staff_api", None):  # terminals and shifts, and the sandbox's reader
        from . import terminal_routes  # noqa: F401
    if entry in ("staff_api", "jobs", None):
        from . import closing_routes  # noqa: F401
    if entry in ("staff_api", None):
        from . import promotion_routes  # noqa: F401
    if entry in ("staff_api", None):
        from . import customer_import_routes, customer_routes, portal_routes, stripe_routes  # noqa: F401
    if entry in ("staff_api", None):  # the catalog and its stock, and sales at the counter
        from . import catalog_routes, counter_routes  # noqa: F401
    if entry in ("staff_api", None):  # suppliers and purchase orders
        from . import purchase_order_routes  # noqa: F401
    if entry in ("staff_api", "jobs", None):
        from . import webhook_routes  # noqa: F401
    if entry in ("staff_api", "webhooks", "jobs", None):
        from . import billing_routes  # noqa: F401
    if entry in ("jobs", None):
        from . import job_routes  # noqa: F401
    if entry in ("exports", None):
        from . import export_routes, finance_export_routes, key_routes, statement_routes  # noqa: F401
    if entry is None:  # no deployed function serves the dev mode's own routes (tag `dev`)
        from . import dev_auth_routes, dev_mail_routes  # noqa: F401


@route(
    "GET",
    "/v1/health",
    summary="Liveness: 200 when Firestore answers, 503 otherwise",
    tag="system",
    response=m.Health,
    errors=("service_unavailable",),
)
def health(call: Call):
    return health_check(call.uow)


@route("GET", "/v1/openapi.json", summary="This API's OpenAPI 3.1 document", tag="system")
def openapi(call: Call):
    return Response(json.dumps(api_document()), content_type="application/json; charset=utf-8")


def api_document() -> dict:
    """The OpenAPI document of the whole API, whichever function serves it."""
    load_routes(None)
    return openapi_document()


@dataclass
class Outside:
    """What the HTTP layer needs from the adapters, each made on first use (cold starts stay cheap)."""

    unit_of_work: Callable[[], Any]  # a fresh unit of work for one request
    idempotency: Callable[[], Any]  # the idempotency records (begin, store_in, store, release)
    verify_staff_token: Callable[[str], StaffIdentity]  # raises InvalidToken
    # a person's roles as Tresen keeps them (memberships by invitation); None: their token's claim counts
    kept_roles: Callable[[str], dict[str, str] | None]
    origin_allowed: Callable[[str, str], bool]  # (origin, path): a store's own cors_origins
    is_transient: Callable[[Exception], bool]  # worth a 503 with Retry-After
    now: Callable[[], datetime]


class HttpServices:
    """What the router needs from the outside world."""

    def __init__(self, outside: Outside, jobs_trusted: bool = False):
        self._outside = outside
        self._jobs_trusted = jobs_trusted
        self.unit_of_work = outside.unit_of_work
        self.is_transient = outside.is_transient
        self.now = outside.now

    @property
    def idempotency(self):
        return self._outside.idempotency()

    def authenticate(self, request: Request, route: Route, params: dict[str, str]) -> Caller:
        if route.access.kind == "public":
            return Caller("customer", address=client_address(request))
        if route.access.kind == "job":
            if not (settings().dev or self._jobs_trusted):
                raise ApiProblem("not_found", f"No endpoint at {request.path}.")
            return Caller("system")
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiProblem("unauthenticated", "Send Authorization: Bearer <Firebase ID token or API key>.")
        if token.startswith(api_keys.PREFIX):  # a Firebase ID token is a JWT: it starts with "ey"
            uow = self.unit_of_work()
            key_id = api_keys.authenticate(uow, token, params.get("store", ""), route.access.key_scope)
            return Caller("api_key", uid=key_id, role="api_key")
        try:
            identity = self._outside.verify_staff_token(token)
        except InvalidToken:
            raise ApiProblem("unauthenticated", "The token is invalid or expired.") from None
        kept = self._outside.kept_roles(identity.uid)
        if kept is not None:  # Tresen's record, not a claim that may be an hour old, says who may act
            identity = replace(identity, stores=kept)
        if route.access.kind == "signed_in":
            return Caller("staff", uid=identity.uid, identity=identity)
        if route.access.kind == "card_staff":
            return Caller("staff", uid=identity.uid, stores=tuple(sorted(identity.stores.items())))
        if route.access.kind == "platform_admin" or (route.access.platform_admins and identity.platform_admin):
            if not identity.platform_admin:
                raise ApiProblem("forbidden", "Only the platform's administrators may do this.")
            return Caller("staff", uid=identity.uid, role="platform_admin")
        store_id = params.get("store", "")
        role = identity.role_in(store_id)
        if role is None or role not in route.access.roles:
            raise ApiProblem("forbidden", f"Your role does not allow this in store {store_id!r}.")
        return Caller("staff", uid=identity.uid, role=role)

    def preflight(self, request: Request) -> Response:
        return self.with_cors(request, Response(status=204))

    def with_cors(self, request: Request, response: Response) -> Response:
        """Every answer passes here: successes, problems (so a page can read their body) and
        preflights, on every entry point."""
        # the answer depends on the Origin, so a cache must never hand one origin's answer to another
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin and self._admits(origin, request.path):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
            if request.method == "OPTIONS":
                response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
                response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
        return response

    def _admits(self, origin: str, path: str) -> bool:
        if not (WEB_ORIGIN.fullmatch(origin) and path.startswith("/v1/")):
            return False
        configured = settings()
        # the pages' origins need no read: a page can read a 503's Retry-After while Firestore is down
        if configured.dev or origin in configured.web_origins:
            return True
        if not path.startswith(CUSTOMER_PREFIXES):
            return False
        return self._outside.origin_allowed(origin, path)


def unrouted(error: Exception) -> Response:
    from .router import problem_response

    return problem_response(ApiProblem("not_found", "No endpoint at this path."))


def framework_failure(error):
    """A failure outside the router. The framework reads every request body to its end after the
    response; a body the server cannot decode (a bad chunk size) fails there, and is the client's
    error, not ours. Anything else stays the framework's crash answer."""
    from functions_framework import crash_handler

    from .router import problem_response, unreadable_body

    if isinstance(getattr(error, "original_exception", None), OSError):
        return problem_response(unreadable_body())
    return crash_handler(error)


def client_address(request: Request) -> str:
    """Behind Google's front end the client's address is the last X-Forwarded-For entry (the one
    the front end appended; earlier entries are whatever the client sent)."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    return forwarded.rsplit(",", 1)[-1].strip() or request.remote_addr or ""


def router(outside: Outside, entry: str | None = None) -> Router:
    """The routes of one entry point (all of them for `tresen dev`)."""
    load_routes(entry)
    routes = ROUTES if entry is None else [r for r in ROUTES if r.tag in ENTRY_POINTS[entry]]
    return Router(routes, HttpServices(outside, jobs_trusted=entry == "jobs"))
