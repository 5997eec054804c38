"""Customer lists as shops and their accountants have them, read row by row from a binary stream.

Excel in Germany saves "CSV" as Windows-1252 separated by `;`, "CSV UTF-8" with a BOM, and other
tools write UTF-8 separated by `,`: the encoding is decided by the BOM or else by the first line that
is not ASCII, the delimiter by the header line. The file is never held whole, and a line that does
not decode (a file pasted together from two sources) is an error of its row, not of the file.
Each row is checked by domain/customer_fields.py, exactly as the HTTP API checks a customer.
Rows are not deduplicated here: which of two equal rows wins is the importer's decision.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import BinaryIO

from .customer_fields import CustomerFields, customer_fields

CHUNK = 64 * 1024
MAX_ROWS = 100_000
# csv's own limit on a field (131 072 characters) bounds a record whose quote never closes; this
# bounds a line, so a file without line ends is not read into memory whole either.
MAX_LINE_BYTES = 128 * 1024
# the same line ends as bytes.splitlines, which splits a block that does not decode whole
LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
LINE_END = re.compile(rb"\r\n|\r|\n")
ENCODING_NAMES = {"utf-8": "UTF-8", "cp1252": "Windows-1252"}
HEADERS = {
    "given_name": "given_name",
    "vorname": "given_name",
    "family_name": "family_name",
    "nachname": "family_name",
    "email": "email",
    "e-mail": "email",
    "phone": "phone",
    "telefon": "phone",
    "handy": "phone",
    "mobil": "phone",
    "company": "company",
    "firma": "company",
    "birthday": "birthday",
    "geburtstag": "birthday",
    "note": "note",
    "notiz": "note",
    "email_marketing": "email_marketing",
    "newsletter": "email_marketing",
}


class CsvError(ValueError):
    """A file that cannot be read as a customer list at all."""


class CsvHeaderError(CsvError):
    """No header naming a known column, or no header at all."""


class CsvTooLarge(CsvError):
    """More than MAX_ROWS rows: raised from the rows' iterator when the row after the last is reached."""


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int  # the row's first physical line in the file, the header's being 1
    fields: CustomerFields | None
    errors: tuple[tuple[str, str], ...]
    raw: tuple[str, ...]  # the cells as read, for the errors file

    @property
    def reason(self) -> str:
        return "; ".join(f"{field}: {message}" if field else message for field, message in self.errors)


class CsvRows(Iterator[CsvRow]):
    """The rows after the header, read as they are asked for; `header` and `delimiter` are the file's,
    for an errors file the shop's own tools open like the original."""

    def __init__(self, header: tuple[str, ...], delimiter: str, rows: Iterator[CsvRow]) -> None:
        self.header = header
        self.delimiter = delimiter
        self._rows = rows

    def __next__(self) -> CsvRow:
        return next(self._rows)


def read_customer_csv(stream: BinaryIO, region: str = "DE", *, today: date | None = None) -> tuple[list[str], CsvRows]:
    """The header's warnings and the rows, or CsvHeaderError. Phone numbers without a country code
    are read as dialled in `region`; `today` bounds birthdays (the caller's clock)."""
    first = stream.read(CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvHeaderError("the file is UTF-16 text: save it as CSV (UTF-8 or Windows)")
    encoding = None
    if first.startswith(codecs.BOM_UTF8):
        encoding, first = "utf-8", first[len(codecs.BOM_UTF8) :]
    problems: dict[int, str] = {}
    lines = _decoded(_blocks(chain([first], iter(lambda: stream.read(CHUNK), b""))), encoding, problems)
    leading = []
    for line in lines:
        leading.append(line)
        if line.strip():
            break
    else:
        raise CsvHeaderError("the file is empty")
    delimiter = _delimiter(leading[-1])
    reader = csv.reader(chain(leading, lines), delimiter=delimiter, skipinitialspace=True)
    try:
        header = next((tuple(cells) for cells in reader if any(map(str.strip, cells))), None)
    except csv.Error as error:
        raise CsvHeaderError(f"the header: {error}") from None
    if header is None:
        raise CsvHeaderError("the file is empty")
    if problems:
        raise CsvHeaderError(f"the header: {' '.join(problems.values())}")
    columns, warnings = _columns(header)
    return warnings, CsvRows(header, delimiter, _rows(reader, len(header), columns, problems, region, today))


def errors_csv(
    rows: Iterable[tuple[tuple[str, ...], str]], header: Sequence[str], *, delimiter: str = ","
) -> Iterator[bytes]:
    """The rows that failed, each with its reason, as UTF-8 CSV in chunks of about 64 KiB. The reason
    is the first column, so it stays in its column whatever the row's length; the BOM is what makes
    Excel read UTF-8. A corrected file imports again: `reason` is just an unknown column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    buffer.write("\ufeff")
    writer.writerow(["reason", *header])
    for raw, reason in rows:
        writer.writerow([reason, *raw])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _blocks(chunks: Iterable[bytes]) -> Iterator[bytes | None]:
    """The stream as blocks of whole lines (with their line ends: LF, CRLF, or CR as old Mac Excel
    writes), and None for a line longer than MAX_LINE_BYTES, whose bytes are dropped."""
    pending = b""
    skipping = False  # inside a line too long to keep
    for chunk in chunks:
        buffer = pending + chunk
        # a CR at the very end may be the first half of a CRLF: its line waits for the next chunk
        cut = max(buffer.rfind(b"\n"), buffer.rfind(b"\r", 0, len(buffer) - 1)) + 1
        block, pending = buffer[:cut], buffer[cut:]
        if skipping and block:
            block = block[LINE_END.search(block).end() :]
            skipping = False
        if block:
            yield block
        if len(pending) > MAX_LINE_BYTES:
            if not skipping:
                yield None
            skipping = True
            pending = b""
    if pending and not skipping:
        yield pending


def _decoded(blocks: Iterable[bytes | None], encoding: str | None, problems: dict[int, str]) -> Iterator[str]:
    """Each line as text; what goes wrong with line n is noted in problems[n], and the line is still
    given to csv (with replacement characters) so a quoted cell around it ends where it should.

    Without a BOM, the first line that is not ASCII decides: UTF-8 if it decodes as UTF-8, else
    Windows-1252. A list whose first thousand rows are ASCII is no evidence of either, and deciding
    for the whole file from a mix would turn one half into mojibake without a word.

    A block is decoded whole where it can be (a Python-level codec call per line, as cp1252 makes,
    would cost more than the rest of the reading); line by line only where it cannot."""
    number = 0
    for block in blocks:
        if block is None:
            number += 1
            problems[number] = f"line {number} is longer than {MAX_LINE_BYTES // 1024} KiB"
            yield "\n"
            continue
        if encoding is None and not block.isascii() and _is_utf8(block):
            encoding = "utf-8"
        text = _whole(block, encoding)
        if text is not None:
            lines = LINE.findall(text)
            number += len(lines)
            yield from lines
            continue
        for line in block.splitlines(keepends=True):
            number += 1
            if encoding is None and not line.isascii():
                encoding = "utf-8" if _is_utf8(line) else "cp1252"
            try:
                yield line.decode(encoding or "ascii")
            except UnicodeDecodeError:
                problems[number] = f"line {number} is not {ENCODING_NAMES[encoding]} text: save the file as CSV UTF-8"
                yield line.decode(encoding, errors="replace")


def _whole(block: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return block.decode("ascii") if block.isascii() else None
    try:
        return block.decode(encoding)
    except UnicodeDecodeError:
        return None


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _delimiter(line: str) -> str:
    counts = {";": 0, ",": 0}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char in counts and not quoted:
            counts[char] += 1
    # a tie (also: one column, no delimiter at all) goes to what German Excel writes
    return "," if counts[","] > counts[";"] else ";"


def _columns(header: tuple[str, ...]) -> tuple[tuple[tuple[str, int], ...], list[str]]:
    """The (field, cell index) pairs in the header's order (several columns may give one field:
    Telefon and Handy), and the header's warnings."""
    columns = []
    unknown = []
    for index, cell in enumerate(header):
        name = cell.strip()
        if (field := HEADERS.get(name.lower())) is not None:
            columns.append((field, index))
        elif name:
            unknown.append(name)
    if not columns:
        known = ", ".join(dict.fromkeys(HEADERS))
        raise CsvHeaderError(f"no known column in the header; the columns are named {known}")
    warnings = [f"ignored columns: {', '.join(unknown)}"] if unknown else []
    for field in dict.fromkeys(field for field, _ in columns):
        names = [header[index].strip() for given, index in columns if given == field]
        if len(names) > 1:
            warnings.append(f"columns {', '.join(names)} all give {field}: the first one filled in is taken")
    return tuple(columns), warnings


def _rows(
    reader: Iterator[list[str]],
    width: int,
    columns: tuple[tuple[str, int], ...],
    problems: dict[int, str],
    region: str,
    today: date | None,
) -> Iterator[CsvRow]:
    count = 0
    for line, cells in _records(reader, problems):
        row = _row(line, cells, width, columns, problems, region, today)
        if row is not None:
            count += 1
            if count > MAX_ROWS:
                raise CsvTooLarge(f"more than {MAX_ROWS} rows: split the file")
            yield row


def _records(reader: Iterator[list[str]], problems: dict[int, str]) -> Iterator[tuple[int, list[str]]]:
    """Each record with its first line; one that csv cannot read is empty, and why is in problems."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader, None)
        except csv.Error as error:
            problems[line] = f"line {line}: {error}"
            cells = []
        if cells is None:
            return
        yield line, cells


def _row(
    line: int,
    cells: list[str],
    width: int,
    columns: tuple[tuple[str, int], ...],
    problems: dict[int, str],
    region: str,
    today: date | None,
) -> CsvRow | None:
    """The record as a row, or None for a blank one (Excel writes `;;;` for a row once used)."""
    if (problems or len(cells) > width) and (unreadable := _unreadable(line, cells, width, problems)):
        return unreadable
    raw = {}
    for field, index in columns:
        if field not in raw and index < len(cells) and cells[index].strip():
            raw[field] = cells[index]
    if not raw and not any(map(str.strip, cells)):
        return None
    fields, errors = customer_fields(raw, region, today=today)
    return CsvRow(line, fields, tuple(errors), tuple(cells))


def _unreadable(line: int, cells: list[str], width: int, problems: dict[int, str]) -> CsvRow | None:
    """The row as an error when its lines did not decode or csv could not read it, or when it has
    more cells than the header (empty cells after the last column are no harm)."""
    if problems:
        errors = tuple(("", problem) for problem in problems.values())
        problems.clear()
        return CsvRow(line, None, errors, tuple(cells))
    if any(map(str.strip, cells[width:])):
        return CsvRow(line, None, (("", f"{len(cells)} cells, but the header has {width}"),), tuple(cells))
    return None
