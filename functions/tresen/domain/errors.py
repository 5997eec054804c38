"""Business rule violations, each with a stable code that the HTTP layer maps to a status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    code: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # members the problem adds (`existing_id`)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"
