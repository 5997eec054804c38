"""Settings from the environment, and the production start-up guard (docs/operations.md)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache

DEV_PROJECT = "demo-tresen"
EMULATOR_VARIABLES = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")
PROD_REQUIRED = ("TRESEN_ARCHIVE_BUCKET", "GOOGLE_CLOUD_PROJECT", "TRESEN_SIGNING_KEY")
SECRETS = ("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET", "STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY")
# Base URLs of outside services, for local stand-ins only: production talks to the real ones.
STAND_IN_BASES = ("STRIPE_API_BASE", "PAYPAL_API_BASE", "FISKALY_API_BASE")
# The secrets each deployed function uses (Cloud Run sets FUNCTION_TARGET to its entry point), so
# each is given only those (infra/ mounts exactly these; tests/infra_checks.py compares): Stripe's
# API key to take and refund payments, the webhook secret to check Stripe's signatures, the gift-card
# key to find a card by its code. The exports only read. Anything else (`tresen` run by an
# operator, `dev`) needs them all.
SECRETS_OF_ENTRY = {
    "customer_api": ("STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY"),
    "staff_api": ("STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY"),
    "webhooks": ("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET", "STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY"),
    "exports": (),
    "jobs": ("STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY"),
}

# scheme://host[:port], as a browser sends its Origin: the only shape ever echoed back in
# Access-Control-Allow-Origin, and the only one TRESEN_WEB_ORIGINS may list
WEB_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


class ConfigError(RuntimeError):
    """The process must not start; the message is the one-line reason."""


@dataclass(frozen=True)
class Settings:
    env: str
    project: str
    archive_bucket: str
    public_url: str
    sandbox_enabled: bool
    sandbox_secret: str
    stripe_webhook_secret: str
    stripe_api_key: str = ""
    # Connect: each store is paid on its own connected account, whose events are signed with the
    # Connect endpoint's secret. Off: one merchant on the deployment's own account (self-hosting).
    stripe_connect: bool = True
    stripe_connect_webhook_secret: str = ""
    stripe_api_base: str = ""  # dev and tests: a local stand-in for api.stripe.com
    # where customers follow their order (the ordering page): Stripe's Checkout sends them back there
    order_page_url: str = ""
    # keys the hashes gift cards are stored under; kept outside the database (see giftcard_store)
    giftcard_key: str = "giftcard-key-dev"
    # production: the Cloud KMS key version that signs checkpoints
    # (projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/N)
    signing_key: str = ""
    data_dir: str = ""  # dev: where the local signing key is kept; none → a new key per run
    # the web pages' origins (Firebase Hosting): admitted by CORS on every path, staff ones too
    web_origins: tuple[str, ...] = ()

    @property
    def dev(self) -> bool:
        return self.env == "dev"


def environment_name(environ: dict[str, str]) -> str:
    if "TRESEN_ENV" in environ:
        return environ["TRESEN_ENV"]
    return "prod" if "K_SERVICE" in environ else "dev"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    env = environment_name(environ)
    if env not in ("dev", "prod"):
        raise ConfigError(f"TRESEN_ENV must be dev or prod, not {env!r}")
    origins = web_origins(environ.get("TRESEN_WEB_ORIGINS", ""))
    if env == "prod":
        check_production(environ)
        return Settings(
            env="prod",
            project=environ["GOOGLE_CLOUD_PROJECT"],
            archive_bucket=environ["TRESEN_ARCHIVE_BUCKET"],
            public_url=environ.get("TRESEN_PUBLIC_URL", ""),
            sandbox_enabled=False,
            sandbox_secret="",
            # a function not given a secret has it empty: using it fails loudly (never a dev default)
            stripe_webhook_secret=environ.get("STRIPE_WEBHOOK_SECRET", ""),
            stripe_api_key=environ.get("STRIPE_API_KEY", ""),
            stripe_connect=stripe_connect(environ),
            stripe_connect_webhook_secret=environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", ""),
            order_page_url=environ.get("TRESEN_ORDER_PAGE_URL", ""),
            giftcard_key=environ.get("TRESEN_GIFTCARD_KEY", ""),
            signing_key=environ["TRESEN_SIGNING_KEY"],
            web_origins=origins,
        )
    port = environ.get("TRESEN_PORT", "8080")
    return Settings(
        env="dev",
        project=environ.get("GOOGLE_CLOUD_PROJECT", DEV_PROJECT),
        archive_bucket=environ.get("TRESEN_ARCHIVE_BUCKET", "tresen-archive-dev"),
        public_url=environ.get("TRESEN_PUBLIC_URL", f"http://127.0.0.1:{port}"),
        sandbox_enabled=True,
        sandbox_secret=environ.get("TRESEN_SANDBOX_SECRET", "whsec_sandbox_dev"),
        stripe_webhook_secret=environ.get("STRIPE_WEBHOOK_SECRET", "whsec_stripe_dev"),
        stripe_api_key=environ.get("STRIPE_API_KEY", ""),
        stripe_connect=stripe_connect(environ),
        stripe_connect_webhook_secret=environ.get("STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_stripe_connect_dev"),
        stripe_api_base=environ.get("STRIPE_API_BASE", ""),
        order_page_url=environ.get("TRESEN_ORDER_PAGE_URL", f"http://127.0.0.1:{port}/"),
        giftcard_key=environ.get("TRESEN_GIFTCARD_KEY", "giftcard-key-dev"),
        data_dir=environ.get("TRESEN_DATA_DIR", ""),
        web_origins=origins,
    )


def stripe_connect(environ: dict[str, str]) -> bool:
    value = environ.get("STRIPE_CONNECT", "true").lower()
    if value not in ("true", "false"):
        raise ConfigError(f"STRIPE_CONNECT must be true or false, not {value!r}")
    return value == "true"


def web_origins(value: str) -> tuple[str, ...]:
    """TRESEN_WEB_ORIGINS: comma-separated origins. Compared with the Origin header exactly, so an
    entry a browser would never send (a path, capitals, a default port) is refused, not ignored."""
    origins = tuple(entry.strip() for entry in value.split(",") if entry.strip())
    for origin in origins:
        if not WEB_ORIGIN.fullmatch(origin):
            raise ConfigError(f"TRESEN_WEB_ORIGINS must list origins (scheme://host[:port]), not {origin!r}")
        scheme = origin.split(":", 1)[0].lower()
        sent = origin.lower().removesuffix(DEFAULT_PORTS.get(scheme, ""))
        if origin != sent:
            raise ConfigError(f"TRESEN_WEB_ORIGINS: browsers send {origin!r} as {sent!r}; list it so")
    return origins


def check_production(environ: dict[str, str]) -> None:
    for name in EMULATOR_VARIABLES:
        if environ.get(name):
            raise ConfigError(f"refusing to start in production: {name} is set")
    for name in STAND_IN_BASES:
        if environ.get(name):
            raise ConfigError(f"refusing to start in production: {name} is set (a local stand-in)")
    if environ.get("TRESEN_SANDBOX_ENABLED", "").lower() in ("1", "true", "yes"):
        raise ConfigError("refusing to start in production: the sandbox payment provider is enabled")
    required = [*PROD_REQUIRED, *SECRETS_OF_ENTRY.get(environ.get("FUNCTION_TARGET", ""), SECRETS)]
    if not stripe_connect(environ):  # one merchant: no connected accounts, no Connect endpoint
        required = [name for name in required if name != "STRIPE_CONNECT_WEBHOOK_SECRET"]
    if environ.get("STRIPE_API_KEY"):
        required.append("TRESEN_ORDER_PAGE_URL")  # where Stripe's Checkout sends customers back to
    for name in required:
        if not environ.get(name):
            raise ConfigError(f"refusing to start in production: required setting {name} is missing")


@cache
def settings() -> Settings:
    return load_settings()
