"""Where the pages find Firebase Auth in dev mode: the local Auth emulator that `tresen dev` runs
beside the API. In production the pages call Google's hosts with the web API key config.js names,
and this route is not found."""

from __future__ import annotations

from pydantic import Field

from ..config import settings
from . import models as m
from .problems import ApiProblem
from .router import PUBLIC, Call, route

# Identity Toolkit and the secure token service: two hosts at Google, two path prefixes on the emulator
IDENTITY_TOOLKIT = "identitytoolkit.googleapis.com"
SECURE_TOKEN = "securetoken.googleapis.com"


class DevFirebaseOut(m.Model):
    api_key: str
    auth_url: str = Field(description="Identity Toolkit's base URL: accounts:signInWithPassword and the like")
    token_url: str = Field(description="the secure token service's base URL: token (renewing an ID token)")


@route(
    "GET",
    "/v1/dev/firebase",
    summary="Dev mode: where the pages sign in (the local Firebase Auth emulator)",
    tag="dev",
    access=PUBLIC,
    response=DevFirebaseOut,
    errors=("not_found",),
)
def dev_firebase(call: Call) -> DevFirebaseOut:
    configured = settings()
    if not configured.dev:
        raise ApiProblem("not_found", f"No endpoint at {call.request.path}.")
    auth_url = configured.firebase_auth_url
    return DevFirebaseOut(
        api_key=configured.firebase_web_api_key,
        auth_url=auth_url,
        token_url=auth_url.replace(IDENTITY_TOOLKIT, SECURE_TOKEN),
    )
