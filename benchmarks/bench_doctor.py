"""The doctor on the client's error path, against the RSA signature before it.

When CIS2 answers invalid_client, the client runs ``diagnose`` on the
assertion it just sent (signed a moment before with one RSA-2048 SHA-512
signature) and attaches the findings to the error. The goal: diagnosing
that assertion with the client's context (client_id, token endpoint,
registered alg, the SigningKey, so the signature is verified too) runs at
least as fast as the bare signature that made it, ratio >= 1.0. A second
row, shown without a goal, adds the registered JWKS as a mapping (parsed
per call) and a broken assertion (an API key as iss, aud without :443).
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from cis2._client_auth import PrivateKeyJwt
from cis2.doctor import diagnose
from cis2.environments import INT
from cis2.keys import generate_signing_key, jwks

from ._rows import ratio_row

GOAL = 1.0
CLIENT_ID = "999999999999.apps.national"


def run(quick: bool) -> list[dict[str, Any]]:
    key = generate_signing_key(alg="RS512")
    now = int(time.time())
    good = PrivateKeyJwt(key).assertion(CLIENT_ID, INT.token_endpoint, now)
    broken = PrivateKeyJwt(key).assertion(
        "Zx9kQ2mB7vT4pL1sW8nR3cY6hJ0aF5dG",
        INT.token_endpoint.replace(":443", ""),
        now - 200,
    )
    registered = jwks(key)
    data = good.rpartition(".")[0].encode()
    pkcs1, sha512 = padding.PKCS1v15(), hashes.SHA512()
    context: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "token_endpoint": INT.token_endpoint,
        "alg": "RS512",
        "key": key,
        "now": now,
    }
    if diagnose(good, **context).findings:
        raise AssertionError("the benchmark's good assertion has findings")
    number = 20 if quick else 100
    bare = _rate(lambda: key.private_key.sign(data, pkcs1, sha512), number)
    client_path = _rate(lambda: diagnose(good, **context), number)
    full = _rate(lambda: diagnose(broken, **context, jwks=registered), number)
    return [
        ratio_row(
            "diagnose on invalid_client vs bare RSA sign",
            client_path,
            bare,
            goal=GOAL,
            unit="per s",
            places=0,
        ),
        ratio_row(
            "diagnose, JWKS and 2 findings vs bare RSA sign",
            full,
            bare,
            goal=None,
            unit="per s",
            places=0,
        ),
    ]


def _rate(call: Callable[[], object], number: int) -> float:
    """Calls per second: the best of five rounds of number calls."""
    call()
    best = min(timeit.Timer(call).repeat(repeat=5, number=number))
    return number / best
