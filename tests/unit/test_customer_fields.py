"""A customer's fields, checked and normalised the one way the HTTP API and the CSV import share."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from tresen.domain.customer_fields import (
    CustomerFields,
    customer_fields,
    normalize_email,
    normalize_phone,
    parse_birthday,
    parse_marketing,
)

TODAY = date(2025, 6, 15)
NEEDED = ("given_name", "a name, an e-mail address or a phone number is needed")


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0171 1234567", "+491711234567"),
        ("0171/1234567", "+491711234567"),
        ("0171-1234567", "+491711234567"),
        ("+49 (0) 30 1234567", "+49301234567"),
        ("+49 (0)171-1234567", "+491711234567"),
        ("0049 30 1234567", "+49301234567"),
        ("+49 171 1234567", "+491711234567"),
        ("(030) 1234567", "+49301234567"),
        ("0 30 / 12 34 56 7", "+49301234567"),
        (" +43 1 5123456 ", "+4315123456"),
        ("+41 44 668 18 00", "+41446681800"),
    ],
)
def test_german_and_foreign_phone_numbers_become_e164(typed, e164):
    assert normalize_phone(typed) == e164


def test_a_phone_number_without_country_code_is_read_in_the_region():
    assert normalize_phone("01 5123456", region="AT") == "+4315123456"
    assert normalize_phone("030 1234567", region="DE") == "+49301234567"


@pytest.mark.parametrize("typed", ["12", "keine", "0171 12", "+49 30 12", "", "+99 123456"])
def test_what_is_no_phone_number_is_refused(typed):
    with pytest.raises(ValueError, match="^not a phone number$"):
        normalize_phone(typed)


def test_an_extension_is_refused_rather_than_dropped():
    with pytest.raises(ValueError, match="^a phone number without an extension is needed$"):
        normalize_phone("030 1234567 ext. 89")


def test_e_mail_addresses_are_stripped_and_lower_cased():
    assert normalize_email("  Anna.Mueller+Cafe@Example.DE ") == "anna.mueller+cafe@example.de"
    assert normalize_email("jörg@straße.de") == "jörg@straße.de"


@pytest.mark.parametrize(
    "typed",
    ["anna", "anna@", "@example.de", "anna@example", "an na@example.de", "anna@@example.de", "a@b@example.de"]
    + ["anna@example..de", "anna@.example.de", "anna@example.de.", "anna@exam ple.de", "anna\x00@example.de"],
)
def test_what_is_no_e_mail_address_is_refused(typed):
    with pytest.raises(ValueError, match="^not an e-mail address$"):
        normalize_email(typed)


@pytest.mark.parametrize("typed", ["1985-03-07", "07.03.1985", "7.3.1985", " 7.03.1985 "])
def test_birthdays_in_iso_and_german_form(typed):
    assert parse_birthday(typed, today=TODAY) == date(1985, 3, 7)


def test_birthdays_from_1900_to_today():
    assert parse_birthday("01.01.1900", today=TODAY) == date(1900, 1, 1)
    assert parse_birthday("2025-06-15", today=TODAY) == TODAY
    with pytest.raises(ValueError, match="^a birthday before 1900$"):
        parse_birthday("31.12.1899", today=TODAY)
    with pytest.raises(ValueError, match="^a birthday in the future$"):
        parse_birthday("16.06.2025", today=TODAY)


def test_a_birthday_in_the_future_of_the_real_clock_is_refused_without_a_today():
    with pytest.raises(ValueError, match="^a birthday in the future$"):
        parse_birthday(f"{date.today().year + 1}-01-01")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31.02.1990", "there is no such date as 31.02.1990"),
        ("1990-13-01", "there is no such date as 1990-13-01"),
        ("7.3.85", "not a date: write YYYY-MM-DD or DD.MM.YYYY"),
        ("1985/03/07", "not a date: write YYYY-MM-DD or DD.MM.YYYY"),
        ("07.03.1985 12:00", "not a date: write YYYY-MM-DD or DD.MM.YYYY"),
        ("März 1985", "not a date: write YYYY-MM-DD or DD.MM.YYYY"),
        ("١٩٨٥-٠٣-٠٧", "not a date: write YYYY-MM-DD or DD.MM.YYYY"),
    ],
)
def test_what_is_no_birthday_says_why(typed, message):
    with pytest.raises(ValueError) as refused:
        parse_birthday(typed, today=TODAY)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("typed", "consent"),
    [("ja", True), ("Yes", True), ("TRUE", True), ("1", True), (" x ", True), ("X", True)]
    + [("nein", False), ("No", False), ("false", False), ("0", False), ("", None), ("  ", None), (None, None)],
)
def test_marketing_consent_as_lists_write_it(typed, consent):
    assert parse_marketing(typed) is consent


def test_marketing_consent_that_says_neither():
    with pytest.raises(ValueError, match="^not yes or no: write ja, nein, x or leave it empty$"):
        parse_marketing("vielleicht")


def test_a_full_record_is_stripped_and_normalised():
    raw = {
        "given_name": "  Jörg ",
        "family_name": "Müller",
        "email": " Joerg.Mueller@Example.de",
        "phone": "+49 (0) 30 1234567",
        "company": "Café Straße GmbH",
        "birthday": "7.3.1985",
        "note": "mag Hafermilch\r\nkein Zucker",
        "email_marketing": "ja",
        "street": "Hauptstraße 5",
    }
    assert customer_fields(raw, today=TODAY) == (
        CustomerFields(
            given_name="Jörg",
            family_name="Müller",
            email="joerg.mueller@example.de",
            phone="+49301234567",
            company="Café Straße GmbH",
            birthday=date(1985, 3, 7),
            note="mag Hafermilch\nkein Zucker",
            email_marketing=True,
        ),
        [],
    )


def test_empty_and_missing_fields_are_none():
    fields, errors = customer_fields({"email": "anna@example.de", "given_name": "   ", "phone": None}, today=TODAY)
    assert (fields, errors) == (CustomerFields(email="anna@example.de"), [])


def test_text_is_stored_composed():
    decomposed = unicodedata.normalize("NFD", "Müller")
    assert decomposed != "Müller"
    fields, _ = customer_fields({"family_name": decomposed})
    assert fields.family_name == "Müller"


@pytest.mark.parametrize("needed", ["given_name", "family_name", "email", "phone"])
def test_any_one_of_name_e_mail_or_phone_is_enough(needed):
    value = {"email": "anna@example.de", "phone": "0171 1234567"}.get(needed, "Anna")
    fields, errors = customer_fields({needed: value}, today=TODAY)
    assert errors == []
    assert fields is not None


def test_a_company_alone_is_not_a_customer():
    assert customer_fields({"company": "Café Anna", "note": "Stammkunde"}) == (None, [NEEDED])
    assert customer_fields({}) == (None, [NEEDED])


def test_every_problem_is_listed_and_a_bad_e_mail_still_counts_as_given():
    raw = {"email": "anna(at)example.de", "birthday": "31.02.1990", "phone": "12", "email_marketing": "vielleicht"}
    assert customer_fields(raw, today=TODAY) == (
        None,
        [
            ("email", "not an e-mail address"),
            ("phone", "not a phone number"),
            ("birthday", "there is no such date as 31.02.1990"),
            ("email_marketing", "not yes or no: write ja, nein, x or leave it empty"),
        ],
    )


def test_lengths_are_limited():
    at_limit = {"given_name": "a" * 200, "family_name": "b" * 200, "company": "c" * 200, "note": "d" * 2000}
    assert customer_fields(at_limit)[1] == []
    email = "a" * 243 + "@example.de"
    assert len(email) == 254
    assert customer_fields({"email": email})[1] == []
    over = {"given_name": "a" * 201, "family_name": "b" * 201, "company": "c" * 201, "note": "d" * 2001}
    assert customer_fields({**over, "email": "a" + email}) == (
        None,
        [
            ("given_name", "at most 200 characters"),
            ("family_name", "at most 200 characters"),
            ("email", "at most 254 characters"),
            ("company", "at most 200 characters"),
            ("note", "at most 2000 characters"),
        ],
    )


def test_control_characters_are_refused_but_a_note_may_span_lines():
    fields, errors = customer_fields({"given_name": "Anna", "note": "eins\nzwei\tdrei"})
    assert (fields.note, errors) == ("eins\nzwei\tdrei", [])
    assert customer_fields({"given_name": "An\nna", "note": "bell\x07"}) == (
        None,
        [("given_name", "contains a control character"), ("note", "contains a control character")],
    )
