"""Deployable entry points: thin functions-framework functions over the one router.

Each is deployed as its own function so that they scale, time out and are secured separately:
`api` (customers and staff, public), `webhooks` (payment providers, public but signed) and `jobs`
(private: only Cloud Scheduler may invoke it). Locally `tresen dev` serves `dev`, every path.
"""

import functions_framework

from tresen.config import settings
from tresen.http.app import framework_failure, handle, unrouted

settings()  # production refuses to start on a bad configuration (CONTRACT §1)


@functions_framework.http
def api(request):
    return handle(request, "api")


@functions_framework.http
def webhooks(request):
    return handle(request, "webhooks")


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
