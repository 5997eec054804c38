"""The sandbox checkout page (dev mode): Pay and Fail buttons that send signed webhooks.

Like a provider's hosted checkout, it sends the customer back to the shop: the ordering page appends
`?return=<its order page>`; after Pay the browser is redirected there, after Fail the page offers the
way back. Only http(s) addresses are followed (the sandbox runs in dev mode only).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from werkzeug.wrappers import Request, Response

from ..domain.payments import PaymentRecord

PAGE = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Sandbox checkout</title>
<style>body{{font-family:system-ui;max-width:28rem;margin:3rem auto;padding:0 1rem}}
button{{font-size:1.1rem;padding:.6rem 1.4rem;margin-right:.6rem}}</style></head>
<body><h1>Sandbox checkout</h1>
<p>Order <code>{order_id}</code>: <strong>{amount}</strong></p>
<p>{message}</p>
<form method="post">
<button name="action" value="pay">Pay</button>
<button name="action" value="fail">Fail</button>
</form>{back}</body></html>"""


def return_address(request: Request) -> str | None:
    address = request.args.get("return", "")
    parts = urlsplit(address)
    return address if parts.scheme in ("http", "https") and parts.netloc and len(address) <= 2000 else None


def checkout_page(
    payment: PaymentRecord, message: str = "This is the sandbox: no money moves.", back_to: str | None = None
) -> Response:
    amount = f"{payment.amount // 100},{payment.amount % 100:02d} {escape(payment.currency)}"
    back = f'<p><a href="{escape(back_to)}">Back to the shop</a></p>' if back_to else ""
    html = PAGE.format(order_id=escape(payment.order_id), amount=amount, message=escape(message), back=back)
    return Response(html, content_type="text/html; charset=utf-8")


def after_press(request: Request, payment: PaymentRecord, action: str) -> Response:
    """After Pay, back to the shop if the page came from there; else the page says what happened."""
    back_to = return_address(request)
    if action == "pay" and back_to:
        return Response(status=303, headers={"Location": back_to})
    return checkout_page(payment, "Payment sent." if action == "pay" else "Payment failed: try again.", back_to)
