"""A customer record's fields, each checked and normalised the one way the HTTP API and the CSV import share.

A customer is reachable or recognisable by something: a name, an e-mail address or a phone number.
E-mail addresses are stored lower-case and phone numbers in E.164, so the same customer typed twice
is the same record (deduplication compares them as stored). Text is stored in Unicode NFC, so a
`Müller` typed on a Mac (decomposed) equals one typed on Windows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

FIELDS = ("given_name", "family_name", "email", "phone", "company", "birthday", "note")
MAX_NAME = 200
MAX_NOTE = 2000
# RFC 5321: a path holds at most 256 octets, the angle brackets included
MAX_EMAIL = 254
MAX_LENGTH = {
    "given_name": MAX_NAME,
    "family_name": MAX_NAME,
    "company": MAX_NAME,
    "email": MAX_EMAIL,
    "note": MAX_NOTE,
}
EARLIEST_BIRTHDAY = date(1900, 1, 1)
READ = (*FIELDS, "email_marketing")
NEEDED = frozenset({"given_name", "family_name", "email", "phone"})
MARKETING = {
    "ja": True,
    "yes": True,
    "true": True,
    "1": True,
    "x": True,
    "nein": False,
    "no": False,
    "false": False,
    "0": False,
}
# one @, something before it, and a domain of at least two labels, none of them empty
EMAIL = re.compile(r"[^@\s\x00-\x1f\x7f]+@(?:[^@\s\x00-\x1f\x7f.]+\.)+[^@\s\x00-\x1f\x7f.]+")
ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
# A note may span lines (a CSV cell may hold a newline); nothing else may hold a control character,
# which would otherwise reach receipts, exports and other people's screens.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True, slots=True)
class CustomerFields:
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    birthday: date | None = None
    note: str | None = None
    # Only an import knows it: the consent to e-mail marketing as the shop's file records it.
    # None means the file says nothing, which is not a refusal.
    email_marketing: bool | None = None


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL.fullmatch(email):
        raise ValueError("not an e-mail address")
    return email


def normalize_phone(value: str, region: str = "DE") -> str:
    """The number in E.164 (`+49301234567`). A number without a country code is read as one dialled
    in `region`. phonenumbers itself drops the trunk prefix Germans write in international form,
    `+49 (0) 30 …`: after the country code it strips the region's national prefix whenever the rest
    is still a valid number, so no "(0)" needs removing first."""
    import phonenumbers  # 20 ms to import: only where a phone number is read, not in every cold start

    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if number.extension:
        # E.164 has no extension: storing the number without it would silently dial someone else
        raise ValueError("a phone number without an extension is needed")
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        raise ValueError("not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_birthday(value: str, *, today: date | None = None) -> date:
    """`YYYY-MM-DD` or the German `DD.MM.YYYY` (also `D.M.YYYY`). Two-digit years are refused: a
    birthday `1.2.25` could be a child's or a great-grandmother's."""
    text = value.strip()
    if iso := ISO_DATE.fullmatch(text):
        year, month, day = iso.groups()
    elif german := GERMAN_DATE.fullmatch(text):
        day, month, year = german.groups()
    else:
        raise ValueError("not a date: write YYYY-MM-DD or DD.MM.YYYY")
    try:
        birthday = date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"there is no such date as {text}") from None
    if birthday < EARLIEST_BIRTHDAY:
        raise ValueError("a birthday before 1900")
    if birthday > (today or date.today()):
        raise ValueError("a birthday in the future")
    return birthday


def parse_marketing(value: str | None) -> bool | None:
    """Consent as lists write it: ja/nein, yes/no, true/false, 1/0, or an `x` in a checkbox column."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text not in MARKETING:
        raise ValueError("not yes or no: write ja, nein, x or leave it empty")
    return MARKETING[text]


def customer_fields(
    raw: Mapping[str, str | None], region: str = "DE", *, today: date | None = None
) -> tuple[CustomerFields | None, list[tuple[str, str]]]:
    """Every field of `raw` (keys of FIELDS, and `email_marketing` from an import; others are not
    read) stripped, empty as None, and normalised: the fields, or None and every (field, problem)."""
    values, errors = _checked(raw, region, today)
    if errors:
        return None, errors
    return CustomerFields(**values), errors


def _checked(raw: Mapping[str, str | None], region: str, today: date | None) -> tuple[dict, list[tuple[str, str]]]:
    values = {}
    errors = []
    for name in READ:
        value = raw.get(name)
        if value and (value := value.strip()):
            try:
                values[name] = _field(name, unicodedata.normalize("NFC", value), region, today)
            except ValueError as problem:
                errors.append((name, str(problem)))
    if NEEDED.isdisjoint(values) and NEEDED.isdisjoint(field for field, _ in errors):
        errors.append(("given_name", "a name, an e-mail address or a phone number is needed"))
    return values, errors


def _field(name: str, value: str, region: str, today: date | None) -> object:
    if name == "note":
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if (NOTE_CONTROL if name == "note" else CONTROL).search(value):
        raise ValueError("contains a control character")
    limit = MAX_LENGTH.get(name)
    if limit is not None and len(value) > limit:
        raise ValueError(f"at most {limit} characters")
    if name == "email":
        return normalize_email(value)
    if name == "phone":
        return normalize_phone(value, region)
    if name == "birthday":
        return parse_birthday(value, today=today)
    if name == "email_marketing":
        return parse_marketing(value)
    return value
