"""Each payment provider implements the one protocol the use cases know."""

from dataclasses import replace

import pytest

from tresen.adapters import payments
from tresen.config import settings
from tresen.domain.errors import DomainError
from tresen.services.ports import PaymentProvider


@pytest.fixture
def both_enabled(monkeypatch):
    enabled = replace(settings(), stripe_api_key="sk_test_fake")
    monkeypatch.setattr(payments, "settings", lambda: enabled)


@pytest.mark.parametrize("name, implementation", [("sandbox", "SandboxProvider"), ("stripe", "StripeProvider")])
def test_every_enabled_provider_is_a_payment_provider(both_enabled, name, implementation):
    chosen = payments.provider(name)
    assert (type(chosen).__name__, chosen.name) == (implementation, name)
    assert isinstance(chosen, PaymentProvider)


def test_a_provider_that_is_not_enabled_is_a_validation_error(monkeypatch):
    monkeypatch.setattr(payments, "settings", lambda: replace(settings(), stripe_api_key=""))
    with pytest.raises(DomainError) as refused:
        payments.provider("stripe")
    assert [(e.field, e.message) for e in refused.value.errors] == [("payment.provider", "stripe is not enabled")]


def test_the_sandbox_keeps_no_list_of_refunds_to_ask_for():
    assert payments.SandboxProvider().refunds_of("pay_sbx_1") == []


def test_stripe_webhooks_are_taken_without_an_api_key_and_the_sandbox_only_where_it_is_enabled(monkeypatch):
    monkeypatch.setattr(payments, "settings", lambda: replace(settings(), stripe_api_key="", sandbox_enabled=False))
    assert (type(payments.webhook_source("stripe")).__name__, payments.webhook_source("sandbox")) == (
        "StripeProvider",
        None,
    )
    assert payments.webhook_source("paypal") is None
