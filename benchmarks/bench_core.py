"""The relying party's hot paths against the bare RSA operations under them.

Every login mints one client assertion (an RSA signature) and validates one
ID token (an RSA verification plus the claim checks). The goals compare
each with the bare cryptography operation it cannot avoid, measured in the
same run, with PyJWT and joserfc doing the same work shown beside it:

- minting an assertion: at least 0.95 x the rate of a bare RSA-2048
  PKCS#1 v1.5 SHA-512 signature;
- validating an ID token, signature and every claim check, keys cached: at
  least 0.55 x the rate of a bare RSA-2048 verification.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt as joserfc_jwt
from joserfc.jwk import RSAKey
from joserfc.jwt import JWTClaimsRegistry

from cis2._client_auth import PrivateKeyJwt
from cis2._core import RelyingParty, Settings
from cis2._http import HttpResponse
from cis2._id_token import IdTokenExpectations, check_id_token_claims
from cis2._jws import parse_compact
from cis2.keys import generate_signing_key

from ._rows import ratio_row

ASSERTION_GOAL = 0.95
VALIDATION_GOAL = 0.55
ISSUER = "https://cis2.test:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
CLIENT_ID = "999999999999.apps.national"
TOKEN_ENDPOINT = f"{ISSUER}/access_token"


def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 0.3 if quick else 1.5
    return _assertion_rows(seconds) + _validation_rows(seconds)


def _assertion_rows(seconds: float) -> list[dict[str, Any]]:
    key = generate_signing_key(alg="RS512")
    auth = PrivateKeyJwt(key)
    private = key.private_key
    data = b"x" * 600  # about the size of an assertion's signing input
    pkcs1, sha512 = padding.PKCS1v15(), hashes.SHA512()
    joserfc_key = RSAKey.import_key(private)
    header = {"alg": "RS512", "kid": key.kid, "typ": "JWT"}

    def claims() -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": CLIENT_ID,
            "sub": CLIENT_ID,
            "aud": TOKEN_ENDPOINT,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "exp": now + 300,
        }

    rates = _interleaved(
        {
            "bare": lambda: private.sign(data, pkcs1, sha512),
            "cis2": lambda: auth.assertion(CLIENT_ID, TOKEN_ENDPOINT, int(time.time())),
            "pyjwt": lambda: pyjwt.encode(claims(), private, "RS512", headers=header),
            "joserfc": lambda: joserfc_jwt.encode(
                header, claims(), joserfc_key, algorithms=["RS512"]
            ),
        },
        seconds,
    )
    return _rows("mint client assertion", rates, ASSERTION_GOAL)


def _validation_rows(seconds: float) -> list[dict[str, Any]]:
    op_key = generate_signing_key(alg="RS256", kid="op-key")
    rp = _warm_relying_party(op_key)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "656005750104",
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "nonce": "n-0S6_WzA2Mj",
        "acr": "AAL3_ANY",
        "amr": ["N3_SMARTCARD"],
        "sid": str(uuid.uuid4()),
        "id_assurance_level": "3",
        "authentication_assurance_level": "3",
        "auditTrackingId": str(uuid.uuid4()),
        "tokenName": "id_token",
        "realm": "/NHSIdentity/Healthcare",
    }
    token = op_key.sign_jwt(claims)
    jws = parse_compact(token)
    public = op_key.public_key
    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    expected = IdTokenExpectations(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        algs=frozenset({"RS256"}),
        leeway=60,
        nonce="n-0S6_WzA2Mj",
        acr_values="AAL3_ANY",
        auth_time_max_age=3600,
    )
    joserfc_key = RSAKey.import_key(public)
    registry = JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": CLIENT_ID},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": "n-0S6_WzA2Mj"},
        acr={"essential": True, "value": "AAL3_ANY"},
    )

    def cis2_validate() -> None:
        # What finish_login does with the ID token: verify, then every claim.
        claims, alg = _drive(rp.verified_claims(token, expected.algs, "ID token"))
        check_id_token_claims(claims, expected, alg, time.time())

    def joserfc_validate() -> None:
        decoded = joserfc_jwt.decode(token, joserfc_key, algorithms=["RS256"])
        registry.validate(decoded.claims)

    def pyjwt_validate() -> None:
        pyjwt.decode(
            token,
            public,
            algorithms=["RS256"],
            audience=CLIENT_ID,
            issuer=ISSUER,
            leeway=60,
            options={"require": ["exp", "iat", "sub", "nonce", "auth_time"]},
        )

    cis2_validate()  # a failing check would make the benchmark meaningless
    rates = _interleaved(
        {
            "bare": lambda: public.verify(
                jws.signature, jws.signing_input, pkcs1, sha256
            ),
            "cis2": cis2_validate,
            "joserfc": joserfc_validate,
            "pyjwt": pyjwt_validate,
        },
        seconds,
    )
    return _rows("validate ID token", rates, VALIDATION_GOAL)


def _warm_relying_party(op_key: Any) -> RelyingParty:
    settings = Settings(ISSUER, CLIENT_ID, "https://app.test/cb", PrivateKeyJwt(op_key))
    rp = RelyingParty(settings)
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": TOKEN_ENDPOINT,
        "jwks_uri": f"{ISSUER}/connect/jwk_uri",
    }
    answers = [
        HttpResponse(200, {}, json.dumps(document).encode()),
        HttpResponse(200, {}, json.dumps({"keys": [op_key.public_jwk()]}).encode()),
    ]
    operation = rp._key_for(parse_compact(op_key.sign_jwt({})), "RS256")
    next(operation)
    try:
        for answer in answers:
            operation.send(answer)
    except StopIteration:
        pass
    return rp


def _drive(operation: Any) -> Any:
    try:
        request = next(operation)
    except StopIteration as done:
        return done.value
    raise AssertionError(f"a warm validation made a request: {request}")


def _interleaved(
    work: dict[str, Callable[[], object]], seconds: float, rounds: int = 5
) -> dict[str, float]:
    """Each callable's best rate (calls per second) over interleaved rounds.

    The best round is the least disturbed one (timeit's convention): on a
    shared machine, noise only ever adds time. Interleaving keeps a slow
    spell from falling on one callable alone.
    """
    best = dict.fromkeys(work, 0.0)
    for _ in range(rounds):
        for name, call in work.items():
            count, started = 0, time.perf_counter()
            deadline = started + seconds / rounds
            while True:
                for _ in range(20):
                    call()
                count += 20
                now = time.perf_counter()
                if now >= deadline:
                    break
            best[name] = max(best[name], count / (now - started))
    return best


def _rows(task: str, rates: dict[str, float], goal: float) -> list[dict[str, Any]]:
    """cis2 against its goal, the two JOSE libraries shown beside it."""
    return [
        ratio_row(
            f"{task}: {name} vs bare RSA",
            rates[name],
            rates["bare"],
            goal=goal if name == "cis2" else None,
            unit="per s",
            places=0,
        )
        for name in ("cis2", "joserfc", "pyjwt")
    ]
