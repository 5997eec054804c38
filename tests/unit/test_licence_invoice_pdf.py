"""The licence invoice's PDF read back as text (pdftotext): every field §14 (4) UStG asks for, with
its exact text — both parties' names and addresses, the platform's tax number and VAT id, the
merchant's VAT id, number, dates, period of supply, plan, net, VAT and gross — on one page."""

from __future__ import annotations

import io
from dataclasses import replace

from lxml import etree
from pypdf import PdfReader
from test_licence_invoices import KIOSK, PLATFORM, invoice_for
from test_zreport_pdf import needs_pdftotext, pages, pdf_text

from tresen.domain.licence_invoice_pdf import invoice_pdf

PDFAID = "{http://www.aiim.org/pdfa/ns/id/}"


def text(pdf: bytes) -> str:
    """The page's text as laid out, each run of whitespace one space (pdftotext's spacing is a guess)."""
    return " ".join(pdf_text(pdf, "-layout").split())


@needs_pdftotext
def test_the_page_has_every_field_of_an_invoice():
    pdf = invoice_pdf(invoice_for("business"))
    page = text(pdf)
    expected = [
        # the platform, in the letterhead, the sender line and the foot
        "Tresen Plattform GmbH",
        "Torstraße 109",
        "10119 Berlin",
        "Tresen Plattform GmbH · Torstraße 109 · 10119 Berlin",
        "Steuernummer 37/123/45678",
        "USt-IdNr. DE312345678",
        "E-Mail rechnungen@tresen.example",
        # the merchant
        "Café Lindner GmbH",
        "Bahnhofstraße 1",
        "60311 Frankfurt am Main",
        "Ihre USt-IdNr. DE298765432",
        # the invoice
        "Rechnung",
        "Rechnungsnummer TRESEN-2027-000017",
        "Rechnungsdatum 02.01.2027",
        "Leistungszeitraum 01.12.2026 – 31.12.2026",
        "Fällig am 16.01.2027",
        "Kundennummer cafe-lindner",
        # what is billed, and the amounts
        "1 Lizenz Tresen Business, Dezember 2026 1 Monat 79,00 € 79,00 €",
        "Nettobetrag 79,00 €",
        "Umsatzsteuer 19 % 15,01 €",
        "Gesamtbetrag 94,01 €",
        "Zahlbar ohne Abzug bis zum 16.01.2027.",
    ]
    assert [line for line in expected if line not in page] == []
    assert "E-Rechnung" not in page  # 94,01 € is a Kleinbetragsrechnung
    assert pages(pdf) == 1


@needs_pdftotext
def test_an_invoice_over_250_euros_says_that_it_carries_an_einvoice():
    page = text(invoice_pdf(invoice_for("enterprise")))
    assert "Lizenz Tresen Enterprise, Dezember 2026" in page
    assert "Nettobetrag 249,00 € Umsatzsteuer 19 % 47,31 € Gesamtbetrag 296,31 €" in page
    assert "E-Rechnung nach EN 16931 (ZUGFeRD/Factur-X)" in page


@needs_pdftotext
def test_only_the_numbers_a_party_has_are_printed():
    invoice = invoice_for("starter", recipient=KIOSK, issuer=replace(PLATFORM, vat_id=None, email=None))
    page = text(invoice_pdf(invoice))
    assert [line for line in ("Kiosk am Markt", "Marktplatz 3", "04109 Leipzig") if line not in page] == []
    assert "Steuernummer 37/123/45678" in page
    assert "USt-IdNr." not in page
    assert "E-Mail" not in page
    assert "Gesamtbetrag 34,51 €" in page


@needs_pdftotext
def test_a_merchant_abroad_has_its_country_in_the_address():
    vienna = replace(KIOSK, street="Graben 12", postal_code="1010", city="Wien", country="AT", vat_id="ATU12345678")
    page = text(invoice_pdf(invoice_for("starter", recipient=vienna)))
    assert "1010 Wien" in page
    assert " AT " in page
    assert "Ihre USt-IdNr. ATU12345678" in page


def pdfa_claim(pdf: bytes) -> tuple[str | None, str | None]:
    """The PDF/A part and conformance the document's XMP metadata claims."""
    reader = PdfReader(io.BytesIO(pdf))
    xmp = etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    claims = {}
    for description in xmp.iter(f"{{{rdf}}}Description"):
        claims.update({name: value for name, value in description.attrib.items() if name.startswith(PDFAID)})
        claims.update({child.tag: child.text for child in description if child.tag.startswith(PDFAID)})
    return claims.get(f"{PDFAID}part"), claims.get(f"{PDFAID}conformance")


def test_it_is_a_pdf_a_3b_in_german():
    pdf = invoice_pdf(invoice_for("starter"))
    assert pdfa_claim(pdf) == ("3", "B")
    assert pdf.startswith(b"%PDF-1.7")
    assert b"/GTS_PDFA1" in pdf  # the sRGB output intent PDF/A asks for
    assert b"/Lang (de-DE)" in pdf
