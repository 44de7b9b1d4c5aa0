"""The values the sans-I/O core exchanges with its drivers.

The core never performs I/O: it yields an ``HttpRequest`` and is sent back
an ``HttpResponse``. The drivers in ``cis2.client`` turn one into the other
with httpx, so the sync and async clients share every rule.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "HttpRequest",
    "HttpResponse",
    "Operation",
    "is_loopback_url",
    "redact_url",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One HTTP request the core wants made."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    #: What the request is for, in words, for errors and logs ("discovery").
    purpose: str = ""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The answer, as the driver received it."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def header(self, name: str) -> str | None:
        """A header by case-insensitive name."""
        lower = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lower:
                return value
        return None

    @property
    def media_type(self) -> str:
        value = self.header("content-type") or ""
        return value.split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.content)


#: A core operation: yields requests, receives responses, returns T.
Operation = Generator[HttpRequest, HttpResponse, T]


def is_loopback_url(url: str) -> bool:
    """Whether url points at this machine (127.0.0.0/8, ::1 or localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """The url without its query and fragment, which may carry tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
