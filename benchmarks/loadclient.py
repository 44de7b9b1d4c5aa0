"""A load client: N concurrent headless logins against an issuer for D seconds.

Each login is the whole journey a relying party makes: ``/authorize`` with a
``login_hint`` (headless, so the provider answers with a redirect carrying
the code), the token request authenticated with private_key_jwt and PKCE
S256, then UserInfo with the access token. Each concurrent loop runs on its
own ``httpx.AsyncClient``, and the run reports counts, errors by kind and latencies, so
the same client can drive the simulator and any other provider.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urljoin

import httpx

from cis2._client_auth import PrivateKeyJwt
from cis2.keys import SigningKey

__all__ = ["LoadResult", "run_logins"]

# A provider with an interaction step (oidc-provider) redirects within
# itself before it reaches the client; a few hops are followed by hand.
_MAX_HOPS: Final = 6


@dataclass
class LoadResult:
    """What a load run did: full logins, failures by kind, latencies."""

    logins: int = 0
    failures: int = 0
    seconds: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    # Completed logins per second of the run, for a sustained-rate check.
    per_second: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Full logins per second."""
        return self.logins / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """A latency percentile in seconds (0 when nothing completed)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> dict[str, float | int]:
        return {
            "logins": self.logins,
            "failures": self.failures,
            "rate": round(self.rate, 1),
            "p50_ms": round(1000 * self.percentile(0.5), 1),
            "p95_ms": round(1000 * self.percentile(0.95), 1),
            "mean_ms": round(1000 * statistics.fmean(self.latencies), 1)
            if self.latencies
            else 0.0,
        }


async def run_logins(
    issuer: str,
    client_id: str,
    redirect_uri: str,
    key: SigningKey,
    *,
    login_hint: str,
    concurrency: int = 10,
    duration: float = 10.0,
    scope: str = "openid profile nationalrbacaccess",
    acr_values: str | None = "AAL3_ANY",
) -> LoadResult:
    """Run ``concurrency`` login loops for ``duration`` seconds.

    Each loop has its own client, so its own cookie jar: a provider that
    keeps sign-in state in cookies (oidc-provider does) would otherwise see
    concurrent logins undo each other.
    """
    async with httpx.AsyncClient(timeout=30.0) as http:
        answer = await http.get(f"{issuer}/.well-known/openid-configuration")
        metadata = answer.json()
    journeys = [
        _Journey(
            httpx.AsyncClient(timeout=30.0),
            metadata,
            client_id,
            redirect_uri,
            PrivateKeyJwt(key),
            login_hint,
            scope,
            acr_values,
        )
        for _ in range(concurrency)
    ]
    result = LoadResult()
    started = time.monotonic()
    deadline = started + duration
    try:
        await asyncio.gather(
            *(_loop(journey, result, started, deadline) for journey in journeys)
        )
    finally:
        for journey in journeys:
            await journey.http.aclose()
    result.seconds = time.monotonic() - started
    return result


async def _loop(
    journey: _Journey, result: LoadResult, started: float, deadline: float
) -> None:
    while time.monotonic() < deadline:
        begun = time.monotonic()
        try:
            await journey.login()
        except _LoginError as exc:
            result.failures += 1
            result.errors[exc.kind] += 1
            continue
        except httpx.HTTPError as exc:
            result.failures += 1
            result.errors[type(exc).__name__] += 1
            continue
        finished = time.monotonic()
        result.logins += 1
        result.latencies.append(finished - begun)
        second = int(finished - started)
        while len(result.per_second) <= second:
            result.per_second.append(0)
        result.per_second[second] += 1


class _LoginError(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class _Journey:
    http: httpx.AsyncClient
    metadata: dict[str, str]
    client_id: str
    redirect_uri: str
    auth: PrivateKeyJwt
    login_hint: str
    scope: str
    acr_values: str | None

    async def login(self) -> None:
        verifier = secrets.token_urlsafe(48)
        code = await self._authorize(verifier)
        tokens = await self._token(code, verifier)
        answer = await self.http.get(
            self.metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        if answer.status_code != 200:
            raise _LoginError(f"userinfo_{answer.status_code}")

    async def _authorize(self, verifier: str) -> str:
        digest = hashlib.sha256(verifier.encode()).digest()
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": self.scope,
            "state": secrets.token_urlsafe(12),
            "nonce": secrets.token_urlsafe(12),
            "prompt": "login",
            "login_hint": self.login_hint,
            "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        if self.acr_values:
            params["acr_values"] = self.acr_values
        url = httpx.URL(self.metadata["authorization_endpoint"], params=params)
        for _ in range(_MAX_HOPS):
            answer = await self.http.get(url)
            location = answer.headers.get("location")
            if answer.status_code not in (302, 303) or not location:
                raise _LoginError(f"authorize_{answer.status_code}")
            if location.startswith(self.redirect_uri):
                query = httpx.URL(location).params
                if "code" not in query:
                    raise _LoginError(f"authorize_{query.get('error', 'no_code')}")
                return query["code"]
            url = httpx.URL(urljoin(str(url), location))
        raise _LoginError("authorize_too_many_hops")

    async def _token(self, code: str, verifier: str) -> dict[str, str]:
        endpoint = self.metadata["token_endpoint"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            **self.auth.form_fields(self.client_id, endpoint, int(time.time())),
        }
        answer = await self.http.post(endpoint, data=form)
        if answer.status_code != 200:
            raise _LoginError(f"token_{answer.status_code}")
        body: dict[str, str] = answer.json()
        return body
