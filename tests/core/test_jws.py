"""The hand-written JWS layer against joserfc and PyJWT, in both directions."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jws as joserfc_jws
from joserfc.jwk import ECKey, RSAKey

from cis2._jws import (
    b64url_decode,
    b64url_encode,
    parse_compact,
    sign_compact,
    verify_signature,
)
from cis2.errors import MalformedTokenError, TokenValidationError

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEYS = {
    "ES256": ec.generate_private_key(ec.SECP256R1()),
    "ES384": ec.generate_private_key(ec.SECP384R1()),
    "ES512": ec.generate_private_key(ec.SECP521R1()),
}
RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
PAYLOAD = json.dumps({"sub": "656005750104", "n": 1}).encode()


def _key(alg: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    return EC_KEYS[alg] if alg.startswith("ES") else RSA_KEY


def _joserfc_key(alg: str) -> RSAKey | ECKey:
    if alg.startswith("ES"):
        return ECKey.import_key(EC_KEYS[alg])
    return RSAKey.import_key(RSA_KEY)


@pytest.mark.parametrize("alg", RSA_ALGS + list(EC_KEYS))
def test_our_signature_verifies_with_joserfc(alg: str) -> None:
    token = sign_compact({"alg": alg, "kid": "k"}, PAYLOAD, _key(alg), alg)
    result = joserfc_jws.deserialize_compact(token, _joserfc_key(alg), algorithms=[alg])
    assert result.payload == PAYLOAD


@pytest.mark.parametrize("alg", RSA_ALGS + list(EC_KEYS))
def test_joserfc_signature_verifies_with_ours(alg: str) -> None:
    token = joserfc_jws.serialize_compact(
        {"alg": alg}, PAYLOAD, _joserfc_key(alg), algorithms=[alg]
    )
    jws = parse_compact(token)
    verify_signature(alg, _key(alg).public_key(), jws.signing_input, jws.signature)
    assert jws.payload == PAYLOAD


@pytest.mark.parametrize("alg", ["RS256", "RS512", "PS256", "ES256"])
def test_pyjwt_agrees_both_ways(alg: str) -> None:
    key = _key(alg)
    ours = sign_compact({"alg": alg, "typ": "JWT"}, PAYLOAD, key, alg)
    assert pyjwt.decode(ours, key.public_key(), algorithms=[alg])["n"] == 1
    theirs = pyjwt.encode({"n": 2}, key, algorithm=alg)
    jws = parse_compact(theirs)
    verify_signature(alg, key.public_key(), jws.signing_input, jws.signature)


def test_tampered_payload_is_refused() -> None:
    token = sign_compact({"alg": "RS256"}, PAYLOAD, RSA_KEY, "RS256")
    header, _, signature = token.split(".")
    other = b64url_encode(b'{"sub":"other"}')
    forged = f"{header}.{other}.{signature}"
    jws = parse_compact(forged)
    with pytest.raises(TokenValidationError) as caught:
        verify_signature(
            "RS256", RSA_KEY.public_key(), jws.signing_input, jws.signature
        )
    assert caught.value.claim == "signature"


def test_alg_of_another_key_type_is_refused() -> None:
    token = sign_compact({"alg": "RS256"}, PAYLOAD, RSA_KEY, "RS256")
    jws = parse_compact(token)
    with pytest.raises(TokenValidationError) as caught:
        verify_signature(
            "ES256", RSA_KEY.public_key(), jws.signing_input, jws.signature
        )
    assert caught.value.claim == "alg"


@pytest.mark.parametrize(
    ("token", "part"),
    [
        ("a.b", "token"),
        ("a.b.c.d", "token"),
        ("!!!.e30.", "header"),
        (f"{b64url_encode(b'[1]')}.e30.", "header"),
        (f"{b64url_encode(b'not json')}.e30.", "header"),
        ("eyJhbGciOiJSUzI1NiJ9=.e30.", "header"),
        ("eyJhbGciOiJSUzI1NiJ9.e30 .", "payload"),
    ],
)
def test_malformed_tokens_name_the_part(token: str, part: str) -> None:
    with pytest.raises(MalformedTokenError) as caught:
        parse_compact(token)
    assert caught.value.claim == part


def test_base64url_round_trip_has_no_padding() -> None:
    for size in range(8):
        data = bytes(range(size))
        encoded = b64url_encode(data)
        assert "=" not in encoded
        assert b64url_decode(encoded) == data
