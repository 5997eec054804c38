"""Each deployed function serves only its own routes; jobs trust their caller only where private."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder

from tresen import wiring
from tresen.config import settings
from tresen.http import app
from tresen.http.problems import ApiProblem
from tresen.http.router import ROUTES


def routes_of(entry):
    return {(r.method, r.path) for r in wiring.entry_router(entry).routes}


# Each deployable unit and the routes it must serve: every route of the router exactly once, but
# health and the OpenAPI document, which every unit answers.
SERVED = {
    "customer_api": {
        "GET /v1/stores/{store}/menu",
        "POST /v1/stores/{store}/orders",
        "GET /v1/orders/{order}",
        "GET /v1/orders/{order}/proof",
        "GET /v1/orders/{order}/receipt.pdf",
        "GET /v1/orders/{order}/refunds/{refund}/receipt.pdf",
        "GET /v1/orders/{order}/tracking",
        "GET /v1/orders/{order}/live",
        "POST /v1/giftcards/balance",
        "GET /v1/sandbox/checkout/{payment}",
        "POST /v1/sandbox/checkout/{payment}",
        "POST /v1/sandbox/terminals/{terminal}/present",
        "POST /v1/sandbox/terminals/{terminal}/connection",
    },
    "webhooks": {"POST /v1/webhooks/{provider}", "POST /v1/webhooks/paypal"},
    "exports": {
        "GET /v1/stores/{store}/export/{kind}",
        "GET /v1/stores/{store}/export/datev",
        "GET /v1/stores/{store}/export/dsfinvk",
        "GET /v1/stores/{store}/export/gobd",
        "POST /v1/stores/{store}/statements",
        "GET /v1/stores/{store}/statements/{statement}",
        "POST /v1/stores/{store}/api-keys",
        "GET /v1/stores/{store}/api-keys",
        "DELETE /v1/stores/{store}/api-keys/{key_id}",
        "GET /v1/stores/{store}/accounting",
        "PUT /v1/stores/{store}/accounting",
    },
    "jobs": {
        "POST /v1/jobs/expire-orders",
        "POST /v1/jobs/checkpoints",
        "POST /v1/jobs/close-due",
        "POST /v1/jobs/giftcards",
        "POST /v1/jobs/licence-invoices",
        "POST /v1/jobs/mail",
        "POST /v1/jobs/tse",
        "POST /v1/jobs/sweep",
        "POST /v1/jobs/verify",
        "POST /v1/jobs/webhooks",
    },
}
EVERYWHERE = {"GET /v1/health", "GET /v1/openapi.json"}


def test_each_entry_point_serves_exactly_its_routes():
    app.load_routes(None)
    everything = {f"{r.method} {r.path}" for r in ROUTES}
    dev_only = {f"{r.method} {r.path}" for r in ROUTES if r.tag == "dev"}  # `tresen dev` alone serves them
    assert "GET /v1/dev/firebase" in dev_only and "GET /v1/dev/mail" in dev_only
    staff = everything - EVERYWHERE - dev_only - set().union(*SERVED.values())
    assert "POST /v1/stores/{store}/orders/{order}/refunds" in staff and "GET /v1/journal/public-keys" in staff
    for entry, routes in {**SERVED, "staff_api": staff}.items():
        assert {f"{m} {p}" for m, p in routes_of(entry)} == routes | EVERYWHERE, entry
    assert set(app.ENTRY_POINTS) == {*SERVED, "staff_api"}


@pytest.mark.parametrize("entry", ["customer_api", "staff_api", "webhooks", "exports", "jobs"])
def test_another_units_path_is_a_404_problem(entry):
    """Over the deployed function itself: a path of another unit is not found, health is served."""
    import main

    foreign = {
        "customer_api": "/v1/webhooks/stripe",
        "staff_api": "/v1/stores/demo/menu",
        "webhooks": "/v1/stores/demo/orders",
        "exports": "/v1/stores/demo/orders",
        "jobs": "/v1/stores/demo/export/orders",
    }[entry]
    function = getattr(main, entry)
    for path, status in ((foreign, 404), ("/v1/unknown", 404)):
        request = EnvironBuilder(path=path, method="POST" if "webhooks" in path or "orders" in path else "GET")
        answer = function(request.get_request())
        assert (answer.status_code, answer.content_type) == (status, "application/problem+json"), (entry, path)


@pytest.mark.parametrize(("trusted", "allowed"), [(False, False), (True, True)])
def test_in_production_only_the_private_jobs_function_runs_jobs(monkeypatch, trusted, allowed):
    monkeypatch.setattr(app, "settings", lambda: replace(settings(), env="prod"))
    job = next(r for r in ROUTES if r.tag == "jobs")
    request = EnvironBuilder(path=job.path, method="POST").get_request()
    services = app.HttpServices(wiring.OUTSIDE, jobs_trusted=trusted)
    if allowed:
        assert services.authenticate(request, job, {}).kind == "system"
    else:
        with pytest.raises(ApiProblem) as caught:
            services.authenticate(request, job, {})
        assert caught.value.code == "not_found"


FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
ROUTE_MODULES = {
    "api",
    "billing_routes",
    "catalog_routes",
    "closing_routes",
    "counter_routes",
    "customer_import_routes",
    "customer_routes",
    "dev_auth_routes",
    "dev_mail_routes",
    "export_routes",
    "finance_export_routes",
    "giftcard_routes",
    "job_routes",
    "journal_routes",
    "key_routes",
    "live_routes",
    "portal_routes",
    "promotion_routes",
    "purchase_order_routes",
    "statement_routes",
    "stripe_routes",
    "terminal_routes",
    "tour_routes",
}


def in_fresh_interpreter(target: str | None, program: str):
    """What `program` prints (JSON) after `import main`, in a fresh interpreter deployed as `target`."""
    env = {key: value for key, value in os.environ.items() if key != "FUNCTION_TARGET"}
    env |= {"TRESEN_ENV": "dev", "PYTHONPATH": str(FUNCTIONS)} | ({"FUNCTION_TARGET": target} if target else {})
    done = subprocess.run(
        [sys.executable, "-c", f"import gc, json, sys; import main; {program}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


COLD_START = (
    "from tresen import wiring; "
    "routes = [f'{r.method} {r.path}' for r in wiring.entry_router(main.os.environ['FUNCTION_TARGET']).routes] "
    "if 'FUNCTION_TARGET' in main.os.environ else []; "
    "print(json.dumps({'modules': sorted(sys.modules), 'routes': sorted(routes), "
    "'gc': gc.isenabled(), 'frozen': gc.get_freeze_count()}))"
)


@pytest.mark.parametrize(
    ("target", "loaded"),
    [
        (None, set()),
        ("customer_api", {"api", "giftcard_routes", "journal_routes", "tour_routes", "live_routes", "terminal_routes"}),
        (
            "staff_api",
            {"api", "giftcard_routes", "journal_routes", "closing_routes", "stripe_routes"}
            | {"customer_routes", "customer_import_routes", "portal_routes", "billing_routes", "tour_routes"}
            | {"live_routes", "terminal_routes", "catalog_routes", "counter_routes", "promotion_routes"}
            | {"purchase_order_routes"},
        ),
        ("webhooks", {"api", "billing_routes"}),
        ("exports", {"export_routes", "finance_export_routes", "key_routes", "statement_routes"}),
        ("jobs", {"api", "giftcard_routes", "journal_routes", "closing_routes", "job_routes", "billing_routes"}),
    ],
)
def test_a_cold_start_loads_only_the_routes_of_its_function_and_serves_them_all(target, loaded):
    started = in_fresh_interpreter(target, COLD_START)
    modules = {name.rsplit(".", 1)[-1] for name in started["modules"] if name.startswith("tresen.http.")}
    assert modules & ROUTE_MODULES == loaded
    # what it loaded alone serves every route of the entry's tags among all the routes there are
    app.load_routes(None)
    tags = app.ENTRY_POINTS.get(target, ())
    assert started["routes"] == sorted(f"{r.method} {r.path}" for r in ROUTES if r.tag in tags)
    assert started["gc"] is True and started["frozen"] > 10_000  # what the imports made is frozen


def test_every_function_describes_the_whole_api():
    """The OpenAPI document of a function that loaded only its own routes still lists every route."""
    app.load_routes(None)
    everything = sorted(f"{r.method} {r.path}" for r in ROUTES)
    described = in_fresh_interpreter(
        "webhooks",
        "from werkzeug.test import EnvironBuilder; "
        "paths = main.webhooks(EnvironBuilder(path='/v1/openapi.json').get_request()).get_json()['paths']; "
        "print(json.dumps(sorted(f'{m.upper()} {p}' for p, item in paths.items() for m in item)))",
    )
    assert described == everything and len(everything) == 142
