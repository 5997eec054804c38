"""Staff identity: Firebase ID tokens verified by firebase-admin.

In dev mode tokens are accepted unsigned, exactly as firebase-admin does against the Auth emulator:
it skips the signature check whenever FIREBASE_AUTH_EMULATOR_HOST is set, but still checks `aud`,
`iss`, `sub` and expiry. Dev mode therefore points that variable at the (unused) emulator address;
production refuses to start with it set (config.check_production).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from ..config import settings

DEV_AUTH_EMULATOR = "127.0.0.1:9099"
_lock = threading.Lock()
_app = None


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class StaffIdentity:
    uid: str
    stores: dict[str, str]  # store id → role

    def role_in(self, store_id: str) -> str | None:
        return self.stores.get(store_id)


def _firebase_app():
    global _app
    if _app is None:
        with _lock:
            if _app is None:
                import firebase_admin

                if settings().dev:
                    os.environ.setdefault("FIREBASE_AUTH_EMULATOR_HOST", DEV_AUTH_EMULATOR)
                _app = firebase_admin.initialize_app(options={"projectId": settings().project}, name="tresen")
    return _app


def verify_staff_token(token: str) -> StaffIdentity:
    from firebase_admin import auth

    try:
        claims = auth.verify_id_token(token, app=_firebase_app())
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.CertificateFetchError) as error:
        raise InvalidToken(str(error)) from error
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
        # firebase-admin checks expiry only for signed tokens; unsigned dev tokens must expire too
        raise InvalidToken("token expired")
    stores = claims.get("stores")
    if not isinstance(stores, dict):
        stores = {}
    return StaffIdentity(uid=claims["uid"], stores={str(k): str(v) for k, v in stores.items()})
