"""Regression tests for defects a review found, each named after its fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cis2._http import HttpResponse
from cis2._jws import b64url_encode
from cis2._logout import MemoryJtiStore
from cis2._token import parse_token_response
from cis2.errors import (
    KeyLoadError,
    LogoutTokenError,
    TokenEndpointError,
    TokenValidationError,
)
from cis2.keys import SigningKey, inspect_key

from .conftest import RpFactory
from .provider import ISSUER, Provider, provider_key
from .test_id_token import refused, sign_in
from .test_refresh_userinfo_logout import logout_claims


def _with_raw_claim(provider: Provider, name: str, raw: str, **claims: Any) -> str:
    """A signed token whose claim name holds raw JSON text (e.g. NaN)."""
    from cis2._jws import sign_compact

    body = json.dumps({**claims, name: "PLACEHOLDER"}).replace('"PLACEHOLDER"', raw)
    key = provider.signing_key
    header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
    return sign_compact(header, body.encode(), key.private_key, key.alg)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_dates_are_refused_not_treated_as_never_expiring(
    provider: Provider, make_rp: RpFactory, raw: str
) -> None:
    rp = make_rp()
    token = _with_raw_claim(provider, "exp", raw, **logout_claims(provider))
    with pytest.raises(LogoutTokenError):
        provider.run(rp.verify_logout_token(token))


def test_a_replayed_logout_token_with_a_nan_exp_is_still_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    token = _with_raw_claim(provider, "exp", "NaN", **logout_claims(provider))
    for _ in range(2):
        with pytest.raises(LogoutTokenError):
            provider.run(rp.verify_logout_token(token))


def test_non_finite_float_numeric_dates_are_refused() -> None:
    from cis2._id_token import numeric_date

    with pytest.raises(TokenValidationError) as caught:
        numeric_date({"exp": float("nan")}, "exp", "ID token")
    assert caught.value.claim == "exp"


def test_logout_iss_is_compared_with_the_discovered_issuer(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp(issuer=ISSUER.replace(":443", ""))
    with pytest.warns(UserWarning, match=":443"):
        provider.run(rp.metadata())
    event = provider.run(rp.verify_logout_token(provider.sign(logout_claims(provider))))
    assert event.iss == ISSUER


def test_signed_userinfo_is_rs256_only_unless_configured(
    provider: Provider, make_rp: RpFactory
) -> None:
    rs512 = SigningKey(provider_key(0).private_key, alg="RS512", kid="op-rs512")
    provider.keys = [provider_key(0), rs512]
    provider.userinfo_as_jwt = True
    provider.userinfo_key = rs512
    assert refused(provider, make_rp()).claim == "alg"
    provider.nonce = None
    sign_in(provider, make_rp(userinfo_signing_algs=frozenset({"RS256", "RS512"})))


def test_unicode_digits_in_assurance_claims_are_refused_by_name(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"id_assurance_level": "\u00b2"}
    assert refused(provider, make_rp()).claim == "id_assurance_level"


def test_unicode_digits_in_expires_in_are_refused_by_name() -> None:
    body = {"access_token": "a", "token_type": "Bearer", "expires_in": "\u00b2"}
    response = HttpResponse(200, {}, json.dumps(body).encode())
    with pytest.raises(TokenEndpointError) as caught:
        parse_token_response(response)
    assert caught.value.field == "expires_in"


def test_a_non_ascii_access_token_is_refused_not_a_traceback() -> None:
    body = {"access_token": "t\u00f6ken", "token_type": "Bearer"}
    response = HttpResponse(200, {}, json.dumps(body).encode())
    with pytest.raises(TokenEndpointError) as caught:
        parse_token_response(response)
    assert caught.value.field == "access_token"


def test_jti_store_expires_entries_out_of_insertion_order() -> None:
    store = MemoryJtiStore()
    assert store.add("late", expires_at=1000, now=0)
    assert store.add("early", expires_at=10, now=0)
    assert not store.add("late", expires_at=1000, now=20)
    assert store.add("early", expires_at=100, now=20)  # it expired at 10
    assert len(store) == 2


def test_jti_store_over_capacity_drops_the_soonest_to_expire() -> None:
    store = MemoryJtiStore(max_entries=2)
    store.add("a", expires_at=500, now=0)
    store.add("b", expires_at=50, now=0)
    store.add("c", expires_at=400, now=0)
    assert not store.add("a", expires_at=500, now=1)
    assert not store.add("c", expires_at=400, now=1)


def test_a_rate_limited_refetch_says_so(provider: Provider, make_rp: RpFactory) -> None:
    rp = make_rp()
    sign_in(provider, rp)
    provider.id_token_header = {"alg": "RS256", "kid": "made-up"}
    provider.nonce = None
    first = refused(provider, rp)
    provider.nonce = None
    second = refused(provider, rp)
    assert "even after a refetch" in first.message
    assert "not fetched again yet" in second.message


def test_a_corrupt_certificate_is_a_key_load_error() -> None:
    body = b64url_encode(b"not a certificate at all" * 4).replace("-", "+")
    pem = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    with pytest.raises(KeyLoadError, match="corrupt"):
        inspect_key(pem)
