"""RFC 9457 problem details with stable codes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..domain.errors import DomainError, FieldError

PROBLEM_TYPE = "https://tresen.dev/problems/{code}"

# Every code the API may answer, with its status and title. Codes never change meaning.
PROBLEMS: dict[str, tuple[int, str]] = {
    "bad_request": (400, "Bad request"),
    "malformed_json": (400, "The body is not valid JSON"),
    "malformed_body": (400, "The body could not be read"),
    "idempotency_key_required": (400, "Idempotency-Key header required"),
    "invalid_signature": (400, "Invalid webhook signature"),
    "unauthenticated": (401, "Authentication required"),
    "forbidden": (403, "Not allowed"),
    "passkey_required": (403, "Store passkey required"),
    "passkey_invalid": (403, "Wrong store passkey"),
    "invitation_email_mismatch": (403, "The invitation was sent to another e-mail address"),
    "not_found": (404, "Not found"),
    "store_not_found": (404, "Store not found"),
    "order_not_found": (404, "Order not found"),
    "giftcard_not_found": (404, "Gift card not found"),
    "entry_not_found": (404, "Journal entry not found"),
    "not_checkpointed": (404, "Not covered by a signed checkpoint yet"),
    "checkpoint_not_found": (404, "No checkpoint at this tree size"),
    "closing_not_found": (404, "Closing not found"),
    "statement_not_found": (404, "Statement not found"),
    "api_key_not_found": (404, "API key not found"),
    "invitation_not_found": (404, "Invitation not found"),
    "member_not_found": (404, "Member not found"),
    "invoice_not_found": (404, "Invoice not found"),
    "webhook_endpoint_not_found": (404, "Webhook endpoint not found"),
    "webhook_delivery_not_found": (404, "Webhook delivery not found"),
    "tour_not_found": (404, "Delivery tour not found"),
    "workplace_not_found": (404, "Workplace not found"),
    "terminal_not_found": (404, "Terminal not found"),
    "shift_not_found": (404, "Shift not found"),
    "promotion_not_found": (404, "Promotion not found"),
    "product_not_found": (404, "Product not found"),
    "purchase_order_not_found": (404, "Purchase order not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "not_acceptable": (406, "Not acceptable"),
    "store_closed": (409, "Store closed"),
    "store_exists": (409, "A store with this id exists"),
    "email_taken": (409, "This e-mail address belongs to another store"),
    "already_member": (409, "Already a member of this store"),
    "last_owner": (409, "A store keeps at least one owner"),
    "invoice_paid": (409, "The invoice is paid"),
    "webhook_endpoint_disabled": (409, "The webhook endpoint is disabled"),
    "customer_exists": (409, "A customer with this e-mail address or phone number exists"),
    "customer_not_found": (404, "Customer not found"),
    "import_not_found": (404, "Import not found"),
    "version_mismatch": (412, "The record changed since you read it"),
    "provider_not_ready": (409, "The store cannot take payments with this provider yet"),
    "connect_disabled": (409, "Stripe Connect is not used by this deployment"),
    "journal_empty": (409, "The journal has no entries to sign"),
    "nothing_to_close": (409, "Nothing to close since the previous closing"),
    "invalid_transition": (409, "Invalid status transition"),
    "tour_not_started": (409, "The delivery tour is not on its way"),
    "order_in_tour": (409, "The order is on another delivery tour"),
    "shift_open": (409, "A shift is open on the workplace"),
    "shift_closed": (409, "The shift is not open"),
    "payment_in_progress": (409, "A terminal is taking a payment"),
    "payment_not_cancelable": (409, "The payment is over"),
    "payment_completed": (409, "The card was charged"),
    "not_a_card_payment": (409, "The order is not paid by card at a terminal"),
    "store_address_required": (409, "The store's postal address is needed"),
    "registration_refused": (409, "The provider refused the terminal's registration"),
    "no_payment_pending": (409, "The terminal is not asking for a payment"),
    "terminal_busy": (409, "The terminal is taking another payment"),
    "terminal_offline": (409, "The terminal is offline"),
    "order_not_paid": (409, "Order not paid"),
    "order_not_unpaid": (409, "Order already paid or closed"),
    "refund_exceeds_paid": (409, "Refund exceeds what was paid"),
    "product_unavailable": (409, "Product unavailable"),
    "promotion_not_applicable": (409, "The promotion does not apply to this order"),
    "promotion_code_taken": (409, "Another promotion has this code"),
    "out_of_stock": (409, "Not enough in stock"),
    "insufficient_stock": (409, "The stock cannot go below 0"),
    "over_delivery": (409, "More arrived than the purchase order has open"),
    "giftcard_not_active": (409, "Gift card not active"),
    "giftcard_insufficient_funds": (409, "Gift card balance too low"),
    "giftcard_authorization_not_found": (409, "No such open authorization on this card"),
    "giftcard_not_deactivated": (409, "Gift card is not deactivated"),
    "giftcard_has_holds": (409, "Gift card has open authorizations"),
    "giftcard_authorization_conflict": (409, "Authorization code clash, please retry"),
    "giftcard_balance_limit": (409, "Gift card balance limit reached"),
    "idempotency_in_progress": (409, "A request with this Idempotency-Key is still in progress"),
    "invitation_gone": (410, "The invitation was used, revoked or has expired"),
    "payload_too_large": (413, "Request body too large"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "passkey_locked": (423, "Protected actions locked"),
    "rate_limited": (429, "Too many requests"),
    "validation_failed": (422, "Validation failed"),
    "idempotency_key_reused": (422, "Idempotency-Key reused with a different request"),
    "not_supported": (422, "Not supported yet"),
    "internal_error": (500, "Internal error"),
    "service_unavailable": (503, "Service temporarily unavailable"),
    "journal_recovery_needed": (503, "Journal recovery needed"),
    "journal_tiles_missing": (503, "Stored proof hashes missing"),
}


@dataclass
class ApiProblem(Exception):
    code: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return PROBLEMS[self.code][0]

    def body(self) -> bytes:
        status, title = PROBLEMS[self.code]
        doc = {
            "type": PROBLEM_TYPE.format(code=self.code),
            "title": title,
            "status": status,
            "detail": self.detail,
            "code": self.code,
        }
        if status == 422 or self.errors:
            doc["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return json.dumps(doc | self.extra, ensure_ascii=False).encode()

    @classmethod
    def from_domain(cls, error: DomainError) -> ApiProblem:
        return cls(error.code, error.detail, list(error.errors), extra=dict(error.extra))
