"""Health: the API is healthy when Firestore answers."""

from __future__ import annotations

import logging

from .models import Health
from .problems import ApiProblem

log = logging.getLogger(__name__)


def health_check(uow) -> Health:
    try:
        uow.ping()
    except Exception as error:
        log.warning("health: Firestore does not answer: %s", error)
        raise ApiProblem("service_unavailable", "Firestore does not answer.", headers={"Retry-After": "5"}) from None
    return Health(status="ok")
