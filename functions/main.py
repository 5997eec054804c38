"""Deployable entry points: thin functions-framework functions over the one router.

Each is deployed as its own Cloud Function so that they scale, time out and are secured
separately; locally `tresen dev` serves `api`, which answers every path.
"""

import functions_framework

from tresen.config import settings
from tresen.http.app import handle

settings()  # production refuses to start on a bad configuration (CONTRACT §1)


@functions_framework.http
def api(request):
    return handle(request)
