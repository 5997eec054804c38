"""Settings from the environment, and the production start-up guard (docs/operations.md)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

DEV_PROJECT = "demo-tresen"
DEV_AUTH_PORT = "9099"  # `tresen dev`'s Auth emulator, unless AUTH_PORT says otherwise
IDENTITY_TOOLKIT_URL = "https://identitytoolkit.googleapis.com/v1"
EMULATOR_VARIABLES = ("FIREBASE_AUTH_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST")
PROD_REQUIRED = ("TRESEN_ARCHIVE_BUCKET", "GOOGLE_CLOUD_PROJECT", "TRESEN_SIGNING_KEY")
SECRETS = (
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_CONNECT_WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "TRESEN_GIFTCARD_KEY",
    "SMTP_URL",
    "FISKALY_API_KEY",
    "FISKALY_API_SECRET",
)
# Base URLs of outside services, for local stand-ins only: production talks to the real ones.
STAND_IN_BASES = ("STRIPE_API_BASE", "PAYPAL_API_BASE", "FISKALY_API_BASE")
# The secrets each deployed function uses (Cloud Run sets FUNCTION_TARGET to its entry point), so
# each is given only those (infra/ mounts exactly these; tests/infra_checks.py compares): Stripe's
# API key to take and refund payments, the webhook secret to check Stripe's signatures, the gift-card
# key to find a card by its code, the mail server's URL (with its password) where e-mail is sent
# (staff invitations, invoices, dunning; the jobs send what is left in the outbox), fiskaly's API key
# where sales on site are signed (placed, paid at a terminal, canceled, the TSE job). The exports
# only read. Anything else (`tresen` run by an operator, `dev`) needs them all.
TSE_SECRETS = ("FISKALY_API_KEY", "FISKALY_API_SECRET")
SECRETS_OF_ENTRY = {
    "customer_api": ("STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY", *TSE_SECRETS),
    "staff_api": ("STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY", "SMTP_URL", *TSE_SECRETS),
    "webhooks": (
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_CONNECT_WEBHOOK_SECRET",
        "STRIPE_API_KEY",
        "TRESEN_GIFTCARD_KEY",
        "SMTP_URL",
        *TSE_SECRETS,
    ),
    "exports": (),
    "jobs": ("STRIPE_API_KEY", "TRESEN_GIFTCARD_KEY", "SMTP_URL", *TSE_SECRETS),
}
DEV_MAIL_FROM = "Tresen <no-reply@tresen.localhost>"
DEV_SINK_PORT = "2525"  # `tresen dev`'s SMTP sink, unless SMTP_SINK_PORT says otherwise
FISKALY_BASE = "https://kassensichv-middleware.fiskaly.com"  # fiskaly SIGN DE v2 (its middleware)

# scheme://host[:port], as a browser sends its Origin: the only shape ever echoed back in
# Access-Control-Allow-Origin, and the only one TRESEN_WEB_ORIGINS may list
WEB_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


DEV_ISSUER = {
    "name": "Tresen Plattform GmbH",
    "street": "Hanauer Landstraße 1",
    "postal_code": "60314",
    "city": "Frankfurt am Main",
    "country": "DE",
    "tax_number": "045 232 12345",
    "vat_id": "DE999999999",
}
ISSUER_FIELDS = ("name", "street", "postal_code", "city")


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
    # PayPal (Orders v2), how merchants may pay their licence invoices: the platform's REST app and
    # the id of its webhook (PayPal verifies each event for it). No base: PayPal's own host (live in
    # production, the sandbox in dev); dev and tests set a local stand-in's.
    paypal_api_base: str = ""
    paypal_client_id: str = ""
    paypal_client_secret: str = ""
    paypal_webhook_id: str = ""
    # fiskaly SIGN DE v2, the TSE that signs the sales taken on site: the platform's API key and
    # secret, required in production by the functions that sign (SECRETS_OF_ENTRY). The base is
    # fiskaly's own host but in dev and tests, which may set a local stand-in's (FISKALY_API_BASE;
    # `tresen dev` starts one).
    fiskaly_api_base: str = FISKALY_BASE
    fiskaly_api_key: str = ""
    fiskaly_api_secret: str = ""
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
    # Firebase Auth's REST API (Identity Toolkit) as the merchant portal's page calls it, and the
    # web API key it sends (public: it names the project, it grants nothing); dev: the Auth emulator
    firebase_auth_url: str = IDENTITY_TOOLKIT_URL
    firebase_web_api_key: str = ""
    # the platform as its licence invoices name it (TRESEN_PLATFORM_ISSUER, JSON): name, street,
    # postal_code, city, country, vat_id and, if it has one, tax_number
    platform_issuer: dict = field(default_factory=lambda: dict(DEV_ISSUER))
    # where e-mail is submitted: smtp://[user:password@]host[:port] (STARTTLS) or smtps://… (TLS);
    # in dev the local sink `tresen dev` starts
    smtp_url: str = ""
    mail_from: str = DEV_MAIL_FROM  # the From of every e-mail: an address, with a display name or not
    # dev and tests only (WEBHOOK_RETRY_SCALE): the webhooks' retry delays times this, so a test
    # sees a retry without waiting 5 s; production keeps the schedule as it is
    webhook_retry_scale: float = 1.0
    # dev and tests only (TRESEN_LIVE_SECONDS): how long a live stream lasts before its page opens the
    # next (0: the production lifetimes, http/live_routes.py), so a test sees streams end and resume
    live_seconds: float = 0.0
    # dev and tests only (TRESEN_COUNT_READS=1): count every document read (adapters/read_meter.py)
    count_reads: bool = False
    # dev and tests only (TRESEN_TSE=off): sales taken on site are not signed by a TSE, so tests about
    # other things need no TSE; production signs every one (services/tse.py) and refuses `off`
    tse_enabled: bool = True

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
            paypal_client_id=environ.get("PAYPAL_CLIENT_ID", ""),
            paypal_client_secret=environ.get("PAYPAL_CLIENT_SECRET", ""),
            paypal_webhook_id=environ.get("PAYPAL_WEBHOOK_ID", ""),
            fiskaly_api_key=environ.get("FISKALY_API_KEY", ""),
            fiskaly_api_secret=environ.get("FISKALY_API_SECRET", ""),
            order_page_url=environ.get("TRESEN_ORDER_PAGE_URL", ""),
            giftcard_key=environ.get("TRESEN_GIFTCARD_KEY", ""),
            signing_key=environ["TRESEN_SIGNING_KEY"],
            web_origins=origins,
            firebase_web_api_key=environ.get("FIREBASE_WEB_API_KEY", ""),
            platform_issuer=platform_issuer(environ.get("TRESEN_PLATFORM_ISSUER", "")),
            smtp_url=smtp_url(environ.get("SMTP_URL", "")),
            mail_from=mail_from(environ.get("MAIL_FROM", "")),
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
        paypal_api_base=environ.get("PAYPAL_API_BASE", ""),
        paypal_client_id=environ.get("PAYPAL_CLIENT_ID", "sb-tresen-dev"),
        paypal_client_secret=environ.get("PAYPAL_CLIENT_SECRET", "sb-secret-dev"),
        paypal_webhook_id=environ.get("PAYPAL_WEBHOOK_ID", "WH-TRESEN-DEV"),
        fiskaly_api_base=environ.get("FISKALY_API_BASE") or FISKALY_BASE,
        fiskaly_api_key=environ.get("FISKALY_API_KEY", "fiskaly-key-dev"),
        fiskaly_api_secret=environ.get("FISKALY_API_SECRET", "fiskaly-secret-dev"),
        order_page_url=environ.get("TRESEN_ORDER_PAGE_URL", f"http://127.0.0.1:{port}/"),
        giftcard_key=environ.get("TRESEN_GIFTCARD_KEY", "giftcard-key-dev"),
        data_dir=environ.get("TRESEN_DATA_DIR", ""),
        web_origins=origins,
        firebase_auth_url=f"http://{dev_auth_emulator_host(environ)}/identitytoolkit.googleapis.com/v1",
        firebase_web_api_key=environ.get("FIREBASE_WEB_API_KEY", "fake-api-key"),
        platform_issuer=platform_issuer(environ.get("TRESEN_PLATFORM_ISSUER", "")) or dict(DEV_ISSUER),
        # unset: the sink `tresen dev` starts (which sets it to the sink's port)
        smtp_url=smtp_url(
            environ.get("SMTP_URL") or f"smtp://127.0.0.1:{environ.get('SMTP_SINK_PORT', DEV_SINK_PORT)}"
        ),
        mail_from=mail_from(environ.get("MAIL_FROM", DEV_MAIL_FROM)),
        webhook_retry_scale=retry_scale(environ.get("WEBHOOK_RETRY_SCALE", "1")),
        live_seconds=live_seconds(environ.get("TRESEN_LIVE_SECONDS", "0")),
        count_reads=environ.get("TRESEN_COUNT_READS", "") == "1",
        tse_enabled=tse_enabled(environ.get("TRESEN_TSE", "on")),
    )


def smtp_url(value: str) -> str:
    """SMTP_URL (empty: none). It holds a password, so a refusal never repeats it."""
    if value and not is_smtp_url(value):
        raise ConfigError("SMTP_URL must be smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]")
    return value


def is_smtp_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (a port that is not a number raises)
    except ValueError:
        return False
    shaped = parts.scheme in ("smtp", "smtps") and bool(parts.hostname)
    return shaped and not (parts.path.strip("/") or parts.query or parts.fragment)


def mail_from(value: str) -> str:
    """MAIL_FROM: one line naming an address (`Name <address>` or the address alone); empty: none."""
    if value and (not re.fullmatch(r"[^\x00-\x1f\x7f]+", value) or "@" not in value):
        raise ConfigError("MAIL_FROM must be an e-mail address, with a display name or not, on one line")
    return value


def retry_scale(value: str) -> float:
    """WEBHOOK_RETRY_SCALE: a number in (0, 1]."""
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 1:
        raise ConfigError(f"WEBHOOK_RETRY_SCALE must be a number above 0 and at most 1, not {value!r}")
    return scale


def live_seconds(value: str) -> float:
    """TRESEN_LIVE_SECONDS: 0 (the production lifetimes) or a number of seconds from 1 to 3600."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not (seconds == 0 or 1 <= seconds <= 3600):
        raise ConfigError(f"TRESEN_LIVE_SECONDS must be 0 or a number of seconds from 1 to 3600, not {value!r}")
    return seconds


def platform_issuer(value: str) -> dict:
    """TRESEN_PLATFORM_ISSUER: the platform's name, address, VAT id and tax number, as JSON ({} if unset)."""
    if not value:
        return {}
    try:
        issuer = json.loads(value)
    except ValueError:
        raise ConfigError("TRESEN_PLATFORM_ISSUER must be a JSON object") from None
    if not isinstance(issuer, dict) or not all(isinstance(issuer.get(name), str) for name in ISSUER_FIELDS):
        raise ConfigError(f"TRESEN_PLATFORM_ISSUER needs {', '.join(ISSUER_FIELDS)}")
    if not isinstance(issuer.get("vat_id"), str):  # e-invoices name the seller by it (EN 16931 BR-CO-26)
        raise ConfigError("TRESEN_PLATFORM_ISSUER needs the platform's vat_id (USt-IdNr.)")
    return {key: issuer.get(key) for key in (*ISSUER_FIELDS, "country", "tax_number", "vat_id")} | {
        "country": issuer.get("country") or "DE"
    }


def dev_auth_emulator_host(environ: Mapping[str, str]) -> str:
    """host:port of dev's Auth emulator: FIREBASE_AUTH_EMULATOR_HOST (`tresen dev` sets it to the one
    it started), else where `tresen dev` starts one."""
    return environ.get("FIREBASE_AUTH_EMULATOR_HOST") or f"127.0.0.1:{environ.get('AUTH_PORT', DEV_AUTH_PORT)}"


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


def tse_enabled(value: str) -> bool:
    if value not in ("on", "off"):
        raise ConfigError(f"TRESEN_TSE must be on or off, not {value!r}")
    return value == "on"


def check_production(environ: dict[str, str]) -> None:
    for name in EMULATOR_VARIABLES:
        if environ.get(name):
            raise ConfigError(f"refusing to start in production: {name} is set")
    for name in STAND_IN_BASES:
        if environ.get(name):
            raise ConfigError(f"refusing to start in production: {name} is set (a local stand-in)")
    if environ.get("TRESEN_SANDBOX_ENABLED", "").lower() in ("1", "true", "yes"):
        raise ConfigError("refusing to start in production: the sandbox payment provider is enabled")
    if environ.get("TRESEN_TSE", "on") != "on":
        raise ConfigError("refusing to start in production: TRESEN_TSE is off (every sale on site is signed)")
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
