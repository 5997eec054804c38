"""A licence invoice as an EN 16931 e-invoice: ZUGFeRD / Factur-X CII XML in the profile EN 16931
(`urn:cen.eu:en16931:2017`), embedded as `factur-x.xml` in its PDF, which becomes PDF/A-3.

German B2B invoices over 250 € gross are to be e-invoices (§14 UStG, phased in from 2025; smaller
ones are Kleinbetragsrechnungen, §33 UStDV); a hybrid ZUGFeRD PDF is one, and still reads as the
familiar page. The XML carries what EN 16931 asks of a German invoice: the seller's VAT id (BT-31,
scheme VA; a tax number alone, BT-32, does not identify a seller: BR-CO-26) and its tax number if
it has one (scheme FC), both parties' addresses, the billing period (BG-14), the payment terms and
due date (BT-20, BT-9), EUR, one line at VAT category S 19 %, and totals where gross = net + VAT
(BR-CO-15).

The XML is written with lxml directly, not with drafthorse: the invoice is one line, and its
forty-odd elements read here in the order the schema wants them, each beside its business term.
drafthorse would add a third XML library beside lxml (which factur-x needs anyway), carries older
schemas (Factur-X 1.0.07), and registers its namespace prefixes in the process-wide ElementTree
registry each time it builds a document.

Amounts are written from integer cents as decimal strings ("79.00"), never through floats.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from .licence_invoices import LicenceInvoice, Party, german_date, needs_einvoice

if TYPE_CHECKING:
    from lxml.builder import ElementMaker

NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"  # BT-24, the specification the invoice follows
COMMERCIAL_INVOICE = "380"  # BT-3, UNTDID 1001
STANDARD_RATED = "S"  # BT-151 / BT-118, UNCL 5305
MONTH = "MON"  # BT-130, UN/ECE Recommendation 20
VAT_ID, TAX_NUMBER, EMAIL = "VA", "FC", "EM"  # the schemes of a party's identifiers


@cache
def _builders() -> tuple[ElementMaker, ElementMaker, ElementMaker]:
    from lxml.builder import ElementMaker

    return tuple(ElementMaker(namespace=NAMESPACES[prefix], nsmap=NAMESPACES) for prefix in ("rsm", "ram", "udt"))


def cii_xml(invoice: LicenceInvoice) -> bytes:
    """The invoice as Factur-X / ZUGFeRD CII XML, profile EN 16931 (UTF-8, with declaration).
    ValueError if the issuer has no VAT id: EN 16931 identifies the seller by it (BR-CO-26)."""
    from lxml import etree

    if not invoice.issuer.vat_id:
        raise ValueError("an e-invoice needs the issuer's VAT id (USt-IdNr.)")

    rsm, ram, _ = _builders()
    document = rsm.CrossIndustryInvoice(
        rsm.ExchangedDocumentContext(ram.GuidelineSpecifiedDocumentContextParameter(ram.ID(EN16931))),
        rsm.ExchangedDocument(
            ram.ID(invoice.number),  # BT-1
            ram.TypeCode(COMMERCIAL_INVOICE),
            ram.IssueDateTime(_day(invoice.issued_on)),  # BT-2
        ),
        rsm.SupplyChainTradeTransaction(
            _line(invoice),
            ram.ApplicableHeaderTradeAgreement(
                ram.SellerTradeParty(*_party(invoice.issuer)),
                ram.BuyerTradeParty(ram.ID(invoice.store_id), *_party(invoice.recipient)),  # BT-46: the store
            ),
            ram.ApplicableHeaderTradeDelivery(),  # nothing delivered: the period below says when
            _settlement(invoice),
        ),
    )
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _line(invoice: LicenceInvoice) -> Any:
    """The one invoice line (BG-25): a month of the plan."""
    _, ram, _ = _builders()
    return ram.IncludedSupplyChainTradeLineItem(
        ram.AssociatedDocumentLineDocument(ram.LineID("1")),
        ram.SpecifiedTradeProduct(ram.SellerAssignedID(invoice.plan.id), ram.Name(invoice.service)),
        ram.SpecifiedLineTradeAgreement(ram.NetPriceProductTradePrice(ram.ChargeAmount(_amount(invoice.net)))),
        ram.SpecifiedLineTradeDelivery(ram.BilledQuantity("1", unitCode=MONTH)),
        ram.SpecifiedLineTradeSettlement(
            ram.ApplicableTradeTax(
                ram.TypeCode("VAT"),
                ram.CategoryCode(STANDARD_RATED),
                ram.RateApplicablePercent(str(invoice.vat_rate)),
            ),
            ram.SpecifiedTradeSettlementLineMonetarySummation(ram.LineTotalAmount(_amount(invoice.net))),
        ),
    )


def _party(party: Party) -> Iterator[Any]:
    """Name, postal address, e-mail and tax registrations of the seller (BG-4) or buyer (BG-7); a
    buyer's tax number has no place in EN 16931, only its VAT id (BT-48)."""
    _, ram, _ = _builders()
    yield ram.Name(party.name)
    yield ram.PostalTradeAddress(
        ram.PostcodeCode(party.postal_code),
        ram.LineOne(party.street),
        ram.CityName(party.city),
        ram.CountryID(party.country),
    )
    if party.email:
        yield ram.URIUniversalCommunication(ram.URIID(party.email, schemeID=EMAIL))
    if party.vat_id:
        yield ram.SpecifiedTaxRegistration(ram.ID(party.vat_id, schemeID=VAT_ID))
    if party.tax_number:
        yield ram.SpecifiedTaxRegistration(ram.ID(party.tax_number, schemeID=TAX_NUMBER))


def _settlement(invoice: LicenceInvoice) -> Any:
    _, ram, _ = _builders()
    net, vat, gross = _amount(invoice.net), _amount(invoice.vat), _amount(invoice.gross)
    return ram.ApplicableHeaderTradeSettlement(
        ram.InvoiceCurrencyCode(invoice.currency),  # BT-5
        ram.ApplicableTradeTax(  # BG-23
            ram.CalculatedAmount(vat),
            ram.TypeCode("VAT"),
            ram.BasisAmount(net),
            ram.CategoryCode(STANDARD_RATED),
            ram.RateApplicablePercent(str(invoice.vat_rate)),
        ),
        ram.BillingSpecifiedPeriod(  # BG-14: the Leistungszeitraum
            ram.StartDateTime(_day(invoice.period.first_day)),
            ram.EndDateTime(_day(invoice.period.last_day)),
        ),
        ram.SpecifiedTradePaymentTerms(
            ram.Description(invoice.payment_terms),  # BT-20
            ram.DueDateDateTime(_day(invoice.due_on)),  # BT-9
        ),
        ram.SpecifiedTradeSettlementHeaderMonetarySummation(  # BG-22
            ram.LineTotalAmount(net),
            ram.TaxBasisTotalAmount(net),
            ram.TaxTotalAmount(vat, currencyID=invoice.currency),
            ram.GrandTotalAmount(gross),
            ram.DuePayableAmount(gross),
        ),
    )


def _day(day: date) -> Any:
    _, _, udt = _builders()
    return udt.DateTimeString(f"{day:%Y%m%d}", format="102")


def _amount(cents: int) -> str:
    """Cents as CII writes an amount: `_amount(7900) == "79.00"`."""
    return str(Decimal(cents).scaleb(-2))


def with_einvoice(pdf: bytes, xml: bytes) -> bytes:
    """`pdf` with `xml` attached as `factur-x.xml` (relationship Data) and the XMP metadata of a
    PDF/A-3B Factur-X document of profile EN 16931. The XML is checked against the Factur-X XSD
    first: an invalid e-invoice raises rather than ships. factur-x passes the PDF through a
    temporary file, and stamps the time of the call as the document's dates, so the bytes differ
    from call to call."""
    from facturx import generate_from_binary

    return generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", pdf_metadata=_metadata(xml), lang="de-DE")


def _metadata(xml: bytes) -> dict[str, str]:
    """The PDF's title, author and subject, in German, from the invoice's number, date and seller
    (factur-x would write them in English). No keywords: factur-x leaves them out of the XMP, and
    PDF/A wants the document information and the XMP to agree."""
    from lxml import etree

    root = etree.fromstring(xml)
    number = root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=NAMESPACES)
    issued = root.findtext("rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString", namespaces=NAMESPACES)
    seller = root.findtext(".//ram:SellerTradeParty/ram:Name", namespaces=NAMESPACES)
    issued_on = datetime.strptime(issued, "%Y%m%d").date()
    return {
        "author": seller,
        "title": f"Rechnung {number}",
        "subject": f"Rechnung {number} vom {german_date(issued_on)} von {seller}",
    }


def licence_invoice_document(invoice: LicenceInvoice) -> bytes:
    """The invoice's PDF; over EINVOICE_ABOVE gross, with its e-invoice embedded (PDF/A-3)."""
    from .licence_invoice_pdf import invoice_pdf  # and with it fpdf: loaded by the first document made

    pdf = invoice_pdf(invoice)
    return with_einvoice(pdf, cii_xml(invoice)) if needs_einvoice(invoice) else pdf
