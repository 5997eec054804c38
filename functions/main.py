"""Deployable entry points: thin functions-framework functions over the one router.

Each is deployed as its own function so that they scale, time out and are secured separately
(infra/): `customer_api` (the ordering page: menu, orders, receipts' proofs, the sandbox checkout),
`staff_api` (the staff board and the journal), `webhooks` (payment providers: public but signed),
`exports` (finance: exports, statements, API keys, accounting settings: long downloads, more memory)
and `jobs` (private: only Cloud Scheduler may invoke it). Each answers 404 for the others' paths.
Locally `tresen dev` serves `dev`, every path.

A cold start is kept short: the function named by FUNCTION_TARGET (Cloud Run sets it to the entry
point) loads only its own routes, before its first request; the garbage collector does not run
while modules load (every object made then lives as long as the process), and those objects are
then frozen out of every later collection, so a request's collection scans only its own objects.
"""

import gc
import os

import functions_framework

gc.disable()
from tresen.config import settings  # noqa: E402
from tresen.http.app import ENTRY_POINTS, framework_failure, unrouted  # noqa: E402
from tresen.wiring import entry_router, handle  # noqa: E402

settings()  # production refuses to start on a bad configuration (docs/operations.md)
if os.environ.get("FUNCTION_TARGET") in ENTRY_POINTS:
    entry_router(os.environ["FUNCTION_TARGET"])
gc.freeze()
gc.enable()


@functions_framework.http
def customer_api(request):
    return handle(request, "customer_api")


@functions_framework.http
def staff_api(request):
    return handle(request, "staff_api")


@functions_framework.http
def webhooks(request):
    return handle(request, "webhooks")


@functions_framework.http
def exports(request):
    return handle(request, "exports")


@functions_framework.http
def jobs(request):
    return handle(request, "jobs")


@functions_framework.http
def dev(request):
    return handle(request)


# A path the framework itself cannot route (a control character in it) never reaches `handle`:
# answer it as a problem too, never with the framework's HTML page.
functions_framework.errorhandler(404)(unrouted)
functions_framework.errorhandler(500)(framework_failure)
