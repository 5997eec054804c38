"""A store's accounting settings: the DATEV chart of accounts (SKR03 or SKR04), the tax
consultant's and the client's numbers, and the accounts the bookings go to.

The bookings name accounts by role (`revenue_19`, `bank` …), never by number: each chart gives a
default number for every role, and a store may override any of them (its tax consultant often
keeps, say, a separate account per payment provider). The set of roles is closed — an unknown name
is refused, not ignored, so a typo cannot silently send revenue to a default account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import DomainError, FieldError

CHARTS = ("SKR03", "SKR04")
DEFAULT_CHART = "SKR03"
# DATEV's ranges: the consultant number (Beraternummer) has 4–7 digits and starts at 1001, the
# client number (Mandantennummer) 1–5 digits.
CONSULTANT_NUMBERS = (1001, 9_999_999)
CLIENT_NUMBERS = (1, 99_999)
ACCOUNT_DIGITS = (4, 8)  # DATEV's general ledger account length (Sachkontenlänge) is 4 to 8

# Every role an account can play in the bookings, with its standard account in each chart. Only
# accounts that exist in DATEV's standard SKR03/SKR04 are defaults; a store whose consultant set up
# others (a voucher liability of its own, a clearing account per provider) overrides them.
DEFAULT_ACCOUNTS: dict[str, dict[str, str]] = {
    # Erlöse 7 % USt / Erlöse 19 % USt: the revenue accounts with automatic VAT of each rate.
    "revenue_7": {"SKR03": "8300", "SKR04": "4300"},
    "revenue_19": {"SKR03": "8400", "SKR04": "4400"},
    # Multi-purpose gift cards (Mehrzweckgutscheine, § 3 Abs. 15 UStG) are no revenue when sold:
    # the money is owed to the holder until redeemed. Sonstige Verbindlichkeiten is the standard
    # liability for that; many consultants open a dedicated "Verbindlichkeiten aus Gutscheinen"
    # (not in the standard charts, often 1604/3304) and override this.
    "giftcard_liability": {"SKR03": "1700", "SKR04": "3500"},
    # Tips are passed on to staff (no revenue, outside VAT, see docs/api.md "Money"): money taken
    # in for others is a durchlaufender Posten.
    "tips": {"SKR03": "1590", "SKR04": "1370"},
    # What a payment provider owes us between a customer's payment and the payout: Geldtransit,
    # the standard transit account for money between two of the business's own accounts.
    "provider_clearing": {"SKR03": "1360", "SKR04": "1460"},
    # Card payments at a terminal, until their payout: money in transit as well, so Geldtransit by
    # default (the standard charts have one transit account); a consultant who keeps card money
    # apart sets an account of its own (often 1361 / 1461), and each payout clears both accounts by
    # what it paid out of each.
    "card_clearing": {"SKR03": "1360", "SKR04": "1460"},
    # Kasse: what is paid at the counter (on-site orders, gift cards sold at the counter).
    "cash": {"SKR03": "1000", "SKR04": "1600"},
    # Bank (Guthaben bei Kreditinstituten): where payouts arrive.
    "bank": {"SKR03": "1200", "SKR04": "1800"},
    # The provider's fees: Nebenkosten des Geldverkehrs.
    "provider_fees": {"SKR03": "4970", "SKR04": "6855"},
}
ACCOUNT_NAMES = tuple(DEFAULT_ACCOUNTS)


@dataclass(frozen=True)
class AccountingSettings:
    chart: str = DEFAULT_CHART
    consultant_number: int | None = None
    client_number: int | None = None
    accounts: Mapping[str, str] = field(default_factory=dict)  # only the overrides

    def account(self, name: str) -> str:
        """The account number a booking of role `name` goes to."""
        return self.accounts.get(name) or DEFAULT_ACCOUNTS[name][self.chart]

    def effective_accounts(self) -> dict[str, str]:
        return {name: self.account(name) for name in ACCOUNT_NAMES}

    def as_dict(self) -> dict[str, Any]:
        """The settings as stored and journaled (overrides sorted, so equal settings compare equal)."""
        return {
            "chart": self.chart,
            "consultant_number": self.consultant_number,
            "client_number": self.client_number,
            "accounts": dict(sorted(self.accounts.items())),
        }


def accounting_settings(
    chart: str, consultant_number: int | None, client_number: int | None, accounts: Mapping[str, str]
) -> AccountingSettings:
    """Settings checked as a whole; raises validation_failed naming every field that is wrong.

    The HTTP model already checks each field's form; this is the rule between them: DATEV has one
    account length per client, so the accounts in use (defaults included) must all have the same
    number of digits — a 5-digit client overrides every role, not some."""
    errors = []
    if chart not in CHARTS:
        errors.append(FieldError("chart", f"must be one of {', '.join(CHARTS)}"))
    if consultant_number is not None and not in_range(consultant_number, CONSULTANT_NUMBERS):
        errors.append(FieldError("consultant_number", "must be an integer from 1001 to 9999999"))
    if client_number is not None and not in_range(client_number, CLIENT_NUMBERS):
        errors.append(FieldError("client_number", "must be an integer from 1 to 99999"))
    for name, number in sorted(accounts.items()):
        if name not in DEFAULT_ACCOUNTS:
            errors.append(FieldError(f"accounts.{name}", f"unknown account name; known: {', '.join(ACCOUNT_NAMES)}"))
        elif not (number.isascii() and number.isdigit() and ACCOUNT_DIGITS[0] <= len(number) <= ACCOUNT_DIGITS[1]):
            errors.append(FieldError(f"accounts.{name}", "must be 4 to 8 digits"))
    if errors:
        raise DomainError("validation_failed", "The accounting settings are invalid.", errors)
    settings = AccountingSettings(chart, consultant_number, client_number, dict(accounts))
    lengths = {len(number) for number in settings.effective_accounts().values()}
    if len(lengths) > 1:
        detail = "All accounts in use must have the same number of digits (DATEV has one account length per client)."
        raise DomainError("validation_failed", detail, [FieldError("accounts", detail)])
    return settings


def in_range(value: int, bounds: tuple[int, int]) -> bool:
    return type(value) is int and bounds[0] <= value <= bounds[1]
