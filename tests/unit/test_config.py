import pytest

from tresen.config import ConfigError, load_settings

PROD = {
    "K_SERVICE": "tresen-api",
    "GOOGLE_CLOUD_PROJECT": "tresen-prod",
    "TRESEN_ARCHIVE_BUCKET": "tresen-archive",
    "STRIPE_WEBHOOK_SECRET": "whsec_live",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_live_connect",
    "TRESEN_ORDER_PAGE_URL": "https://bestellen.tresen.example/",
    "STRIPE_API_KEY": "sk_live_x",
    "TRESEN_GIFTCARD_KEY": "a-long-random-key",
    "SMTP_URL": "smtp://tresen%40example.de:s3cret@smtp.example.de:587",
    "FISKALY_API_KEY": "key_live",
    "FISKALY_API_SECRET": "secret_live",
    "TRESEN_SIGNING_KEY": "projects/p/locations/europe-west3/keyRings/tresen/cryptoKeys/journal/cryptoKeyVersions/1",
}


def test_dev_defaults_follow_the_contract():
    settings = load_settings({"TRESEN_PORT": "9000"})
    assert (settings.env, settings.project, settings.sandbox_enabled) == ("dev", "demo-tresen", True)
    assert (settings.sandbox_secret, settings.stripe_webhook_secret) == ("whsec_sandbox_dev", "whsec_stripe_dev")
    assert settings.public_url == "http://127.0.0.1:9000"


def test_cloud_run_implies_production():
    settings = load_settings(PROD)
    assert (settings.env, settings.sandbox_enabled, settings.project) == ("prod", False, "tresen-prod")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}, "FIREBASE_AUTH_EMULATOR_HOST is set"),
        ({"FIRESTORE_EMULATOR_HOST": "127.0.0.1:8181"}, "FIRESTORE_EMULATOR_HOST is set"),
        ({"STORAGE_EMULATOR_HOST": "http://127.0.0.1:4443"}, "STORAGE_EMULATOR_HOST is set"),
        ({"TRESEN_SANDBOX_ENABLED": "true"}, "the sandbox payment provider is enabled"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "required setting STRIPE_WEBHOOK_SECRET is missing"),
        ({"STRIPE_CONNECT_WEBHOOK_SECRET": ""}, "required setting STRIPE_CONNECT_WEBHOOK_SECRET is missing"),
        ({"TRESEN_ORDER_PAGE_URL": ""}, "required setting TRESEN_ORDER_PAGE_URL is missing"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:12111"}, "STRIPE_API_BASE is set (a local stand-in)"),
    ],
)
def test_production_refuses_to_start_with_a_one_line_reason(extra, reason):
    with pytest.raises(ConfigError) as caught:
        load_settings(PROD | extra)
    assert str(caught.value) == f"refusing to start in production: {reason}"
    assert "\n" not in str(caught.value)


def test_one_merchant_without_connect_needs_no_connect_webhook_secret():
    without = {k: v for k, v in PROD.items() if k != "STRIPE_CONNECT_WEBHOOK_SECRET"}
    settings = load_settings(without | {"STRIPE_CONNECT": "false"})
    assert (settings.stripe_connect, settings.stripe_connect_webhook_secret) == (False, "")


def test_stripe_connect_is_true_or_false():
    with pytest.raises(ConfigError) as caught:
        load_settings(PROD | {"STRIPE_CONNECT": "maybe"})
    assert str(caught.value) == "STRIPE_CONNECT must be true or false, not 'maybe'"


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        load_settings({"TRESEN_ENV": "staging"})


@pytest.mark.parametrize(
    ("target", "unneeded"),
    [
        (
            "exports",
            (
                "STRIPE_WEBHOOK_SECRET",
                "STRIPE_CONNECT_WEBHOOK_SECRET",
                "STRIPE_API_KEY",
                "TRESEN_GIFTCARD_KEY",
                "SMTP_URL",
                "FISKALY_API_KEY",
                "FISKALY_API_SECRET",
            ),
        ),  # fmt: skip
        ("customer_api", ("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET", "SMTP_URL")),
        ("jobs", ("STRIPE_WEBHOOK_SECRET", "STRIPE_CONNECT_WEBHOOK_SECRET")),
    ],
)
def test_each_function_needs_only_its_own_secrets_and_the_rest_stay_empty(target, unneeded):
    settings = load_settings({k: v for k, v in PROD.items() if k not in unneeded} | {"FUNCTION_TARGET": target})
    assert settings.env == "prod"
    empty = {"STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret, "STRIPE_API_KEY": settings.stripe_api_key,
             "STRIPE_CONNECT_WEBHOOK_SECRET": settings.stripe_connect_webhook_secret,
             "TRESEN_GIFTCARD_KEY": settings.giftcard_key, "SMTP_URL": settings.smtp_url,
             "FISKALY_API_KEY": settings.fiskaly_api_key,
             "FISKALY_API_SECRET": settings.fiskaly_api_secret}  # fmt: skip
    assert [empty[name] for name in unneeded] == [""] * len(unneeded)


@pytest.mark.parametrize("target", ["webhooks", "dev", ""])
def test_the_webhooks_function_and_any_other_process_need_every_secret(target):
    with pytest.raises(ConfigError) as caught:
        load_settings({k: v for k, v in PROD.items() if k != "STRIPE_WEBHOOK_SECRET"} | {"FUNCTION_TARGET": target})
    assert str(caught.value).endswith("required setting STRIPE_WEBHOOK_SECRET is missing")


@pytest.mark.parametrize("target", ["staff_api", "webhooks", "jobs", ""])
def test_the_functions_that_send_mail_and_the_command_line_need_the_mail_server(target):
    with pytest.raises(ConfigError) as caught:
        load_settings({k: v for k, v in PROD.items() if k != "SMTP_URL"} | {"FUNCTION_TARGET": target})
    assert str(caught.value) == "refusing to start in production: required setting SMTP_URL is missing"


def test_mail_settings_in_production_and_dev():
    production = load_settings(PROD | {"MAIL_FROM": "Tresen <rechnung@tresen.example>"})
    assert (production.smtp_url, production.mail_from) == (PROD["SMTP_URL"], "Tresen <rechnung@tresen.example>")
    assert load_settings(PROD).mail_from == ""  # never the dev sender: nothing is sent until it is set
    dev = load_settings({})
    assert (dev.smtp_url, dev.mail_from) == ("smtp://127.0.0.1:2525", "Tresen <no-reply@tresen.localhost>")
    assert load_settings({"SMTP_SINK_PORT": "3525"}).smtp_url == "smtp://127.0.0.1:3525"
    assert load_settings({"SMTP_URL": "smtps://smtp.example.de"}).smtp_url == "smtps://smtp.example.de"


@pytest.mark.parametrize(
    "url", ["http://u:s3cret@smtp.example.de", "smtp://u:s3cret@", "smtp://u:s3cret@smtp.example.de:x", "smtp://h/path"]
)
def test_a_malformed_smtp_url_refuses_to_start_without_showing_its_password(url):
    with pytest.raises(ConfigError) as caught:
        load_settings(PROD | {"SMTP_URL": url})
    assert str(caught.value) == (
        "SMTP_URL must be smtp://[user:password@]host[:port] or smtps://[user:password@]host[:port]"
    )


@pytest.mark.parametrize("sender", ["no address", "Tresen <a@b.de>\r\nBcc: c@d.de"])
def test_a_malformed_mail_from_refuses_to_start(sender):
    with pytest.raises(ConfigError) as caught:
        load_settings({"MAIL_FROM": sender})
    assert str(caught.value) == "MAIL_FROM must be an e-mail address, with a display name or not, on one line"


def test_a_function_without_the_gift_card_key_refuses_to_hash_a_code(monkeypatch):
    from tresen.adapters import giftcard_store

    without = load_settings(
        {k: v for k, v in PROD.items() if k != "TRESEN_GIFTCARD_KEY"} | {"FUNCTION_TARGET": "exports"}
    )
    monkeypatch.setattr(giftcard_store, "settings", lambda: without)
    with pytest.raises(LookupError):
        giftcard_store.keyed_hash("ABCD-EFGH")


def test_web_origins_are_a_comma_separated_list_and_empty_means_none():
    listed = load_settings(
        PROD | {"TRESEN_WEB_ORIGINS": "https://tresen-prod.web.app, https://tresen-prod.firebaseapp.com"}
    )
    assert listed.web_origins == ("https://tresen-prod.web.app", "https://tresen-prod.firebaseapp.com")
    assert load_settings(PROD | {"TRESEN_WEB_ORIGINS": ""}).web_origins == ()
    assert load_settings(PROD).web_origins == ()
    local = load_settings({"TRESEN_WEB_ORIGINS": "http://localhost:5000,http://[::1]:5000"})
    assert local.web_origins == ("http://localhost:5000", "http://[::1]:5000")


NOT_AN_ORIGIN = "TRESEN_WEB_ORIGINS must list origins (scheme://host[:port]), not "
SENT_AS = "TRESEN_WEB_ORIGINS: browsers send 'https://{0}.web.app{1}' as 'https://tresen-prod.web.app'; list it so"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("https://tresen-prod.web.app/", NOT_AN_ORIGIN + "'https://tresen-prod.web.app/'"),
        ("tresen-prod.web.app", NOT_AN_ORIGIN + "'tresen-prod.web.app'"),
        ("https://a.example,ftp://b.example", NOT_AN_ORIGIN + "'ftp://b.example'"),
        ("*", NOT_AN_ORIGIN + "'*'"),
        ("https://a.example\nhttps://b.example", NOT_AN_ORIGIN + "'https://a.example\\nhttps://b.example'"),
        ("https://Tresen-Prod.web.app", SENT_AS.format("Tresen-Prod", "")),
        ("https://tresen-prod.web.app:443", SENT_AS.format("tresen-prod", ":443")),
    ],
)
@pytest.mark.parametrize("environ", [PROD, {}], ids=["prod", "dev"])
def test_a_malformed_web_origin_refuses_to_start_with_a_one_line_reason(value, reason, environ):
    with pytest.raises(ConfigError) as caught:
        load_settings(environ | {"TRESEN_WEB_ORIGINS": value})
    assert str(caught.value) == reason
    assert "\n" not in str(caught.value)
