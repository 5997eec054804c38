"""CSV as exports hand it out: RFC 4180, UTF-8, a header row, CRLF line ends, amounts in cents."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
