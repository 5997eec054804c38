"""The sandbox's checkout (dev mode), standing in for a provider's hosted one: the customer presses
Pay or Fail, and the sandbox reports the outcome to our webhook as a provider would."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import DomainError
from ..domain.payments import PaymentRecord
from .order_ports import OrderUnitOfWork

DECLINED = "The sandbox card was declined."


@dataclass(frozen=True)
class PressCheckoutButton:
    payment_id: str
    action: str | None  # pay or fail, as the form sent it


def sandbox_payment(uow: OrderUnitOfWork, payment_id: str) -> PaymentRecord:
    payment = uow.payments.read(payment_id)
    if payment is None or payment.provider != "sandbox":
        raise DomainError("not_found", "No such sandbox payment.")
    return payment


def press_checkout_button(command: PressCheckoutButton, uow: OrderUnitOfWork) -> PaymentRecord:
    """The payment pressed for; its outcome reaches our webhook shortly after."""
    payment = sandbox_payment(uow, command.payment_id)
    if command.action not in ("pay", "fail"):
        raise DomainError("validation_failed", "Press Pay or Fail.")
    uow.sandbox_checkout.report(payment, None if command.action == "pay" else DECLINED)
    return payment
