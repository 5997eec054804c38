import pytest

from tresen.config import ConfigError, load_settings

PROD = {
    "K_SERVICE": "tresen-api",
    "GOOGLE_CLOUD_PROJECT": "tresen-prod",
    "TRESEN_ARCHIVE_BUCKET": "tresen-archive",
    "STRIPE_WEBHOOK_SECRET": "whsec_live",
    "STRIPE_API_KEY": "sk_live_x",
    "TRESEN_GIFTCARD_KEY": "a-long-random-key",
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
    ],
)
def test_production_refuses_to_start_with_a_one_line_reason(extra, reason):
    with pytest.raises(ConfigError) as caught:
        load_settings(PROD | extra)
    assert str(caught.value) == f"refusing to start in production: {reason}"
    assert "\n" not in str(caught.value)


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        load_settings({"TRESEN_ENV": "staging"})
