"""Customer lists as shops and accountants have them: built here as the bytes Excel and other tools write."""

from __future__ import annotations

import codecs
import io
import tracemalloc
from collections import deque
from datetime import date

import pytest

from tresen.domain.customer_csv import (
    MAX_ROWS,
    CsvHeaderError,
    CsvRow,
    CsvTooLarge,
    errors_csv,
    read_customer_csv,
)
from tresen.domain.customer_fields import CustomerFields

TODAY = date(2025, 6, 15)
NOT_UTF8 = "is not UTF-8 text: save the file as CSV UTF-8"


def read(data: bytes) -> tuple[list[str], list[CsvRow]]:
    warnings, rows = read_customer_csv(io.BytesIO(data), today=TODAY)
    return warnings, list(rows)


def test_windows_1252_with_semicolons_as_german_excel_saves_it():
    text = (
        "Vorname;Nachname;E-Mail;Telefon;Straße;Geburtstag\r\n"
        "Jörg;Müller;Joerg.Mueller@example.de;0171/1234567;Hauptstraße 5;07.03.1985\r\n"
        "Änne;Groß;;+49 (0) 30 1234567;Straße des 17. Juni 1;\r\n"
    )
    data = text.encode("cp1252")
    assert "ö".encode() not in data  # truly Windows-1252, not UTF-8
    warnings, rows = read(data)
    assert warnings == ["ignored columns: Straße"]
    assert rows == [
        CsvRow(
            line=2,
            fields=CustomerFields(
                given_name="Jörg",
                family_name="Müller",
                email="joerg.mueller@example.de",
                phone="+491711234567",
                birthday=date(1985, 3, 7),
            ),
            errors=(),
            raw=("Jörg", "Müller", "Joerg.Mueller@example.de", "0171/1234567", "Hauptstraße 5", "07.03.1985"),
        ),
        CsvRow(
            line=3,
            fields=CustomerFields(given_name="Änne", family_name="Groß", phone="+49301234567"),
            errors=(),
            raw=("Änne", "Groß", "", "+49 (0) 30 1234567", "Straße des 17. Juni 1", ""),
        ),
    ]


def test_utf8_with_bom_and_commas_as_excel_saves_csv_utf8():
    text = "given_name,family_name,email,phone,company\nJörg,Müller,jm@example.de,0049 30 1234567,Café Straße\n"
    warnings, rows = read_customer_csv(io.BytesIO(codecs.BOM_UTF8 + text.encode()), today=TODAY)
    assert (rows.header, rows.delimiter) == (("given_name", "family_name", "email", "phone", "company"), ",")
    assert warnings == []
    assert [(row.line, row.fields, row.errors) for row in rows] == [
        (
            2,
            CustomerFields(
                given_name="Jörg",
                family_name="Müller",
                email="jm@example.de",
                phone="+49301234567",
                company="Café Straße",
            ),
            (),
        )
    ]


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("0171 1234567", "+491711234567"),
        ("0171/1234567", "+491711234567"),
        ("+49 (0) 30 1234567", "+49301234567"),
        ("0049 30 1234567", "+49301234567"),
        ("+49 171 1234567", "+491711234567"),
        ("(030) 1234567", "+49301234567"),
    ],
)
def test_german_phone_formats_in_a_file(typed, e164):
    _, rows = read(f"Handy;Vorname\n{typed};Anna\n".encode("cp1252"))
    assert [row.fields.phone for row in rows] == [e164]


def test_header_names_ignore_case_and_spaces_and_unknown_columns_are_named_once():
    text = (
        " VORNAME ;Nachname;e-mail;Mobil;FIRMA;Geburtstag;Notiz;Newsletter;PLZ;Ort;\n"
        "Anna;Berg;a@example.de;;;;;x;10115;Berlin;\n"
    )
    warnings, rows = read(text.encode())
    assert warnings == ["ignored columns: PLZ, Ort"]
    assert [row.fields for row in rows] == [
        CustomerFields(given_name="Anna", family_name="Berg", email="a@example.de", email_marketing=True)
    ]


def test_several_columns_for_one_field_take_the_first_filled_in():
    text = "Vorname;Telefon;Handy\nAnna;030 1234567;0171 1234567\nBert;;0171 7654321\n"
    warnings, rows = read(text.encode())
    assert warnings == ["columns Telefon, Handy all give phone: the first one filled in is taken"]
    assert [row.fields.phone for row in rows] == ["+49301234567", "+491717654321"]


def test_quoted_cells_hold_the_delimiter_a_quote_and_line_breaks():
    text = "\r\n".join(
        [
            "Vorname;Nachname;Firma;Notiz",
            'Anna;Berg;"Berg; Söhne";"Zeile 1',
            'Zeile 2 mit ""Zitat"""',
            "Bert;Kurz;;",
            "",
        ]
    )
    _, rows = read(text.encode("cp1252"))
    assert [(row.line, row.fields.company, row.fields.note) for row in rows] == [
        (2, "Berg; Söhne", 'Zeile 1\nZeile 2 mit "Zitat"'),
        (4, None, None),
    ]


def test_the_delimiter_is_what_the_header_has_more_of_outside_quotes():
    _, rows = read(b'Vorname;"Nachname, Titel";Firma\nAnna;Berg, Dr.;Caf\xe9\n')
    assert rows[0].raw == ("Anna", "Berg, Dr.", "Café")
    _, iterator = read_customer_csv(io.BytesIO(b'"a;b;c",Vorname,E-Mail\n'))
    assert iterator.delimiter == ","


def test_duplicate_rows_are_both_read_deduplicating_is_the_importers_job():
    text = "E-Mail;Vorname\nanna@example.de;Anna\nANNA@example.de ;Anna\n"
    _, rows = read(text.encode())
    assert [(row.line, row.fields) for row in rows] == [
        (2, CustomerFields(given_name="Anna", email="anna@example.de")),
        (3, CustomerFields(given_name="Anna", email="anna@example.de")),
    ]


def test_bad_rows_in_the_middle_are_reported_with_line_and_field():
    text = (
        "Vorname;Nachname;E-Mail;Geburtstag\r\n"
        "Anna;Berg;anna@example.de;01.02.1990\r\n"
        "Bert;Kurz;bert(at)example.de;\r\n"
        "Clara;Lang;clara@example.de;31.02.1990\r\n"
        "Dora;Weit;dora@example.de;\r\n"
    )
    _, rows = read(text.encode())
    assert [(row.line, row.fields is None, row.errors) for row in rows] == [
        (2, False, ()),
        (3, True, (("email", "not an e-mail address"),)),
        (4, True, (("birthday", "there is no such date as 31.02.1990"),)),
        (5, False, ()),
    ]
    assert rows[2].raw == ("Clara", "Lang", "clara@example.de", "31.02.1990")
    assert rows[2].reason == "birthday: there is no such date as 31.02.1990"


def test_blank_lines_and_empty_rows_are_skipped_but_counted_as_lines():
    text = "\r\nVorname;Nachname\r\nAnna;Berg\r\n\r\n;\r\n  ;  \r\nBert;Kurz"
    warnings, rows = read(text.encode())
    assert (warnings, [(row.line, row.fields.given_name) for row in rows]) == ([], [(3, "Anna"), (7, "Bert")])


def test_line_ends_of_old_mac_excel():
    _, rows = read("Vorname\rAnna\rJörg\r".encode("cp1252"))
    assert [(row.line, row.fields.given_name) for row in rows] == [(2, "Anna"), (3, "Jörg")]


def test_a_row_with_more_cells_than_the_header_is_an_error_but_trailing_empty_cells_are_not():
    text = "Vorname;Nachname\nAnna;Berg;;\nBert;Kurz;Straße 1\nClara\n"
    _, rows = read(text.encode())
    assert [(row.line, row.errors) for row in rows] == [
        (2, ()),
        (3, (("", "3 cells, but the header has 2"),)),
        (4, ()),
    ]


def test_a_header_only_file_has_no_rows():
    assert read(b"Vorname;Nachname;E-Mail\r\n") == ([], [])
    assert read(codecs.BOM_UTF8 + b"email") == ([], [])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\r\n \r\n", "the file is empty"),
        (b";;\r\n", "the file is empty"),
        (b"Name;Strasse;PLZ\r\nAnna;Weg 1;10115\r\n", "no known column in the header; the columns are named "),
        ("Vorname;Nachname\n".encode("utf-16"), "the file is UTF-16 text: save it as CSV (UTF-8 or Windows)"),
        (b"Vorname;Nach\x81name\n", "the header: line 1 is not Windows-1252 text: save the file as CSV UTF-8"),
    ],
)
def test_what_is_no_customer_list(data, message):
    with pytest.raises(CsvHeaderError) as refused:
        read_customer_csv(io.BytesIO(data))
    assert str(refused.value).startswith(message)


def test_the_header_error_names_the_columns_it_knows():
    with pytest.raises(CsvHeaderError) as refused:
        read_customer_csv(io.BytesIO(b"Name\n"))
    assert "vorname, family_name, nachname, email, e-mail, phone, telefon, handy, mobil" in str(refused.value)


def test_an_encoding_that_changes_halfway_is_an_error_of_those_lines():
    data = "Vorname;Nachname\r\nJörg;Müller\r\n".encode() + "Änne;Groß\r\n".encode("cp1252") + "Anna;Weiß\r\n".encode()
    _, rows = read(data)
    assert [(row.line, row.fields and row.fields.family_name, row.errors) for row in rows] == [
        (2, "Müller", ()),
        (3, None, (("", f"line 3 {NOT_UTF8}"),)),
        (4, "Weiß", ()),
    ]


def test_the_first_line_that_is_not_ascii_decides_the_encoding_even_after_64_kib():
    ascii_rows = "".join(f"Kunde{n};Nummer{n}\r\n" for n in range(5000))
    assert len(ascii_rows) > 64 * 1024
    data = ("Vorname;Nachname\r\n" + ascii_rows + "Jörg;Müller\r\nÄnne;Groß\r\n").encode("cp1252")
    _, rows = read(data)
    assert len(rows) == 5002
    assert [(row.line, row.fields.given_name, row.fields.family_name) for row in rows[-2:]] == [
        (5002, "Jörg", "Müller"),
        (5003, "Änne", "Groß"),
    ]


def test_a_line_over_128_kib_or_a_quote_that_never_closes_costs_only_their_rows():
    text = "Vorname;Notiz\r\nAnna;ok\r\nBert;" + "x" * 200_000 + "\r\nClara;ok\r\n"
    _, rows = read(text.encode())
    assert [(row.line, row.errors) for row in rows] == [
        (2, ()),
        (3, (("", "line 3 is longer than 128 KiB"),)),
        (4, ()),
    ]
    text = 'Vorname;Notiz\r\nAnna;ok\r\nBert;"offen\r\n' + ("y" * 70_000 + "\r\n") * 2 + "Clara;ok\r\n"
    _, rows = read(text.encode())
    assert [(row.line, row.errors) for row in rows] == [
        (2, ()),
        (3, (("", "line 3: field larger than field limit (131072)"),)),
        (6, ()),
    ]


def test_marketing_consent_as_the_file_says_it():
    text = "Vorname;Newsletter\nAnna;ja\nBert;\nClara;nein\nDora;vielleicht\n"
    _, rows = read(text.encode())
    assert [(row.fields and row.fields.email_marketing, row.errors) for row in rows] == [
        (True, ()),
        (None, ()),
        (False, ()),
        (None, (("email_marketing", "not yes or no: write ja, nein, x or leave it empty"),)),
    ]


def test_the_errors_file_is_utf8_with_the_reason_first():
    rows = [(("Bert", "Kurz", "bert(at)example.de"), "email: not an e-mail address"), (("Ä", "x;y", 'a "b"'), "zu")]
    data = b"".join(errors_csv(rows, ["Vorname", "Nachname", "E-Mail"], delimiter=";"))
    assert data == (
        codecs.BOM_UTF8
        + b"reason;Vorname;Nachname;E-Mail\r\n"
        + b"email: not an e-mail address;Bert;Kurz;bert(at)example.de\r\n"
        + 'zu;Ä;"x;y";"a ""b"""\r\n'.encode()
    )


def test_the_errors_file_comes_in_chunks_and_reads_back():
    failed = [
        ((f"Kunde {n}", "Straße", f"kunde{n}(at)example.de"), "email: not an e-mail address") for n in range(3000)
    ]
    chunks = list(errors_csv(failed, ["Vorname", "Nachname", "E-Mail"]))
    assert len(chunks) == 4
    assert all(64 * 1024 <= len(chunk) < 66 * 1024 for chunk in chunks[:-1])
    warnings, rows = read(b"".join(chunks))
    assert warnings == ["ignored columns: reason"]
    assert len(rows) == 3000
    assert (rows[-1].line, rows[-1].raw, rows[-1].errors) == (
        3001,
        ("email: not an e-mail address", "Kunde 2999", "Straße", "kunde2999(at)example.de"),
        (("email", "not an e-mail address"),),
    )


def test_a_large_file_is_streamed_in_little_memory_and_stops_after_max_rows(tmp_path):
    path = tmp_path / "kunden.csv"
    with path.open("wb") as file:
        file.write("Vorname;Nachname\r\n".encode("cp1252"))
        for start in range(0, MAX_ROWS + 1, 10_000):
            rows = (f"Kunde{n};Müller-Lüdenscheidt\r\n" for n in range(start, start + 10_000))
            file.write("".join(rows).encode("cp1252"))
    size = path.stat().st_size
    last: deque[CsvRow] = deque(maxlen=1)  # drains the rows in C: a loop here would cost more than the reading
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            _, rows = read_customer_csv(stream, today=TODAY)
            with pytest.raises(CsvTooLarge, match="^more than 100000 rows: split the file$"):
                last.extend(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert MAX_ROWS == 100_000
    # the names count up, so the last row read is the 100 000th
    assert last.pop() == CsvRow(
        100_001,
        CustomerFields(given_name="Kunde99999", family_name="Müller-Lüdenscheidt"),
        (),
        ("Kunde99999", "Müller-Lüdenscheidt"),
    )
    assert peak < 20 * 1024 * 1024
    assert size > 3_000_000
    assert peak < size / 2  # the file was never held whole
