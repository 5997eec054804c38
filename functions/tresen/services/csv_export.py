"""CSV as exports hand it out: RFC 4180, UTF-8, a header row, CRLF line ends, amounts in cents."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_cell(value: Any) -> Any:
    """None is an empty cell (the writer's own rule); an object (a journal entry's data) compact JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict) else value
