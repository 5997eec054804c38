"""Verifying provider webhooks before anything in them is believed."""

from __future__ import annotations

import json
import time

from pydantic import ValidationError

from ..config import settings
from ..domain.signatures import InvalidSignature, verify
from .models import SandboxEventIn
from .problems import ApiProblem


def verified_sandbox_event(header: str | None, raw: bytes) -> SandboxEventIn:
    if not settings().sandbox_enabled:
        raise ApiProblem("not_found", "The sandbox provider is not enabled.")
    try:
        verify(header, raw, settings().sandbox_secret, now=int(time.time()))
    except InvalidSignature as error:
        raise ApiProblem("invalid_signature", str(error)) from None
    try:
        return SandboxEventIn.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        raise ApiProblem("validation_failed", "The event is not a sandbox event.") from None
