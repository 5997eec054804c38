"""The sandbox checkout sends the customer back to the shop, as a provider's hosted checkout does."""

import pytest

from support import idem, order_body

pytestmark = pytest.mark.emulator

ORDER_PAGE = "http://127.0.0.1:8080/?store=demo#order=ord_x"


@pytest.fixture
def payment(client, store_id, monkeypatch):
    from tresen.adapters import sandbox_sender

    sent: list[dict] = []
    monkeypatch.setattr(sandbox_sender, "send_later", sent.append)
    order = client.post(
        f"/v1/stores/{store_id}/orders", json=order_body(payment={"method": "online"}), headers=idem()
    ).get_json()
    return order["payment"]["checkout_url"], sent


def path_of(url: str) -> str:
    return url[url.index("/v1/") :]


def test_pay_sends_the_webhook_and_redirects_back_to_the_order_page(client, payment):
    url, sent = payment
    page = client.get(path_of(url), query_string={"return": ORDER_PAGE})
    assert f'<a href="{ORDER_PAGE}">Back to the shop</a>' in page.get_data(as_text=True).replace("&amp;", "&")
    pressed = client.post(path_of(url), query_string={"return": ORDER_PAGE}, data={"action": "pay"})
    assert (pressed.status_code, pressed.headers["Location"]) == (303, ORDER_PAGE)
    assert [event["type"] for event in sent] == ["payment.succeeded"]


def test_fail_stays_on_the_checkout_with_the_way_back(client, payment):
    url, sent = payment
    pressed = client.post(path_of(url), query_string={"return": ORDER_PAGE}, data={"action": "fail"})
    body = pressed.get_data(as_text=True)
    assert pressed.status_code == 200
    assert "Payment failed: try again." in body and "Back to the shop" in body
    assert [event["type"] for event in sent] == ["payment.failed"]


@pytest.mark.parametrize("address", ["javascript:alert(1)", "//evil.example/", "data:text/html,hi", ""])
def test_only_a_web_address_is_followed_back(client, payment, address):
    url, sent = payment
    pressed = client.post(path_of(url), query_string={"return": address}, data={"action": "pay"})
    assert pressed.status_code == 200 and "Location" not in pressed.headers
    assert "Back to the shop" not in pressed.get_data(as_text=True)
