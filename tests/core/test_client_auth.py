"""The client assertion, to CIS2's rules (reference section 4.2)."""

from __future__ import annotations

import pytest
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import RSAKey

from cis2._client_auth import (
    CLIENT_ASSERTION_TYPE,
    ClientSecretPost,
    PrivateKeyJwt,
    make_client_assertion,
)
from cis2._jws import parse_compact
from cis2._secret import Secret
from cis2.environments import INT
from cis2.errors import ConfigurationError
from cis2.keys import SigningKey

CLIENT = "999999999999.apps.national"


def test_assertion_follows_cis2_rules(client_key: SigningKey) -> None:
    token = make_client_assertion(
        client_key, client_id=CLIENT, audience=INT.token_endpoint, now=1_700_000_000
    )
    jws = parse_compact(token)
    assert jws.unverified_header == {
        "alg": "RS512",
        "kid": client_key.kid,
        "typ": "JWT",
    }
    claims = jws.unverified_claims()
    assert claims["iss"] == claims["sub"] == CLIENT
    assert claims["aud"] == INT.token_endpoint
    assert ":443/" in claims["aud"]
    assert claims["iat"] == 1_700_000_000
    assert claims["exp"] == 1_700_000_300
    assert all(type(claims[name]) is int for name in ("iat", "exp"))
    assert len(claims["jti"]) == 36


def test_assertion_verifies_with_joserfc(client_key: SigningKey) -> None:
    token = make_client_assertion(
        client_key, client_id=CLIENT, audience=INT.token_endpoint, now=1_700_000_000
    )
    public = RSAKey.import_key(dict(client_key.public_jwk()))
    decoded = joserfc_jwt.decode(token, public, algorithms=["RS512"])
    assert decoded.claims["aud"] == INT.token_endpoint


def test_every_assertion_has_a_fresh_jti(client_key: SigningKey) -> None:
    auth = PrivateKeyJwt(client_key)
    jtis = {
        parse_compact(
            auth.assertion(CLIENT, "https://x.test:443/t", 0)
        ).unverified_claims()["jti"]
        for _ in range(50)
    }
    assert len(jtis) == 50


def test_form_fields_for_private_key_jwt(client_key: SigningKey) -> None:
    fields = PrivateKeyJwt(client_key).form_fields(CLIENT, INT.token_endpoint, 0)
    assert fields["client_id"] == CLIENT
    assert fields["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert "client_secret" not in fields


def test_client_secret_post_sends_the_secret_in_the_form() -> None:
    auth = ClientSecretPost(Secret("s3cret"))
    assert auth.form_fields(CLIENT, INT.token_endpoint, 0) == {
        "client_id": CLIENT,
        "client_secret": "s3cret",
    }
    assert "s3cret" not in repr(auth)


def test_lifetime_over_300_is_refused_unless_overridden(client_key: SigningKey) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PrivateKeyJwt(client_key, lifetime=600)
    assert caught.value.field == "assertion_lifetime"
    auth = PrivateKeyJwt(client_key, lifetime=600, allow_long_lifetime=True)
    claims = parse_compact(auth.assertion(CLIENT, "https://x.test/t", 0))
    assert claims.unverified_claims()["exp"] == 600


@pytest.mark.parametrize("lifetime", [0, -5])
def test_lifetime_must_be_positive(client_key: SigningKey, lifetime: int) -> None:
    with pytest.raises(ConfigurationError):
        PrivateKeyJwt(client_key, lifetime=lifetime)
