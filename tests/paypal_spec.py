"""PayPal's published schemas (tests/data/paypal/, see its README): what the PayPal stand-in answers and
what Tresen sends are checked against them — valid, and with no field the schema does not declare
(PayPal's schemas leave extra fields open, so validity alone would let an invented one through)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SPECS = Path(__file__).parent / "data" / "paypal"
ORDERS, PAYMENTS, WEBHOOKS = "checkout_orders_v2", "payments_payment_v2", "notifications_webhooks_v1"


@cache
def document(name: str) -> dict:
    return json.loads((SPECS / f"{name}.json").read_text())


def problems(instance: Any, spec: str, *schemas: str) -> list[str]:
    """Why `instance` is not what `spec`'s components `schemas` (all of them) describe; [] if it is."""
    root = {"allOf": [{"$ref": f"#/components/schemas/{name}"} for name in schemas]}
    validator = jsonschema_rs.validator_for(root | {"components": document(spec)["components"]})
    invalid = [
        f"/{'/'.join(map(str, error.instance_path))}: {error.message}" for error in validator.iter_errors(instance)
    ]
    return invalid + [f"{path}: not declared" for path in undeclared(instance, root, document(spec))]


def undeclared(instance: Any, schema: dict, spec: dict, path: str = "") -> list[str]:
    """Paths of `instance` naming a property no branch of `schema` declares (an object schema with
    `additionalProperties: true` is open)."""
    parts = list(expanded(schema, spec))
    if isinstance(instance, dict):
        declared: dict[str, list[dict]] = {}
        for part in parts:
            for name, sub in part.get("properties", {}).items():
                declared.setdefault(name, []).append(sub)
        open_ = any(part.get("additionalProperties") is True for part in parts)
        found = []
        for key, value in instance.items():
            if key in declared:
                found += undeclared(value, {"allOf": declared[key]}, spec, f"{path}/{key}")
            elif not open_:
                found.append(f"{path}/{key}")
        return found
    if isinstance(instance, list):
        items = [part["items"] for part in parts if "items" in part]
        return [
            f
            for index, value in enumerate(instance)
            for f in undeclared(value, {"allOf": items}, spec, f"{path}/{index}")
        ]
    return []


def expanded(schema: dict, spec: dict) -> Iterator[dict]:
    """`schema` and every schema it is made of: its `$ref`, and the branches of allOf, anyOf, oneOf."""
    yield schema
    if "$ref" in schema:
        yield from expanded(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], spec)
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key, []):
            yield from expanded(branch, spec)


def issues(spec: str, schema: str) -> set[str]:
    """The `details[].issue` values an error schema of `spec` lists (e.g. orders.capture-422)."""
    branches = document(spec)["components"]["schemas"][schema]["properties"]["details"]["items"]["anyOf"]
    return {issue for branch in branches for issue in branch["properties"]["issue"]["enum"]}
