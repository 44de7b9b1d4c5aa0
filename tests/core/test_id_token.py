"""ID token validation, one test per rule (OIDC Core 3.1.3.7)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization

from cis2 import Login
from cis2._core import RelyingParty
from cis2._jws import b64url_encode
from cis2.errors import TokenValidationError

from .conftest import RpFactory
from .provider import CLIENT_ID, Provider, callback_for, nonce_of, provider_key


def sign_in(provider: Provider, rp: RelyingParty, **start: Any) -> Login:
    request = provider.run(rp.start_login(**start))
    if provider.nonce is None:
        provider.nonce = nonce_of(request.url)
    return provider.run(rp.finish_login(callback_for(request.url), request))


def refused(provider: Provider, rp: RelyingParty, **start: Any) -> TokenValidationError:
    with pytest.raises(TokenValidationError) as caught:
        sign_in(provider, rp, **start)
    return caught.value


def test_a_good_token_passes(provider: Provider, make_rp: RpFactory) -> None:
    login = sign_in(provider, make_rp(), acr_values="AAL3_ANY")
    assert login.sub == "656005750104"
    assert login.user.authentication_assurance_level == 3


def test_alg_none_is_refused(provider: Provider, make_rp: RpFactory) -> None:
    provider.id_token_header = {"alg": "none", "kid": provider.signing_key.kid}
    assert refused(provider, make_rp()).claim == "alg"


def test_hmac_keyed_with_the_public_key_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    public_pem = provider.signing_key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    rp = make_rp()
    request = provider.run(rp.start_login())
    claims = json.loads(_payload(provider.id_token(nonce=nonce_of(request.url))))
    header = b64url_encode(json.dumps({"alg": "HS256", "kid": "op-key-0"}).encode())
    body = b64url_encode(json.dumps(claims).encode())
    mac = hmac.HMAC(public_pem, hashes.SHA256())
    mac.update(f"{header}.{body}".encode())
    forged = f"{header}.{body}.{b64url_encode(mac.finalize())}"
    provider.token_body = _tokens(provider, forged)
    with pytest.raises(TokenValidationError) as caught:
        provider.run(rp.finish_login(callback_for(request.url), request))
    assert caught.value.claim == "alg"


def test_alg_outside_the_allow_list_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.signing_key = provider.keys[0] = _rs512()
    error = refused(provider, make_rp())
    assert error.claim == "alg" and "RS256" in error.message


def test_bad_signature_is_refused(provider: Provider, make_rp: RpFactory) -> None:
    rp = make_rp()
    request = provider.run(rp.start_login())
    token = provider.id_token(nonce=nonce_of(request.url))
    head, body, sig = token.split(".")
    tampered = f"{head}.{body}.{sig[:-4]}AAAA"
    provider.token_body = _tokens(provider, tampered)
    with pytest.raises(TokenValidationError) as caught:
        provider.run(rp.finish_login(callback_for(request.url), request))
    assert caught.value.claim == "signature"


def test_unknown_kid_triggers_one_refetch_that_finds_a_rotated_key(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    sign_in(provider, rp)
    provider.keys = [provider_key(0), provider_key(1)]
    provider.signing_key = provider_key(1)
    provider.requests.clear()
    provider.nonce = None
    sign_in(provider, rp)
    assert list(provider.paths()).count("jwk_uri") == 1


def test_unknown_kids_cannot_make_it_fetch_more_than_once_a_minute(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    sign_in(provider, rp)
    provider.id_token_header = {"alg": "RS256", "kid": "made-up"}
    for _ in range(5):
        provider.nonce = None
        assert refused(provider, rp).claim == "kid"
        provider.now += 5
    provider.now += 60
    provider.nonce = None
    refused(provider, rp)
    assert list(provider.paths()).count("jwk_uri") == 3


def test_no_kid_and_one_key_uses_that_key(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_header = {"alg": "RS256", "typ": "JWT"}
    sign_in(provider, make_rp())


def test_no_kid_and_several_keys_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.keys = [provider_key(0), provider_key(1)]
    provider.id_token_header = {"alg": "RS256"}
    assert refused(provider, make_rp()).claim == "kid"


@pytest.mark.parametrize(
    ("override", "claim"),
    [
        ({"iss": "https://cis2.test/openam"}, "iss"),
        ({"iss": None}, "iss"),
        ({"sub": None}, "sub"),
        ({"sub": ""}, "sub"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": None}, "aud"),
        ({"aud": [CLIENT_ID, "other"], "azp": None}, "azp"),
        ({"azp": "someone-else"}, "azp"),
        ({"exp": None}, "exp"),
        ({"exp": "1800000000"}, "exp"),
        ({"iat": None}, "iat"),
        ({"iat": True}, "iat"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"id_assurance_level": "three"}, "id_assurance_level"),
        ({"authentication_assurance_level": 3.5}, "authentication_assurance_level"),
        ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, "at_hash"),
    ],
)
def test_each_claim_rule_names_its_claim(
    provider: Provider, make_rp: RpFactory, override: dict[str, Any], claim: str
) -> None:
    provider.id_token_overrides = override
    assert refused(provider, make_rp()).claim == claim


def test_several_audiences_with_azp_pass(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"aud": ["other", CLIENT_ID]}
    sign_in(provider, make_rp())


def test_missing_nonce_is_refused(provider: Provider, make_rp: RpFactory) -> None:
    provider.nonce = "unused"
    provider.id_token_overrides = {"nonce": None}
    assert refused(provider, make_rp()).claim == "nonce"


def test_expired_token_within_leeway_passes_beyond_fails(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"exp": int(provider.now) - 30}
    sign_in(provider, make_rp())
    provider.nonce = None
    provider.id_token_overrides = {"exp": int(provider.now) - 61}
    assert refused(provider, make_rp()).claim == "exp"


def test_iat_in_the_future_and_nbf_are_checked(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"iat": int(provider.now) + 120}
    assert refused(provider, make_rp()).claim == "iat"
    provider.nonce = None
    provider.id_token_overrides = {"nbf": int(provider.now) + 120}
    assert refused(provider, make_rp()).claim == "nbf"


def test_auth_time_is_required_with_prompt_login(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"auth_time": None}
    assert refused(provider, make_rp()).claim == "auth_time"


def test_stale_auth_time_is_refused(provider: Provider, make_rp: RpFactory) -> None:
    provider.id_token_overrides = {"auth_time": int(provider.now) - 400}
    assert refused(provider, make_rp()).claim == "auth_time"


def test_max_age_applies_the_oidc_rule(provider: Provider, make_rp: RpFactory) -> None:
    provider.id_token_overrides = {"auth_time": int(provider.now) - 150}
    rp = make_rp(prompt=None, auth_time_max_age=None)
    sign_in(provider, rp, max_age=120)  # within the 60 s leeway
    provider.nonce = None
    provider.id_token_overrides = {"auth_time": int(provider.now) - 200}
    assert refused(provider, rp, max_age=120).claim == "auth_time"


def test_without_prompt_or_max_age_auth_time_is_not_required(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"auth_time": None}
    sign_in(provider, make_rp(prompt=None))


@pytest.mark.parametrize(
    ("requested", "achieved", "ok"),
    [
        ("AAL3_ANY", "AAL3_ANY", True),
        ("AAL3_ANY", "AAL2_ANY", False),
        ("AAL2_OR_AAL3_ANY", "AAL3_ANY", True),
        ("AAL2_OR_AAL3_ANY", "AAL2_TOTP", True),
        ("AAL2_OR_AAL3_ANY", "AAL1_USERPASS", False),
        ("AAL2_ANY", "AAL3_N3_SMARTCARD", True),
        ("AAL1_USERPASS", "AAL1_USERPASS", True),
        ("AAL3_FIDO2", "AAL3_ANY", True),
        ("custom", "other", False),
    ],
)
def test_acr_must_satisfy_the_request(
    provider: Provider, make_rp: RpFactory, requested: str, achieved: str, ok: bool
) -> None:
    provider.id_token_overrides = {"acr": achieved}
    if ok:
        sign_in(provider, make_rp(), acr_values=requested)
    else:
        assert refused(provider, make_rp(), acr_values=requested).claim == "acr"


def test_missing_acr_is_refused_when_acr_values_sent(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"acr": None}
    assert refused(provider, make_rp(), acr_values="AAL3_ANY").claim == "acr"


def test_integer_assurance_levels_are_accepted(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {
        "id_assurance_level": 3,
        "authentication_assurance_level": 2,
    }
    user = sign_in(provider, make_rp()).user
    assert (user.id_assurance_level, user.authentication_assurance_level) == (3, 2)


@pytest.mark.parametrize(("level", "ok"), [("3", True), (3, True), ("2", False)])
def test_min_id_assurance_level_is_enforced_when_asked(
    provider: Provider, make_rp: RpFactory, level: object, ok: bool
) -> None:
    provider.id_token_overrides = {"id_assurance_level": level}
    rp = make_rp(min_id_assurance_level=3)
    if ok:
        sign_in(provider, rp)
    else:
        assert refused(provider, rp).claim == "id_assurance_level"


def test_missing_id_assurance_level_fails_a_minimum(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.id_token_overrides = {"id_assurance_level": None}
    sign_in(provider, make_rp())
    provider.nonce = None
    rp = make_rp(min_id_assurance_level=3)
    assert refused(provider, rp).claim == "id_assurance_level"


def test_crit_header_is_refused(provider: Provider, make_rp: RpFactory) -> None:
    key = provider.signing_key
    provider.id_token_header = {"alg": "RS256", "kid": key.kid, "crit": ["exp"]}
    assert refused(provider, make_rp()).claim == "crit"


def _payload(token: str) -> bytes:
    from cis2._jws import parse_compact

    return parse_compact(token).payload


def _tokens(provider: Provider, id_token: str) -> dict[str, Any]:
    return {
        "access_token": provider.access_token,
        "token_type": "Bearer",
        "expires_in": 3599,
        "id_token": id_token,
    }


def _rs512() -> Any:
    from cis2.keys import SigningKey

    base = provider_key(0)
    return SigningKey(base.private_key, alg="RS512", kid=base.kid)
