"""The doctor: says exactly why CIS2 would answer "JWT is not valid".

(The rules arrive with the doctor's own change; this module holds the
finding type the rest of cis2 already refers to.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Finding"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or worth a warning) with an assertion, and its fix."""

    rule: str
    field: str
    severity: Literal["error", "warning"]
    message: str
    fix: str
