"""Logout: the RP-initiated end-session request and back-channel logout tokens.

End session follows OpenID Connect RP-Initiated Logout 1.0 as CIS2's own
clients use it: ``id_token_hint``, and a registered
``post_logout_redirect_uri`` only when given. Logout tokens follow
Back-Channel Logout 1.0 section 2.6, with an ``exp`` required (reference
section 10, row 16) and ``jti`` replay refused.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from cis2._http import HttpRequest
from cis2._id_token import check_audience, check_expiry, check_issued_at, check_issuer
from cis2.errors import LogoutTokenError, TokenValidationError

__all__ = [
    "BACKCHANNEL_LOGOUT_EVENT",
    "JtiStore",
    "LogoutEvent",
    "MemoryJtiStore",
    "check_logout_claims",
    "end_session_request",
    "logout_url",
]

BACKCHANNEL_LOGOUT_EVENT: Final = "http://schemas.openid.net/event/backchannel-logout"
_WHAT: Final = "logout token"


@dataclass(frozen=True, slots=True)
class LogoutEvent:
    """A verified back-channel logout: end every local session it names."""

    iss: str
    sub: str | None
    sid: str | None
    jti: str
    iat: int
    claims: Mapping[str, Any] = field(repr=False, default_factory=dict)


class JtiStore(Protocol):
    """Remembers jtis until they expire, to refuse replays."""

    def add(self, jti: str, expires_at: float, now: float) -> bool:
        """Record jti; False when it was already recorded and not yet expired."""
        ...


class MemoryJtiStore:
    """A bounded in-process JtiStore; one process only (use Redis for many).

    Entries leave in expiry order, whatever order they came in. When more
    than ``max_entries`` are live at once, the ones closest to expiry go
    first: their replay window is the shortest.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._max = max_entries

    def add(self, jti: str, expires_at: float, now: float) -> bool:
        with self._lock:
            self._drop_expired(now)
            if jti in self._expiry:
                return False
            self._expiry[jti] = expires_at
            heapq.heappush(self._heap, (expires_at, jti))
            while len(self._expiry) > self._max:
                expires, oldest = heapq.heappop(self._heap)
                if self._expiry.get(oldest) == expires:
                    del self._expiry[oldest]
            return True

    def __len__(self) -> int:
        return len(self._expiry)

    def _drop_expired(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            expires_at, jti = heapq.heappop(self._heap)
            if self._expiry.get(jti) == expires_at:
                del self._expiry[jti]


def logout_url(
    end_session_endpoint: str,
    *,
    id_token_hint: str | None,
    client_id: str | None,
    post_logout_redirect_uri: str | None = None,
    state: str | None = None,
) -> str:
    """The end-session URL to send the browser to (RP-Initiated Logout 1.0 §2)."""
    params: dict[str, str] = {}
    if client_id:
        params["client_id"] = client_id
    if id_token_hint:
        params["id_token_hint"] = id_token_hint
    if post_logout_redirect_uri:
        params["post_logout_redirect_uri"] = post_logout_redirect_uri
        if state:
            params["state"] = state
    parts = urlsplit(end_session_endpoint)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def end_session_request(
    end_session_endpoint: str, *, id_token_hint: str, access_token: str | None
) -> HttpRequest:
    """The back-end end-session call CIS2's own clients make (reference §8)."""
    url = logout_url(end_session_endpoint, id_token_hint=id_token_hint, client_id=None)
    headers = {"Accept": "application/json"}
    if access_token:
        headers["Authorization"] = f"Bearer {access_token}"
    return HttpRequest("GET", url, headers, purpose="end session")


def check_logout_claims(
    claims: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    leeway: int,
    now: float,
    max_age: int | None = None,
) -> None:
    """Back-Channel Logout 1.0 section 2.6, steps 3 to 6."""
    try:
        check_issuer(claims, issuer, _WHAT)
        check_audience(claims, client_id, _WHAT)
        check_issued_at(claims, leeway, now, _WHAT)
        check_expiry(claims, leeway, now, _WHAT)
    except TokenValidationError as exc:
        raise LogoutTokenError(exc.message, claim=exc.claim) from None
    iat = claims["iat"]
    if max_age is not None and now - iat > max_age + leeway:
        raise LogoutTokenError(
            f"The logout token was issued {int(now - iat)} s ago, over the "
            f"{max_age} s allowed: refuse it as stale.",
            claim="iat",
        )
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise LogoutTokenError("The logout token has no jti.", claim="jti")
    events = claims.get("events")
    if not isinstance(events, Mapping) or not isinstance(
        events.get(BACKCHANNEL_LOGOUT_EVENT), Mapping
    ):
        raise LogoutTokenError(
            "The logout token's events has no "
            f"{BACKCHANNEL_LOGOUT_EVENT} member holding an object.",
            claim="events",
        )
    if "nonce" in claims:
        raise LogoutTokenError(
            "The logout token has a nonce, which a logout token must never have: "
            "it may be an ID token passed off as one.",
            claim="nonce",
        )
    sub, sid = claims.get("sub"), claims.get("sid")
    if not isinstance(sub, str) and not isinstance(sid, str):
        raise LogoutTokenError(
            "The logout token has neither sub nor sid: it names no session.",
            claim="sid",
        )
