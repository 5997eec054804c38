"""Staff identity: Firebase ID tokens verified by firebase-admin.

In dev mode tokens are accepted unsigned, exactly as firebase-admin does against the Auth emulator:
it skips the signature check whenever FIREBASE_AUTH_EMULATOR_HOST is set, but still checks `aud`,
`iss`, `sub` and expiry. Dev mode therefore points that variable at the Auth emulator `tresen dev`
starts (which issues such tokens), or where it would start one; production refuses to start with it
set (config.check_production).
"""

from __future__ import annotations

import os
import time

from ..config import dev_auth_emulator_host, settings
from ..services.ports import InvalidToken, StaffIdentity
from .lazy import once


@once
def firebase_app():
    """The firebase_admin app of staff identity (adapters/identity_directory.py uses it too)."""
    import firebase_admin

    if settings().dev:
        os.environ.setdefault("FIREBASE_AUTH_EMULATOR_HOST", dev_auth_emulator_host(os.environ))
    return firebase_admin.initialize_app(options={"projectId": settings().project}, name="tresen")


def verify_staff_token(token: str) -> StaffIdentity:
    from firebase_admin import auth

    try:
        claims = auth.verify_id_token(token, app=firebase_app())
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.CertificateFetchError) as error:
        raise InvalidToken(str(error)) from error
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        # firebase-admin checks expiry only for signed tokens; unsigned dev tokens must expire too
        raise InvalidToken("token expired")
    stores = claims.get("stores")
    if not isinstance(stores, dict):
        stores = {}
    email = claims.get("email")
    return StaffIdentity(
        uid=claims["uid"],
        stores={str(k): str(v) for k, v in stores.items()},
        platform_admin=claims.get("platform") == "admin",
        email=email if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
    )


def unsigned_dev_token(
    *,
    uid: str,
    stores: dict[str, str],
    lifetime: int = 3600,
    platform: str | None = None,
    email: str | None = None,
    email_verified: bool = False,
) -> str:
    """An ID token as the Auth emulator issues them (alg none): accepted in dev mode only."""
    import base64
    import json

    def part(doc: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    project = settings().project
    now = int(time.time())
    claims = {
        "aud": project,
        "iss": f"https://securetoken.google.com/{project}",
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "auth_time": now,
        "exp": now + lifetime,
        "stores": stores,
    }
    if platform is not None:
        claims["platform"] = platform
    if email is not None:
        claims |= {"email": email, "email_verified": email_verified}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
