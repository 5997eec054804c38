"""One router for every path: parsing, auth, idempotency and problem+json around thin handlers.

A handler gets a `Call` (validated body, path parameters, the authenticated caller) and returns a
use case's result; the route's `present` turns that into the response model. For idempotent routes
the response is rendered and stored inside the use case's own atomic commit (see
adapters/idempotency.py), so a replay returns exactly the bytes of the first response.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..domain.errors import DomainError, FieldError
from ..domain.ids import ID
from ..services.documents import Conflict
from ..services.unit_of_work import AlreadyWritten, JournalRecoveryNeeded, StoredResponse
from .problems import ApiProblem

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
JSON_TYPE = "application/json; charset=utf-8"
STAFF_ROLES = ("owner", "supervisor", "staff", "finance")

# Every path parameter is checked against the id grammar (a card code against its own) before
# anything is read: one outside it answers exactly what an unknown id of its kind answers.
CARD_CODE = re.compile(r"[A-Za-z0-9 -]{1,40}")  # typed as printed: groups of four, dashes or spaces
PATH_GRAMMAR = {"code": CARD_CODE}
# printable ASCII: a key is echoed in logs and compared byte for byte
IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")
UNKNOWN = {
    "store": "store_not_found",
    "order": "order_not_found",
    "code": "giftcard_not_found",
    "seq": "entry_not_found",
    "z": "closing_not_found",
    "statement": "statement_not_found",
    "invitation": "invitation_not_found",
    "uid": "member_not_found",
    "invoice": "invoice_not_found",
    "endpoint": "webhook_endpoint_not_found",
    "delivery": "webhook_delivery_not_found",
}


@dataclass(frozen=True)
class Access:
    """Who may call a route: `public`, or staff holding one of `roles` in the path's store, and,
    where `key_scope` is set, an API key of the path's store holding that scope."""

    kind: str
    roles: tuple[str, ...] = ()
    key_scope: str | None = None
    platform_admins: bool = False  # the platform's administrators too, whatever their role in the store


PUBLIC = Access("public")
# Scheduler jobs: served only in dev mode here; production runs them from the CLI or a private,
# IAM-protected deployment, never through the public API.
JOB = Access("job")


# The platform's own administrators (claim `platform: "admin"`), whatever their role in the store.
PLATFORM_ADMIN = Access("platform_admin")


# Anyone signed in with a Firebase ID token, in whatever store or none (their own profile,
# accepting an invitation).
SIGNED_IN = Access("signed_in")


def staff(*roles: str, key_scope: str | None = None, platform_admins: bool = False) -> Access:
    return Access("staff", roles, key_scope, platform_admins)


def card_staff(*roles: str) -> Access:
    """Staff holding one of `roles` in the store that issued the card named in the path: the
    store is known only once the card is found, so the handler checks it (`Caller.acting_in`)."""
    return Access("card_staff", roles)


@dataclass(frozen=True)
class Caller:
    kind: str  # customer | staff | api_key | system
    uid: str | None = None
    role: str | None = None
    stores: tuple[tuple[str, str], ...] = ()  # (store id, role): for card_staff routes
    address: str = ""  # the client's network address, for rate limits
    identity: Any = None  # a signed-in caller's verified identity (services/ports.py StaffIdentity)

    def acting_in(self, store_id: str, roles: tuple[str, ...], hidden: DomainError) -> Caller:
        """This caller with its role in `store_id`; `hidden` if it has none there (so a card of
        another merchant stays unknown), 403 if its role there is not enough."""
        role = dict(self.stores).get(store_id)
        if role is None:
            raise hidden
        if role not in roles:
            raise ApiProblem("forbidden", f"Your role does not allow this in store {store_id!r}.")
        return Caller("staff", uid=self.uid, role=role)

    def actor(self) -> dict[str, Any]:
        if self.kind == "staff":
            return {"type": "staff", "uid": self.uid, "role": self.role}
        if self.kind == "api_key":
            return {"type": "api_key", "key_id": self.uid}
        return {"type": self.kind}

    def credential(self) -> str:
        if self.kind in ("staff", "api_key"):
            return f"{self.kind}:{self.uid}"
        return "public"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[Call], Any]
    summary: str
    tag: str
    access: Access = PUBLIC
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    present: Callable[[Any], BaseModel] | None = None
    status: int = 200
    idempotent: bool = False
    # an idempotent route whose key the API does not demand (it moves no money): without one, each
    # request is done as it comes; with one, as every idempotent request is
    key_optional: bool = False
    errors: tuple[str, ...] = ()
    query: type[BaseModel] | None = None
    raw_body: bool = False  # the handler gets the exact bytes (webhook signatures are over them)
    # a raw body that must be of this media type, up to `raw_limit` bytes (a customer list in CSV)
    raw_type: str | None = None
    raw_limit: int = 1024 * 1024
    headers: tuple[str, ...] = ()  # request headers the handler reads (for the OpenAPI document)
    media_type: str = "application/json"  # of a success answer that is not a response model
    also: tuple[tuple[int, type[BaseModel]], ...] = ()  # other success answers: (status, model)
    # For an idempotent route whose use case commits once and does nothing irreversible before:
    # when true for a call, its record is created with that commit instead of claimed before it.
    claims_at_commit: Callable[[Call], bool] | None = None


@dataclass
class Call:
    request: Request
    params: dict[str, str]
    caller: Caller
    unit_of_work: Callable[[], Any]  # makes this request's unit of work (services/unit_of_work.py)
    roles: tuple[str, ...] = ()  # the route's, for handlers that can only check them later (cards)
    body: Any = None
    query: Any = None
    raw: bytes = b""
    stored_body: bytes | None = None
    stored_status: int = 200

    def answer(self, route: Route, result: Any) -> StoredResponse:
        """The answer to `result`, kept on the call (it is what the request answers) and stored."""
        self.stored_body, self.stored_status = render(route, result), status_of(route, result)
        return StoredResponse(self.stored_status, self.stored_body, JSON_TYPE)

    @cached_property
    def uow(self) -> Any:
        """Made on first use: a route that reads nothing (the OpenAPI document) needs no database."""
        return self.unit_of_work()


ROUTES: list[Route] = []
# The request being answered: a presenter that shows times in a store's timezone reads the store
# through this request's unit of work.
CURRENT_CALL: ContextVar[Call] = ContextVar("current_call")


def current_uow() -> Any:
    return CURRENT_CALL.get().uow


def route(method: str, path: str, **options: Any) -> Callable[[Callable], Callable]:
    def register(handler: Callable) -> Callable:
        ROUTES.append(Route(method=method, path=path, handler=handler, **options))
        return handler

    return register


class Router:
    def __init__(self, routes: list[Route], services: Any):
        self._services = services
        self.routes = tuple(routes)
        rules = [Rule(werkzeug_path(r.path), methods=[r.method], endpoint=r) for r in routes]
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __call__(self, request: Request) -> Response:
        try:
            if request.method == "OPTIONS":
                return self._services.preflight(request)
            response = self._dispatch(request)
        except ApiProblem as problem:
            response = problem_response(problem)
        except DomainError as error:
            response = problem_response(ApiProblem.from_domain(error))
        except Exception as error:  # never a stack trace to the client; the log has it
            response = problem_response(unexpected(request, error, self._services.is_transient(error)))
        return self._services.with_cors(request, response)

    def _dispatch(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            route, params = adapter.match()
        except NotFound:
            raise ApiProblem("not_found", f"No endpoint at {request.path}.") from None
        except MethodNotAllowed as error:
            allowed = ", ".join(sorted(error.valid_methods or ()))
            raise ApiProblem("method_not_allowed", f"Use {allowed}.", headers={"Allow": allowed}) from None
        check_path_ids(params)
        idempotency_key = request.headers.get("Idempotency-Key")
        keyless = route.key_optional and idempotency_key is None
        if route.idempotent and not keyless and not IDEMPOTENCY_KEY.fullmatch(idempotency_key or ""):
            raise ApiProblem(
                "idempotency_key_required", "Send an Idempotency-Key header of 1-255 printable ASCII characters."
            )
        raw = read_body(request, route) if route.body or route.raw_body else None
        caller = self._services.authenticate(request, route, params)
        call = Call(request, params, caller, self._services.unit_of_work, roles=route.access.roles)
        CURRENT_CALL.set(call)
        call.raw = raw or b""
        if route.body:
            call.body = validated(route.body, parse_json(raw))
        if route.query:
            call.query = validated(route.query, query_params(request), location="query")
        if not route.idempotent or keyless:
            return self._respond(route, call, route.handler(call))
        return self._idempotent(route, call, idempotency_key, raw)

    def _idempotent(self, route: Route, call: Call, key: str, raw: bytes | None) -> Response:
        records = self._services.idempotency
        record_id = idempotency_record_id(call.params.get("store", ""), call.caller.credential(), key)
        # a route whose answer depends on its query (a dry run or not) has it in the fingerprint too
        path = call.request.full_path if route.query else call.request.path
        fingerprint = request_fingerprint(route.method, path, raw, json_body=route.raw_type is None)
        if route.claims_at_commit and route.claims_at_commit(call):
            return self._claimed_at_commit(route, call, record_id, fingerprint)
        return self._claimed_before(route, call, records.begin(record_id, fingerprint, self._services.now()))

    def _claimed_before(self, route: Route, call: Call, outcome: Any) -> Response:
        """The key claimed (a lease) before the use case runs; its commit stores the answer."""
        if outcome.replay or outcome.refusal:
            return answered_before(outcome)
        records, lease = self._services.idempotency, outcome.lease

        def store_response(batch: Any, result: Any) -> None:
            records.store_in(batch, lease, call.answer(route, result))

        call.uow.answer_with(store_response)
        try:
            result = route.handler(call)
        except Conflict:  # our lease expired and another attempt took the key over
            records.release(lease)
            raise ApiProblem("idempotency_in_progress", "Retry shortly.", headers={"Retry-After": "1"}) from None
        except BaseException:
            records.release(lease)
            raise
        if call.stored_body is None:  # the use case committed nothing of its own
            records.store(lease, call.answer(route, result))
        return Response(call.stored_body, status=call.stored_status, content_type=JSON_TYPE)

    def _claimed_at_commit(self, route: Route, call: Call, record_id: str, fingerprint: str) -> Response:
        """One round trip fewer: no claim before the use case; its commit creates the finished
        record. A twin request that committed first makes this commit fail as a whole, and its
        answer is replayed; a key still claimed is answered as on the claiming path."""
        records, now = self._services.idempotency, self._services.now()

        def store_response(batch: Any, result: Any) -> None:
            records.create_in(batch, record_id, fingerprint, now, call.answer(route, result))

        call.uow.answer_with(store_response)
        try:
            result = route.handler(call)
            if call.stored_body is None:  # the use case committed nothing of its own
                records.create(record_id, fingerprint, now, call.answer(route, result))
        except (DomainError, ApiProblem):
            # a retry after the first attempt committed may now be refused (the product sold out,
            # the card spent): the first answer is what it gets
            earlier = records.seen(record_id, fingerprint, self._services.now())
            if earlier is None:
                raise
            return answered_before(earlier)
        except (AlreadyWritten, Conflict) as written:
            if written.path != records.path_of(record_id):
                raise
            # nothing of ours was committed: an abandoned claim is taken over, an answer replayed
            call.stored_body = None
            return self._claimed_before(route, call, records.begin(record_id, fingerprint, self._services.now()))
        return Response(call.stored_body, status=call.stored_status, content_type=JSON_TYPE)

    def _respond(self, route: Route, call: Call, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        return Response(render(route, result), status=status_of(route, result), content_type=JSON_TYPE)


def answered_before(outcome: Any) -> Response:
    """A key seen before: its first answer replayed, or why it cannot be (idempotency_*)."""
    if outcome.replay:
        stored = outcome.replay
        return Response(
            stored.body, status=stored.status, content_type=stored.content_type, headers={"Idempotent-Replayed": "true"}
        )
    if outcome.refusal == "idempotency_in_progress":
        raise ApiProblem(outcome.refusal, "Retry shortly.", headers={"Retry-After": "1"})
    raise ApiProblem(outcome.refusal, "This Idempotency-Key was used for a different request.")


def check_path_ids(params: dict[str, str]) -> None:
    for name, value in params.items():
        if not PATH_GRAMMAR.get(name, ID).fullmatch(value):
            raise ApiProblem(UNKNOWN.get(name, "not_found"), f"No such {name}.")


def idempotency_record_id(store_id: str, credential: str, key: str) -> str:
    """Keys are scoped per caller: the same key from two callers names two records."""
    return hashlib.sha256(f"{store_id}|{credential}|{key}".encode()).hexdigest()


def request_fingerprint(method: str, path: str, raw: bytes | None, json_body: bool = True) -> str:
    """What makes two requests "the same": method, path and the JSON body (key order and
    whitespace aside), or another body byte for byte (its hash)."""
    if json_body:
        canonical = json.dumps(json.loads(raw) if raw else None, sort_keys=True, separators=(",", ":"))
    else:
        canonical = hashlib.sha256(raw or b"").hexdigest()
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def status_of(route: Route, result: Any) -> int:
    """The route's status, unless the result names its own (201 for a card, 202 for a block)."""
    return getattr(result, "http_status", route.status)


def unexpected(request: Request, error: Exception, transient: bool) -> ApiProblem:
    """503 for what a retry can fix (the client or provider retries), 500 for the rest."""
    if isinstance(error, JournalRecoveryNeeded):  # logged loudly where it was found
        return ApiProblem(
            "journal_recovery_needed",
            "This store's journal is being recovered; no changes are taken until then.",
            headers={"Retry-After": "60"},
        )
    if transient:
        log.warning("transient failure on %s %s: %r", request.method, request.path, error)
        return ApiProblem("service_unavailable", "Please retry shortly.", headers={"Retry-After": "1"})
    log.exception("unhandled error on %s %s", request.method, request.path)
    return ApiProblem("internal_error", "Something went wrong on our side.")


def render(route: Route, result: Any) -> bytes:
    model = route.present(result) if route.present else result
    return model.model_dump_json().encode()


def problem_response(problem: ApiProblem) -> Response:
    return Response(
        problem.body(), status=problem.status, content_type="application/problem+json", headers=problem.headers
    )


def werkzeug_path(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")


def read_body(request: Request, route: Route) -> bytes:
    """The body's bytes. JSON bodies must say so; a webhook's may come without a type (its
    signature, not its headers, says who sent it); a route taking another type names it."""
    limit = route.raw_limit if route.raw_type else MAX_BODY
    too_large = ApiProblem("payload_too_large", f"Bodies are limited to {limit // (1024 * 1024)} MiB.")
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    wanted, mimetype = route.raw_type or "application/json", request.mimetype
    if (mimetype or route.body is not None or route.raw_type) and mimetype != wanted:
        raise ApiProblem("unsupported_media_type", f"Send the body as {wanted}.")
    try:
        raw = request.stream.read(limit + 1)
    except OSError:  # the server could not decode the body (a malformed chunked encoding)
        raise unreadable_body() from None
    if len(raw) > limit:
        raise too_large
    return raw


def query_params(request: Request) -> dict[str, str]:
    """A parameter given twice is refused: which one counts would be a guess."""
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise ApiProblem(
            "validation_failed",
            "A query parameter was given more than once.",
            [FieldError(f"query.{name}", "given more than once") for name in repeated],
        )
    return request.args.to_dict()


def unreadable_body() -> ApiProblem:
    return ApiProblem("malformed_body", "The request body could not be read (malformed transfer encoding).")


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes | None) -> Any:
    try:
        return json.loads(raw or b"", parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiProblem("malformed_json", "The body must be a JSON document.") from None


def validated(model: type[BaseModel], data: Any, location: str = "") -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ApiProblem(
            "validation_failed",
            f"{error.error_count()} field(s) are invalid.",
            [FieldError(field_name(e["loc"], location), e["msg"]) for e in error.errors()],
        ) from None


def field_name(loc: tuple[Any, ...], prefix: str) -> str:
    name = prefix
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"
