"""The OpenAPI 3.1 document, generated from the routes and their pydantic models."""

from __future__ import annotations

import json
from functools import cache

from pydantic.json_schema import models_json_schema
from werkzeug.wrappers import Response

from .problems import PROBLEM_TYPE, PROBLEMS
from .router import ROUTES, Route

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


@cache
def openapi_document() -> dict:
    models = {m for r in ROUTES for m in (r.body, r.response) if m is not None}
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
    parameters = [
        {"name": name.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
        for name in r.path.split("/")
        if name.startswith("{")
    ]
    if r.query:
        for name, info in r.query.model_json_schema()["properties"].items():
            parameters.append({"name": name, "in": "query", "required": False, "schema": info})
    if r.idempotent:
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            }
        )
    if r.path == "/v1/orders/{order}":
        op["security"] = [{"orderToken": []}]
    if r.access.kind == "staff":
        op["security"] = [{"staffToken": []}]
        op["description"] = f"Roles: {', '.join(r.access.roles)}."
    if parameters:
        op["parameters"] = parameters
    if r.body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(r.body, "validation")]}},
        }
    success: dict = {"description": "OK"}
    if r.response:
        success["content"] = {"application/json": {"schema": refs[(r.response, "validation")]}}
    responses = {str(r.status): success}
    for code in sorted(set(r.errors) | {"internal_error"}):
        status = str(PROBLEMS[code][0])
        entry = responses.setdefault(
            status,
            {
                "description": "",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        entry["description"] = ", ".join(filter(None, [entry["description"], code]))
    op["responses"] = responses
    return op


def openapi_response() -> Response:
    return Response(json.dumps(openapi_document()), content_type="application/json; charset=utf-8")
