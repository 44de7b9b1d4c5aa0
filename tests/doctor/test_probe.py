"""probe and load_jwks against a real token endpoint on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import jwt
import pytest

from cis2.doctor import PROBE_CODE, explain_probe, load_jwks, probe
from cis2.doctor._diagnose import read_jwks_document
from cis2.errors import JwksError, ProviderUnreachableError

from .kit import API_KEY, CLIENT_ID, Kit
from .server import FakeCis2, serving


@pytest.fixture
def cis2_like(kit: Kit) -> Iterator[FakeCis2]:
    with serving(FakeCis2(CLIENT_ID, kit.jwks())) as fake:
        yield fake


def test_an_accepted_assertion_gets_invalid_grant(
    kit: Kit, cis2_like: FakeCis2
) -> None:
    result = probe(
        token_endpoint=cis2_like.token_endpoint, client_id=CLIENT_ID, key=kit.key
    )
    assert result.accepted is True
    assert (result.status_code, result.error) == (400, "invalid_grant")
    assert result.report is None
    (sent,) = cis2_like.seen
    assert sent["code"] == PROBE_CODE and sent["grant_type"] == "authorization_code"
    assert result.sent_claims["jti"] == _jti_seen(sent)
    assert "accepted" in result.summary()


def test_a_refused_assertion_is_diagnosed_as_sent(
    kit: Kit, cis2_like: FakeCis2
) -> None:
    cis2_like.jwks = kit.jwks(kit.other)  # The registration holds a stale key.
    result = probe(
        token_endpoint=cis2_like.token_endpoint, client_id=CLIENT_ID, key=kit.key
    )
    assert result.accepted is False
    assert (result.status_code, result.error) == (401, "invalid_client")
    assert result.error_description == "JWT is not valid"
    assert result.report is not None and result.report.ok
    (sent,) = cis2_like.seen
    assert result.report.claims is not None
    assert result.report.claims["aud"] == cis2_like.token_endpoint
    assert result.report.claims["jti"] == _jti_seen(sent)
    assert "registration" in result.summary()


def test_a_refused_api_key_is_named_by_the_rules(kit: Kit, cis2_like: FakeCis2) -> None:
    result = probe(
        token_endpoint=cis2_like.token_endpoint, client_id=API_KEY, key=kit.key
    )
    assert result.accepted is False and result.report is not None
    assert [f.rule for f in result.report.findings] == ["iss.api_platform_key"]


def test_another_answer_proves_nothing(kit: Kit, cis2_like: FakeCis2) -> None:
    result = probe(
        token_endpoint=cis2_like.token_endpoint,
        client_id=CLIENT_ID,
        key=kit.key,
        redirect_uri="https://elsewhere.example/cb",
    )
    assert result.accepted is None and result.error == "redirect_uri_mismatch"
    assert "neither proves nor disproves" in result.summary()


def test_the_explanation_names_what_is_sent_but_not_the_signature(
    kit: Kit, cis2_like: FakeCis2
) -> None:
    before = explain_probe(
        token_endpoint=cis2_like.token_endpoint, client_id=CLIENT_ID, key=kit.key
    )
    assert "real token endpoint" in before and PROBE_CODE in before
    result = probe(
        token_endpoint=cis2_like.token_endpoint, client_id=CLIENT_ID, key=kit.key
    )
    after = result.explain_request()
    (sent,) = cis2_like.seen
    signature = sent["client_assertion"].split(".")[2]
    assert signature not in after and sent["client_assertion"] not in after
    assert result.sent_claims["jti"] in after and kit.key.kid in after


def test_no_answer_raises_provider_unreachable(kit: Kit) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderUnreachableError) as raised:
        probe(
            token_endpoint=f"http://127.0.0.1:{port}/access_token",
            client_id=CLIENT_ID,
            key=kit.key,
        )
    assert raised.value.field == "token_endpoint"


def test_load_jwks_fetches_a_url(kit: Kit, cis2_like: FakeCis2) -> None:
    keys = load_jwks(f"{cis2_like.base_url}/jwks.json")
    assert [k.kid for k in keys.keys] == [kit.key.kid]


@pytest.mark.parametrize(
    ("path", "words"), [("/missing", "404"), ("/not-json", "JSON")]
)
def test_load_jwks_names_a_bad_url(cis2_like: FakeCis2, path: str, words: str) -> None:
    with pytest.raises(JwksError) as raised:
        load_jwks(f"{cis2_like.base_url}{path}?token=hidden")
    assert words in raised.value.message and "hidden" not in raised.value.message


def _jti_seen(form: dict[str, str]) -> str:
    claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
    return str(claims["jti"])


def test_read_jwks_document_from_a_url_keeps_what_diagnose_needs(
    kit: Kit, cis2_like: FakeCis2
) -> None:
    document = read_jwks_document(f"{cis2_like.base_url}/jwks.json")

    assert document == kit.jwks()
    assert len(load_jwks(document)) == 1
