"""DSFinV-K: the cash-register export a German tax auditor asks for, built from closings.

Every table, column, type, length and accuracy comes from the official description file shipped
beside this module (`dsfinvk/index.xml`, DSFinV-K 2.x, with the GDPdU DTD it names), read once:
the export writes all 20 tables it lists, header-only where Tresen has nothing to say (no slave
tills, agencies, sub-items, item amounts, allocation groups or references), and its own index.xml
is that file unchanged.

One store is one cash register (`Z_KASSE_ID` = the store id); each closing is one
`cashpointclosing`. The receipts (Bonkopf) of a closing are its sales, refunds and gift cards
sold at the counter, each numbered by its journal seq. A receipt's lines are the order's lines,
a discount per VAT rate, the tip (`TrinkgeldAN`), gift cards sold (`MehrzweckgutscheinKauf`) and
gift cards redeemed (`MehrzweckgutscheinEinloesung`, negative): its total is what was paid, by
`Bar` (at the counter), `ElZahlungsdienstleister` (online) or `Unbar` (a card at a terminal),
named (`ZAHLART_NAME`) by the type or, for a card, by its brand. A refund is a receipt of
negative revenue per VAT rate (what it pays back onto a gift card undoes that much of its
redemption), paid back the way the order was paid: to a card under the brand of the order's
card. The closing's business cases, payment types (per type and name), and VAT per receipt are
sums over those lines, so every level adds up; its cash (`Z_SE_BARZAHLUNGEN`, the currency
table) is what went by `Bar` alone.

The TSE tables come from the journal's TSE entries. `tse.csv` lists, in each closing, the store's
TSEs installed by its end (`tse.installed`; the certificate, which that entry does not carry, from
the store's TSE record), numbered within the closing (`TSE_ID`). `transactions_tse.csv` has a row
for each receipt of a sale taken on site (`on_site`, `card_present`) that a TSE was to sign: its
`tse.signed` signature — made in the closing or, for a sale the TSE could not sign at once, later —
ascending by signature counter, then the sales still unsigned, whose `TSE_TA_FEHLER` says why (the
reason of their `tse.failed`). A transaction canceled with its order has no receipt, and no row.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from .closings import CARD_PRESENT, UNKNOWN_BRAND
from .events import CardActivated, OrderPaid, OrderPlaced, RefundCreated, Sale, TseFailed, TseSigned, read_event
from .tse import PROCESS_TYPE

DATA = Path(__file__).with_name("dsfinvk")
INDEX, DTD = DATA / "index.xml", DATA / "gdpdu-01-09-2004.dtd"
TAXONOMY_VERSION = "2.4"

# DSFinV-K 2.x value lists (Anhang: Geschäftsvorfalltypen, Zahlarten, Bontypen, USt-Schlüssel).
GV_TYPES = (
    "Anfangsbestand", "Umsatz", "Pfand", "PfandRueckzahlung", "MehrzweckgutscheinKauf",
    "MehrzweckgutscheinEinloesung", "EinzweckgutscheinKauf", "EinzweckgutscheinEinloesung", "Forderungsentstehung",
    "Forderungsaufloesung", "Anzahlungseinstellung", "Anzahlungsaufloesung", "Privateinlage", "Privatentnahme",
    "Geldtransit", "DifferenzSollIst", "TrinkgeldAG", "TrinkgeldAN", "Auszahlung", "Einzahlung", "Rabatt",
    "Aufschlag", "Lohnzahlung", "ZuschussEcht", "ZuschussUnecht",
)  # fmt: skip
PAYMENT_TYPES = ("Bar", "Unbar", "Keine", "ECKarte", "Kreditkarte", "ElZahlungsdienstleister", "GuthabenKarte")
BON_TYPES = ("Beleg", "AVTransfer", "AVBestellung", "AVTraining", "AVBelegstorno", "AVBelegabbruch",
             "AVSachbezug", "AVSonstige", "AVRechnung")  # fmt: skip
VAT_KEYS = {"19": 1, "7": 2}  # Regelsteuersatz, ermäßigter Steuersatz
NOT_TAXABLE = 5  # nicht steuerbar: tips to staff, multi-purpose vouchers sold and redeemed
VAT_TABLE = ((1, "19.00", "Regelsteuersatz"), (2, "7.00", "Ermäßigter Steuersatz"), (5, "0.00", "Nicht steuerbar"))
PAYMENT_TYPE = {"on_site": "Bar", "online": "ElZahlungsdienstleister", CARD_PRESENT: "Unbar"}
CASH = "Bar"
CURRENCY = "EUR"
RECEIPT_TYPES = frozenset({OrderPlaced.TYPE, OrderPaid.TYPE, RefundCreated.TYPE, CardActivated.TYPE})
PROCESS_DATA_ENCODING = "UTF-8"  # TSE_PD_ENCODING: the process data Tresen hands the TSE
CERTIFICATE_PART = 1000  # characters of TSE_ZERTIFIKAT_I, the rest in TSE_ZERTIFIKAT_II
TSE_FAILURE, TSE_PENDING = "TSE-Ausfall: ", "TSE-Signatur ausstehend"  # TSE_TA_FEHLER of an unsigned sale


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # AlphaNumeric | Numeric | Date
    accuracy: int = 0  # Numeric: digits after the decimal comma
    max_length: int | None = None  # AlphaNumeric


@cache
def tables() -> dict[str, tuple[Column, ...]]:
    """file name → its columns in order, as the official index.xml defines them."""
    found = {}
    for table in ET.parse(INDEX).getroot().iter("Table"):
        columns = []
        for column in table.iter():
            if column.tag not in ("VariablePrimaryKey", "VariableColumn"):
                continue
            kind = next(child.tag for child in column if child.tag in ("AlphaNumeric", "Numeric", "Date"))
            accuracy = column.findtext("Numeric/Accuracy")
            length = column.findtext("MaxLength")
            columns.append(Column(column.findtext("Name"), kind, int(accuracy or 0), int(length) if length else None))
        found[table.findtext("URL")] = tuple(columns)
    return found


def cell(column: Column, value: Any) -> str:
    """A value as its column's type wants it: numbers with a decimal comma and the column's
    accuracy, text in quotes (cut to its maximum length), nothing for None."""
    if value is None:
        return ""
    if column.kind == "Numeric":
        number = Decimal(value) / 100 if column.accuracy else Decimal(value)  # amounts are cents
        return f"{number:.{column.accuracy}f}".replace(".", ",")
    text = str(value)[: column.max_length] if column.max_length else str(value)
    return '"' + text.replace('"', '""') + '"'


def csv_lines(file: str, rows: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    columns = tables()[file]
    for row in rows:
        yield ";".join(cell(column, row.get(column.name)) for column in columns) + "\r\n"


def heading(file: str) -> str:
    return ";".join(column.name for column in tables()[file]) + "\r\n"


def quantity(value: int) -> int:
    """MENGE/FAKTOR have three decimals; `cell` takes cents-like hundredths for accuracies above 0,
    so a count is given in hundredths too."""
    return value * 100


# -- What a closing holds ------------------------------------------------------------------------


def line(bon: str, n: int, gv: str, text: str, gross: int, key: int, **more: Any) -> dict[str, Any]:
    return {"BON_ID": bon, "POS_ZEILE": str(n), "GV_TYP": gv, "ARTIKELTEXT": text, "STK_BR": gross,
            "MENGE": quantity(1), "FAKTOR": quantity(1), "INHAUS": "0", "P_STORNO": "0", "gross": gross,
            "key": key} | more  # fmt: skip


def allocate_tax(lines: list[dict], tax: int) -> list[int]:
    """The VAT of a rate split over its lines in proportion to their gross, adding up exactly."""
    total = sum(item["gross"] for item in lines)
    shares = [round(tax * item["gross"] / total) if total else 0 for item in lines]
    largest = max(range(len(lines)), key=lambda i: abs(lines[i]["gross"]))
    shares[largest] += tax - sum(shares)
    return shares


def sale_lines(bon: str, sale: Sale, order: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The receipt's lines: the order's items (with a discount line per rate), tip, vouchers."""
    lines: list[dict[str, Any]] = []
    for row in sale.vat:
        rate = row.rate
        of_rate = [item for item in order.get("lines", ()) if item.get("vat_rate") == rate]
        group = [
            line(bon, 0, "Umsatz", item.get("name") or item["product_id"], item["total"], VAT_KEYS[rate],
                 ART_NR=item["product_id"], MENGE=quantity(item["quantity"]), STK_BR=item["unit_price"])
            for item in of_rate
        ]  # fmt: skip
        reduced = sum(item["gross"] for item in group) - row.gross
        if reduced:
            group.append(line(bon, 0, "Rabatt", f"Rabatt {rate} %", -reduced, VAT_KEYS[rate]))
        for item, tax in zip(group, allocate_tax(group, row.tax), strict=True):
            item["tax"] = tax
        lines += group
    for item in order.get("lines", ()):
        if item.get("vat_rate") is None:
            lines.append(line(bon, 0, "MehrzweckgutscheinKauf", item.get("name") or "Gutschein", item["total"],
                              NOT_TAXABLE, GUTSCHEIN_NR=None))  # fmt: skip
    if sale.tip:
        lines.append(line(bon, 0, "TrinkgeldAN", "Trinkgeld", sale.tip, NOT_TAXABLE))
    if sale.gift_card_amount:
        lines.append(line(bon, 0, "MehrzweckgutscheinEinloesung", "Gutschein", -sale.gift_card_amount, NOT_TAXABLE))
    for n, item in enumerate(lines, 1):
        item["POS_ZEILE"] = str(n)
        item.setdefault("tax", 0)
    return lines


def refund_lines(bon: str, refund: RefundCreated) -> list[dict[str, Any]]:
    lines = [
        line(bon, 0, "Umsatz", f"Erstattung {row.rate} %", -row.gross, VAT_KEYS[row.rate], tax=-row.tax)
        for row in refund.vat
    ]
    untaxed = refund.amount - sum(row.gross for row in refund.vat)
    if untaxed:
        lines.append(line(bon, 0, "Umsatz", "Erstattung (nicht steuerbar)", -untaxed, NOT_TAXABLE))
    if refund.giftcard_amount:  # back onto the card that paid: the redemption undone
        lines.append(line(bon, 0, "MehrzweckgutscheinEinloesung", "Erstattung auf Gutschein",
                          refund.giftcard_amount, NOT_TAXABLE))  # fmt: skip
    for n, item in enumerate(lines, 1):
        item["POS_ZEILE"] = str(n)
        item.setdefault("tax", 0)
    return lines


PaymentKind = tuple[str, str]  # (ZAHLART_TYP, ZAHLART_NAME)


def payment_kind(method: str, card_brand: str | None) -> PaymentKind:
    """A payment method as DSFinV-K's type and name: a card at a terminal is `Unbar` named by its
    brand, any other is named by its type."""
    kind = PAYMENT_TYPE[method]
    return (kind, card_brand or UNKNOWN_BRAND) if method == CARD_PRESENT else (kind, kind)


def card_brand_of(order: Mapping[str, Any]) -> str | None:
    """The brand of the card that paid an order at a terminal, as its document keeps it."""
    payment = order.get("payment")
    return payment.get("brand") if isinstance(payment, Mapping) else None


@dataclass(frozen=True)
class Receipt:
    bon: str
    number: int
    at: str
    lines: list[dict[str, Any]]
    paid: dict[PaymentKind, int]  # amount per payment type and name (negative: paid back)


def receipts(entries: Iterable[Mapping[str, Any]], orders: Mapping[str, Mapping[str, Any]]) -> list[Receipt]:
    """The receipts of a closing's entries; `orders` by id for the sales' lines and for the card
    brand of a refund to a card (a refund's entry names its order, not the card)."""
    found = []
    for entry in entries:
        if entry["type"] not in RECEIPT_TYPES:
            continue
        event, seq, at = read_event(entry), entry["seq"], entry["at"]
        if isinstance(event, OrderPlaced | OrderPaid):
            if event.sale:
                bon, sale = event.order_id, event.sale
                lines = sale_lines(bon, sale, orders.get(bon, {}))
                paid = {payment_kind(sale.payment_method, sale.card_brand): sale.total - sale.gift_card_amount}
                found.append(Receipt(bon, seq, at, lines, paid))
        elif isinstance(event, RefundCreated):
            brand = card_brand_of(orders.get(event.order_id, {}))
            paid = {payment_kind(event.method, brand): -event.provider_amount}
            found.append(Receipt(event.id, seq, at, refund_lines(event.id, event), paid))
        elif isinstance(event, CardActivated) and not event.order_id:  # a gift card sold at the counter
            bon = f"{event.card_id}-{seq}"
            sold = [line(bon, 1, "MehrzweckgutscheinKauf", "Gutschein", event.amount, NOT_TAXABLE, tax=0)]
            found.append(Receipt(bon, seq, at, sold, {(CASH, CASH): event.amount}))
    return found


def closing_tables(
    closing: Mapping[str, Any],
    store: Mapping[str, Any],
    found: list[Receipt],
    tses: Sequence[Tse] = (),
    signatures: Mapping[str, SaleSignature] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table for one closing (the receipts of its entries); `tses`: the store's
    TSEs (`installed_tses`), `signatures`: its sales' (`sale_signatures`)."""
    z = {"Z_KASSE_ID": closing["store_id"], "Z_ERSTELLUNG": closing["closed_at"], "Z_NR": closing["z_number"]}
    street, postcode, town = address_parts(store.get("address") or ())
    business: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    payments: dict[PaymentKind, int] = defaultdict(int)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for receipt in found:
        bon = z | {"BON_ID": receipt.bon}
        total = sum(item["gross"] for item in receipt.lines)
        rows["transactions.csv"].append(
            bon
            | {
                "BON_NR": receipt.number,
                "BON_TYP": "Beleg",
                "BON_STORNO": "0",
                "BON_START": receipt.at,
                "BON_ENDE": receipt.at,
                "UMS_BRUTTO": total,
            }
        )
        per_key: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for item in receipt.lines:
            rows["lines.csv"].append(z | {k: v for k, v in item.items() if k.isupper()})
            rows["lines_vat.csv"].append(
                bon
                | {
                    "POS_ZEILE": item["POS_ZEILE"],
                    "UST_SCHLUESSEL": item["key"],
                    "POS_BRUTTO": item["gross"],
                    "POS_NETTO": item["gross"] - item["tax"],
                    "POS_UST": item["tax"],
                }
            )
            for totals in (per_key[item["key"]], business[(item["GV_TYP"], item["key"])]):
                totals[0] += item["gross"]
                totals[1] += item["tax"]
        for key, (gross, tax) in sorted(per_key.items()):
            rows["transactions_vat.csv"].append(
                bon | {"UST_SCHLUESSEL": key, "BON_BRUTTO": gross, "BON_NETTO": gross - tax, "BON_UST": tax}
            )
        for (kind, name), amount in receipt.paid.items():
            if amount:
                rows["datapayment.csv"].append(
                    bon
                    | {
                        "ZAHLART_TYP": kind,
                        "ZAHLART_NAME": name,
                        "ZAHLWAEH_CODE": CURRENCY,
                        "ZAHLWAEH_BETRAG": amount,
                        "BASISWAEH_BETRAG": amount,
                    }
                )
                payments[(kind, name)] += amount
    rows["businesscases.csv"] = [
        z
        | {
            "GV_TYP": gv,
            "GV_NAME": gv,
            "UST_SCHLUESSEL": key,
            "Z_UMS_BRUTTO": gross,
            "Z_UMS_NETTO": gross - tax,
            "Z_UST": tax,
        }
        for (gv, key), (gross, tax) in sorted(business.items())
    ]
    rows["payment.csv"] = [
        z | {"ZAHLART_TYP": kind, "ZAHLART_NAME": name, "Z_ZAHLART_BETRAG": amount}
        for (kind, name), amount in sorted(payments.items())
    ]
    cash = sum(amount for (kind, _), amount in payments.items() if kind == CASH)
    rows["cash_per_currency.csv"] = [z | {"ZAHLART_WAEH": CURRENCY, "ZAHLART_BETRAG_WAEH": cash}]
    bons = [receipt.bon for receipt in found]
    rows["cashpointclosing.csv"] = [z | {
        "Z_BUCHUNGSTAG": closing["business_day"], "TAXONOMIE_VERSION": TAXONOMY_VERSION,
        "Z_START_ID": bons[0] if bons else None, "Z_ENDE_ID": bons[-1] if bons else None,
        "NAME": store.get("name"), "STRASSE": street, "PLZ": postcode, "ORT": town, "LAND": "DEU",
        "Z_SE_ZAHLUNGEN": sum(payments.values()), "Z_SE_BARZAHLUNGEN": cash,
    }]  # fmt: skip
    rows["location.csv"] = [z | {"LOC_NAME": store.get("name"), "LOC_STRASSE": street, "LOC_PLZ": postcode,
                                 "LOC_ORT": town, "LOC_LAND": "DEU"}]  # fmt: skip
    rows["cashregister.csv"] = [z | {"KASSE_BRAND": "Tresen", "KASSE_MODELL": "Tresen (Cloud)",
                                     "KASSE_SERIENNR": closing["store_id"], "KASSE_SW_BRAND": "Tresen",
                                     "KASSE_SW_VERSION": TAXONOMY_VERSION, "KASSE_BASISWAEH_CODE": CURRENCY,
                                     "KEINE_UST_ZUORDNUNG": "0"}]  # fmt: skip
    rows["vat.csv"] = [z | {"UST_SCHLUESSEL": key, "UST_SATZ": int(Decimal(rate) * 100), "UST_BESCHR": name}
                       for key, rate, name in VAT_TABLE]  # fmt: skip
    rows.update(tse_tables(z, closing["last_seq"], found, tses, signatures or {}))
    return rows


def address_parts(lines: Iterable[str]) -> tuple[str | None, str | None, str | None]:
    """(street, postcode, town) from postal lines like ("Bahnhofstraße 1", "60311 Frankfurt am Main")."""
    lines = list(lines)
    street = lines[0] if lines else None
    postcode, _, town = (lines[-1] if len(lines) > 1 else "").partition(" ")
    return street, postcode or None, town or None


# -- The TSE ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tse:
    """A TSE of the store as its `tse.installed` entry (`seq`) describes it, with its certificate
    (base64; "" where it is not known)."""

    seq: int
    serial_number: str
    signature_algorithm: str
    log_time_format: str
    public_key: str
    certificate: str = ""


@dataclass(frozen=True)
class SaleSignature:
    """What the journal says of a sale's TSE transaction: its signature, or else the reason its TSE
    failed (`failure`; None as well: its signing was cut off, the job has yet to do it)."""

    signed: TseSigned | None = None
    failure: str | None = None


def installed_tses(entries: Iterable[Mapping[str, Any]], certificates: Mapping[str, str]) -> list[Tse]:
    """The store's TSEs from its `tse.installed` entries, in the order installed; `certificates` by
    serial number."""
    found = []
    for entry in entries:
        data = entry["data"]
        serial = data["serial_number"]
        found.append(
            Tse(entry["seq"], serial, data["signature_algorithm"], data["log_time_format"], data["public_key"],
                certificates.get(serial, ""))
        )  # fmt: skip
    return found


def sale_signatures(
    entries: Iterable[Mapping[str, Any]], orders: Mapping[str, Mapping[str, Any]]
) -> dict[str, SaleSignature]:
    """By order id, each of `orders` that a TSE was to sign (it has a `tse_status`), with its
    `tse.signed` and `tse.failed` among `entries`."""
    signed: dict[str, TseSigned] = {}
    failed: dict[str, str] = {}
    for entry in entries:
        if entry["type"] == TseSigned.TYPE:
            event = read_event(entry)
            signed[event.order_id] = event
        elif entry["type"] == TseFailed.TYPE:
            failed[entry["data"]["order_id"]] = entry["data"]["reason"]
    return {
        order_id: SaleSignature(signed.get(order_id), failed.get(order_id))
        for order_id, order in orders.items()
        if order.get("tse_status")
    }


def tse_log_time(moment: str) -> str:
    """A TSE's log time as DSFinV-K writes it: UTC to the millisecond, `YYYY-MM-DDThh:mm:ss.fffZ`."""
    utc = datetime.fromisoformat(moment).astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def tse_tables(
    z: Mapping[str, Any],
    last_seq: int,
    found: list[Receipt],
    tses: Sequence[Tse],
    signatures: Mapping[str, SaleSignature],
) -> dict[str, list[dict[str, Any]]]:
    """`tse.csv` and `transactions_tse.csv` of a closing that ends with entry `last_seq`: the TSEs
    installed by then, and any installed later that signed one of its sales after it."""
    ours = {receipt.bon: signatures[receipt.bon] for receipt in found if receipt.bon in signatures}
    signing = {sale.signed.tss_serial for sale in ours.values() if sale.signed}
    known = [tse for tse in tses if tse.seq <= last_seq or tse.serial_number in signing]
    numbers = {tse.serial_number: n for n, tse in enumerate(known, 1)}
    signed, unsigned = [], []
    for bon, sale in ours.items():
        if sale.signed:
            signed.append(z | signed_row(bon, sale.signed, numbers.get(sale.signed.tss_serial)))
        else:
            failure = TSE_FAILURE + sale.failure if sale.failure else TSE_PENDING
            unsigned.append(z | {"BON_ID": bon, "TSE_TA_FEHLER": failure})
    signed.sort(key=lambda row: (row["TSE_ID"] or 0, row["TSE_TA_SIGZ"]))
    return {
        "tse.csv": [z | tse_row(number, tse) for number, tse in enumerate(known, 1)],
        "transactions_tse.csv": signed + unsigned,
    }


def tse_row(number: int, tse: Tse) -> dict[str, Any]:
    return {
        "TSE_ID": number,
        "TSE_SERIAL": tse.serial_number,
        "TSE_SIG_ALGO": tse.signature_algorithm,
        "TSE_ZEITFORMAT": tse.log_time_format,
        "TSE_PD_ENCODING": PROCESS_DATA_ENCODING,
        "TSE_PUBLIC_KEY": tse.public_key,
        "TSE_ZERTIFIKAT_I": tse.certificate[:CERTIFICATE_PART] or None,
        "TSE_ZERTIFIKAT_II": tse.certificate[CERTIFICATE_PART:] or None,
    }


def signed_row(bon: str, signed: TseSigned, tse_id: int | None) -> dict[str, Any]:
    return {
        "BON_ID": bon,
        "TSE_ID": tse_id,
        "TSE_TANR": signed.transaction_number,
        "TSE_TA_START": tse_log_time(signed.start),
        "TSE_TA_ENDE": tse_log_time(signed.end),
        "TSE_TA_VORGANGSART": PROCESS_TYPE,
        "TSE_TA_SIGZ": signed.signature_counter,
        "TSE_TA_SIG": signed.signature,
        "TSE_VORGANGSDATEN": signed.process_data,
    }
