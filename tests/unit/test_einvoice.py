"""The e-invoice: CII XML valid against the Factur-X EN 16931 schema and free of failed EN 16931
business rules (CEN's Schematron, tests/data/en16931, run by Saxon-HE), with exact values in it;
embedded as `factur-x.xml` in a PDF/A-3 when the gross is over 250 €, and not otherwise."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from functools import cache
from pathlib import Path

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader
from test_licence_invoice_pdf import pdfa_claim, text
from test_licence_invoices import KIOSK, PLATFORM, invoice_for
from test_zreport_pdf import needs_pdftotext

from tresen.domain.einvoice import NAMESPACES, cii_xml, licence_invoice_document, with_einvoice

SCHEMATRON = Path(__file__).resolve().parents[1] / "data" / "en16931" / "EN16931-CII-validation.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


def values(xml: bytes, *paths: str) -> list[str | None]:
    """What each XPath finds in the e-invoice: the first element's text, attribute's value, or a count."""
    root = etree.fromstring(xml)
    return [_value(root.xpath(path, namespaces=NAMESPACES)) for path in paths]


def _value(found) -> str | None:
    if not isinstance(found, list):
        return str(found)
    if not found:
        return None
    return found[0].text if isinstance(found[0], etree._Element) else str(found[0])


@cache
def business_rules():
    """The compiled EN 16931 Schematron for CII: an XSLT that writes its findings as SVRL."""
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(SCHEMATRON))


def broken_rules(xml: bytes) -> list[str]:
    """The EN 16931 rules `xml` breaks, each as "BR-… message"."""
    processor, stylesheet = business_rules()
    report = etree.fromstring(
        stylesheet.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode())).encode()
    )
    return [
        f"{failed.get('id')} {' '.join(failed.findtext('svrl:text', namespaces=SVRL).split())}"
        for failed in report.iterfind("svrl:failed-assert", SVRL)
    ]


VARIANTS = {
    "enterprise": invoice_for("enterprise"),
    "starter": invoice_for("starter"),
    "buyer without VAT id, seller without tax number or e-mail": invoice_for(
        "enterprise", recipient=KIOSK, issuer=replace(PLATFORM, tax_number=None, email=None)
    ),
}


@pytest.mark.parametrize("invoice", VARIANTS.values(), ids=VARIANTS.keys())
def test_the_xml_is_valid_against_the_factur_x_en16931_schema(invoice):
    assert facturx.xml_check_xsd(cii_xml(invoice), flavor="factur-x", level="en16931") is True


@pytest.mark.parametrize("invoice", VARIANTS.values(), ids=VARIANTS.keys())
def test_the_xml_breaks_no_en16931_business_rule(invoice):
    assert broken_rules(cii_xml(invoice)) == []


def test_the_business_rules_are_really_checked():
    xml = cii_xml(invoice_for("enterprise"))
    for total in (b"GrandTotalAmount", b"DuePayableAmount"):
        xml = xml.replace(b"<ram:%s>296.31</ram:%s>" % (total, total), b"<ram:%s>296.30</ram:%s>" % (total, total))
    assert [rule.split()[0] for rule in broken_rules(xml)] == ["BR-CO-15"]  # gross = net + VAT


def test_the_xml_says_what_the_invoice_says():
    xml = cii_xml(invoice_for("enterprise"))
    header = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument"
    agreement = "//ram:ApplicableHeaderTradeAgreement"
    seller, buyer = f"{agreement}/ram:SellerTradeParty", f"{agreement}/ram:BuyerTradeParty"
    settlement = "//ram:ApplicableHeaderTradeSettlement"
    tax, totals = (
        f"{settlement}/ram:ApplicableTradeTax",
        f"{settlement}/ram:SpecifiedTradeSettlementHeaderMonetarySummation",
    )
    line = "//ram:IncludedSupplyChainTradeLineItem"
    expected = {
        "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID": "urn:cen.eu:en16931:2017",
        f"{header}/ram:ID": "TRESEN-2027-000017",  # BT-1
        f"{header}/ram:TypeCode": "380",
        f"{header}/ram:IssueDateTime/udt:DateTimeString": "20270102",  # BT-2
        f"{header}/ram:IssueDateTime/udt:DateTimeString/@format": "102",
        f"{seller}/ram:Name": "Tresen Plattform GmbH",
        f"{seller}/ram:PostalTradeAddress/ram:LineOne": "Torstraße 109",
        f"{seller}/ram:PostalTradeAddress/ram:PostcodeCode": "10119",
        f"{seller}/ram:PostalTradeAddress/ram:CityName": "Berlin",
        f"{seller}/ram:PostalTradeAddress/ram:CountryID": "DE",
        f"{seller}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']": "rechnungen@tresen.example",
        f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']": "DE312345678",  # BT-31
        f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='FC']": "37/123/45678",  # BT-32
        f"{buyer}/ram:ID": "cafe-lindner",
        f"{buyer}/ram:Name": "Café Lindner GmbH",
        f"{buyer}/ram:PostalTradeAddress/ram:LineOne": "Bahnhofstraße 1",
        f"{buyer}/ram:PostalTradeAddress/ram:PostcodeCode": "60311",
        f"{buyer}/ram:PostalTradeAddress/ram:CityName": "Frankfurt am Main",
        f"{buyer}/ram:PostalTradeAddress/ram:CountryID": "DE",
        f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']": "DE298765432",  # BT-48
        f"{line}/ram:SpecifiedTradeProduct/ram:Name": "Lizenz Tresen Enterprise, Dezember 2026",
        f"{line}/ram:SpecifiedTradeProduct/ram:SellerAssignedID": "enterprise",
        f"{line}//ram:NetPriceProductTradePrice/ram:ChargeAmount": "249.00",
        f"{line}//ram:BilledQuantity": "1",
        f"{line}//ram:BilledQuantity/@unitCode": "MON",
        f"{line}//ram:ApplicableTradeTax/ram:CategoryCode": "S",
        f"{line}//ram:ApplicableTradeTax/ram:RateApplicablePercent": "19",
        f"{line}//ram:LineTotalAmount": "249.00",
        f"{settlement}/ram:InvoiceCurrencyCode": "EUR",
        f"{tax}/ram:TypeCode": "VAT",
        f"{tax}/ram:CategoryCode": "S",
        f"{tax}/ram:RateApplicablePercent": "19",
        f"{tax}/ram:BasisAmount": "249.00",
        f"{tax}/ram:CalculatedAmount": "47.31",
        f"{settlement}/ram:BillingSpecifiedPeriod/ram:StartDateTime/udt:DateTimeString": "20261201",
        f"{settlement}/ram:BillingSpecifiedPeriod/ram:EndDateTime/udt:DateTimeString": "20261231",
        f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:Description": "Zahlbar ohne Abzug bis zum 16.01.2027.",
        f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString": "20270116",  # BT-9
        f"{totals}/ram:LineTotalAmount": "249.00",
        f"{totals}/ram:TaxBasisTotalAmount": "249.00",
        f"{totals}/ram:TaxTotalAmount": "47.31",
        f"{totals}/ram:TaxTotalAmount/@currencyID": "EUR",
        f"{totals}/ram:GrandTotalAmount": "296.31",
        f"{totals}/ram:DuePayableAmount": "296.31",
    }
    assert dict(zip(expected, values(xml, *expected), strict=True)) == expected


def test_a_party_without_a_number_has_no_registration_for_it():
    xml = cii_xml(VARIANTS["buyer without VAT id, seller without tax number or e-mail"])
    seller, buyer = "//ram:SellerTradeParty", "//ram:BuyerTradeParty"
    assert values(
        xml,
        f"count({seller}/ram:SpecifiedTaxRegistration)",
        f"{seller}/ram:SpecifiedTaxRegistration/ram:ID/@schemeID",
        f"count({seller}/ram:URIUniversalCommunication)",
        f"count({buyer}/ram:SpecifiedTaxRegistration)",
        f"{buyer}/ram:Name",
    ) == ["1.0", "VA", "0.0", "0.0", "Kiosk am Markt"]


def test_an_einvoice_needs_the_sellers_vat_id():
    """BR-CO-26: a tax number alone does not identify the seller of an e-invoice."""
    with pytest.raises(ValueError, match="USt-IdNr."):
        invoice_for("enterprise", issuer=replace(PLATFORM, vat_id=None))
    with pytest.raises(ValueError, match="USt-IdNr."):
        cii_xml(invoice_for("starter", issuer=replace(PLATFORM, vat_id=None)))


def attachments(pdf: bytes) -> dict[str, list[bytes]]:
    return dict(PdfReader(io.BytesIO(pdf)).attachments)


@needs_pdftotext
def test_an_invoice_over_250_euros_carries_its_einvoice_in_a_pdf_a_3():
    invoice = invoice_for("enterprise")
    document = licence_invoice_document(invoice)
    assert facturx.get_xml_from_pdf(document, check_xsd=False) == ("factur-x.xml", cii_xml(invoice))
    assert list(attachments(document)) == ["factur-x.xml"]
    assert pdfa_claim(document) == ("3", "B")
    metadata = PdfReader(io.BytesIO(document)).metadata
    assert (metadata.title, metadata.author) == ("Rechnung TRESEN-2027-000017", "Tresen Plattform GmbH")
    assert metadata.subject == "Rechnung TRESEN-2027-000017 vom 02.01.2027 von Tresen Plattform GmbH"
    xmp = PdfReader(io.BytesIO(document)).trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>", xmp)
    assert re.search(r"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>", xmp)
    assert "Gesamtbetrag 296,31 €" in text(document)  # the page is still the page


def test_an_invoice_up_to_250_euros_is_the_plain_pdf():
    for plan in ("starter", "business"):
        document = licence_invoice_document(invoice_for(plan))
        assert attachments(document) == {}
        assert facturx.get_xml_from_pdf(document, check_xsd=False) == (False, False)


def test_an_einvoice_the_schema_refuses_is_not_embedded():
    invoice = invoice_for("enterprise")
    xml = cii_xml(invoice).replace(b"<ram:TypeCode>380</ram:TypeCode>", b"")
    with pytest.raises(Exception, match="not valid against the official XML Schema"):
        with_einvoice(licence_invoice_document(invoice_for("starter")), xml)


def test_amounts_are_written_from_cents_without_floats():
    free = replace(invoice_for("starter"), net=0, vat=0, gross=0)
    cheap = replace(invoice_for("starter"), net=5, vat=1, gross=6)
    totals = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    paths = (f"{totals}/ram:TaxBasisTotalAmount", f"{totals}/ram:TaxTotalAmount", f"{totals}/ram:GrandTotalAmount")
    assert values(cii_xml(free), *paths) == ["0.00", "0.00", "0.00"]
    assert values(cii_xml(cheap), *paths) == ["0.05", "0.01", "0.06"]
