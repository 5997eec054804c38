"""The OpenAPI 3.1 document, generated from the routes and their pydantic models.

Every status and header the router can answer is derived from what a route declares: a body
brings 400/413/415/422, a path parameter the 404 of an unknown id, staff access 401/403, an
Idempotency-Key its own answers, and every route may answer 500 and 503 (with Retry-After).
"""

from __future__ import annotations

import re
from functools import cache

from pydantic.json_schema import models_json_schema

from ..domain.ids import ID
from .problems import PROBLEM_TYPE, PROBLEMS
from .router import IDEMPOTENCY_KEY, PATH_GRAMMAR, ROUTES, UNKNOWN, Route

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "enum": sorted(PROBLEMS)},
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}},
        },
    },
}
REQUEST_HEADERS = {
    "Idempotency-Key": "Makes the request safe to retry: the same key and body replay the first answer for 7 days.",
    "X-Passkey": "The store's 6-digit passkey, where the store protects this action.",
    "Stripe-Signature": "For provider stripe: `t=<unix>,v1=<hex HMAC-SHA256>` over `<t>.<raw body>`.",
    "Sandbox-Signature": "For provider sandbox: `t=<unix>,v1=<hex HMAC-SHA256>` over `<t>.<raw body>`.",
}
RETRY_AFTER = {"description": "Seconds to wait before retrying", "schema": {"type": "string", "pattern": "^[0-9]+$"}}
REPLAYED = {"description": "This answer replays the first one with this Idempotency-Key", "schema": {"const": "true"}}
# statuses whose answer always names when to come back
RETRY_STATUSES = {"429", "503"}
BODY_ERRORS = ("malformed_json", "malformed_body", "payload_too_large", "unsupported_media_type", "validation_failed")
IDEMPOTENCY_ERRORS = ("idempotency_key_required", "idempotency_key_reused", "idempotency_in_progress")


@cache
def openapi_document() -> dict:
    models = {m for r in ROUTES for m in (r.body, r.response, *(model for _, model in r.also)) if m is not None}
    refs, schema = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.get("$defs", {})
    components["Problem"] = PROBLEM_SCHEMA
    paths: dict[str, dict] = {}
    for r in ROUTES:
        paths.setdefault(r.path, {})[r.method.lower()] = operation(r, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tresen API",
            "version": "1",
            "description": f"Errors are RFC 9457 problem documents; `type` is {PROBLEM_TYPE}.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "staffToken": {"type": "http", "scheme": "bearer", "bearerFormat": "Firebase ID token"},
                "orderToken": {"type": "apiKey", "in": "header", "name": "X-Order-Token"},
            },
        },
    }


def operation(r: Route, refs: dict) -> dict:
    op: dict = {"summary": r.summary, "tags": [r.tag], "operationId": r.handler.__name__}
    parameters = path_parameters(r) + query_parameters(r) + header_parameters(r)
    if "X-Order-Token" in r.headers:
        op["security"] = [{"orderToken": []}]
    if r.access.kind in ("staff", "card_staff"):
        op["security"] = [{"staffToken": []}]
        op["description"] = f"Roles: {', '.join(r.access.roles)}."
    if r.access.kind == "platform_admin":
        op["security"] = [{"staffToken": []}]
        op["description"] = 'Platform admins only (token claim `platform: "admin"`).'

    if parameters:
        op["parameters"] = parameters
    if r.body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(r.body, "validation")]}},
        }
    op["responses"] = success_responses(r, refs) | problem_responses(r)
    return op


def path_parameters(r: Route) -> list[dict]:
    names = re.findall(r"\{(\w+)\}", r.path)  # a name may share its segment: `{z}.pdf`
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{PATH_GRAMMAR.get(name, ID).pattern}$"},
        }
        for name in names
    ]


def query_parameters(r: Route) -> list[dict]:
    if not r.query:
        return []
    return [
        {"name": name, "in": "query", "required": False, "schema": info}
        for name, info in r.query.model_json_schema()["properties"].items()
    ]


def header_parameters(r: Route) -> list[dict]:
    headers = []
    if r.idempotent:
        headers.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": not r.key_optional,
                "description": REQUEST_HEADERS["Idempotency-Key"],
                "schema": {"type": "string", "pattern": f"^{IDEMPOTENCY_KEY.pattern}$"},
            }
        )
    for name in r.headers:
        if name in REQUEST_HEADERS:
            headers.append(
                {"name": name, "in": "header", "required": False, "description": REQUEST_HEADERS[name]}
                | {"schema": {"type": "string"}}
            )
    return headers


def success_responses(r: Route, refs: dict) -> dict:
    responses = {}
    for status, model in ((r.status, r.response), *r.also):
        answer: dict = {"description": "OK"}
        if model:
            answer["content"] = {"application/json": {"schema": refs[(model, "validation")]}}
        elif status != 204:
            answer["content"] = {r.media_type: {"schema": {}}}
        if r.idempotent:
            answer["headers"] = {"Idempotent-Replayed": REPLAYED}
        responses[str(status)] = answer
    return responses


def problem_responses(r: Route) -> dict:
    responses: dict[str, dict] = {}
    for code in sorted(problem_codes(r)):
        status = str(PROBLEMS[code][0])
        entry = responses.setdefault(
            status,
            {
                "description": "",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], code]))
        if status in RETRY_STATUSES or code == "idempotency_in_progress":
            entry["headers"] = {"Retry-After": RETRY_AFTER | {"required": status in RETRY_STATUSES}}
    return responses


def problem_codes(r: Route) -> set[str]:
    codes = set(r.errors) | {"internal_error", "service_unavailable"}
    if r.method != "GET":
        codes.add("journal_recovery_needed")
    if r.body or r.raw_body:
        codes |= {"malformed_body", "payload_too_large", "unsupported_media_type"}
    if r.body:
        codes |= set(BODY_ERRORS)
    if r.query:
        codes.add("validation_failed")
    if r.idempotent:
        codes |= set(IDEMPOTENCY_ERRORS)
    if r.access.kind in ("staff", "card_staff"):
        codes |= {"unauthenticated", "forbidden"}
    if "X-Passkey" in r.headers:
        codes |= {"passkey_required", "passkey_invalid", "passkey_locked"}
    codes |= {UNKNOWN.get(part.strip("{}"), "not_found") for part in r.path.split("/") if part.startswith("{")}
    return codes
