"""Deployable entry points: thin functions-framework functions over the one router.

Each is deployed as its own function so that they scale, time out and are secured separately
(infra/): `customer_api` (the ordering page: menu, orders, receipts' proofs, the sandbox checkout),
`staff_api` (the staff board and the journal), `webhooks` (payment providers: public but signed),
`exports` (finance: exports, statements, API keys, accounting settings: long downloads, more memory)
and `jobs` (private: only Cloud Scheduler may invoke it). Each answers 404 for the others' paths.
Locally `tresen dev` serves `dev`, every path.
"""

import functions_framework

from tresen.config import settings
from tresen.http.app import framework_failure, unrouted
from tresen.wiring import handle

settings()  # production refuses to start on a bad configuration (docs/operations.md)


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
