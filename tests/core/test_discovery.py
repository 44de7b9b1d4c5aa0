"""Discovery: exact issuer, https, caching (reference section 1.1)."""

from __future__ import annotations

import pytest

from cis2._http import HttpResponse
from cis2.errors import Cis2Warning, ConfigurationError, DiscoveryError

from .conftest import RpFactory
from .provider import ISSUER, Provider


def test_discovery_is_fetched_once_and_cached(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp()
    first = provider.run(rp.metadata())
    provider.now += 3599
    assert provider.run(rp.metadata()) is first
    assert list(provider.paths()) == ["openid-configuration"]
    provider.now += 2
    provider.run(rp.metadata())
    assert list(provider.paths()) == ["openid-configuration"] * 2


def test_cache_control_max_age_is_honoured(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.cache_control = "public, max-age=60"
    rp = make_rp()
    provider.run(rp.metadata())
    provider.now += 61
    provider.run(rp.metadata())
    assert len(provider.requests) == 2


def test_issuer_must_match_byte_for_byte(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.discovery_overrides["issuer"] = ISSUER.replace(":443", "")
    with pytest.raises(DiscoveryError) as caught:
        provider.run(make_rp().metadata())
    assert caught.value.field == "issuer"


def test_trailing_slash_in_the_published_issuer_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.discovery_overrides["issuer"] = ISSUER + "/"
    with pytest.raises(DiscoveryError, match="byte for byte"):
        provider.run(make_rp().metadata())


def test_portless_issuer_takes_the_published_443_verbatim(
    provider: Provider, make_rp: RpFactory
) -> None:
    rp = make_rp(issuer=ISSUER.replace(":443", ""))
    with pytest.warns(Cis2Warning, match=":443"):
        metadata = provider.run(rp.metadata())
    assert metadata.issuer == ISSUER
    assert provider.requests[0].url.startswith(ISSUER.replace(":443", ""))


def test_http_issuer_is_refused_unless_loopback(make_rp: RpFactory) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        make_rp(issuer="http://cis2.test/openam")
    make_rp(issuer="http://127.0.0.1:8400/openam")
    make_rp(issuer="http://[::1]:8400/openam")


def test_http_endpoint_in_an_https_document_is_refused(
    provider: Provider, make_rp: RpFactory
) -> None:
    provider.discovery_overrides["token_endpoint"] = "http://cis2.test/access_token"
    with pytest.raises(DiscoveryError) as caught:
        provider.run(make_rp().metadata())
    assert caught.value.field == "token_endpoint"


def test_retired_host_is_refused(make_rp: RpFactory) -> None:
    with pytest.raises(ConfigurationError, match="retired"):
        make_rp(issuer="https://am.nhsint.ptl.nhsd-esa.net:443/openam")


@pytest.mark.parametrize(
    "missing", ["authorization_endpoint", "token_endpoint", "jwks_uri"]
)
def test_required_metadata_is_named(
    provider: Provider, make_rp: RpFactory, missing: str
) -> None:
    provider.discovery_overrides[missing] = None
    with pytest.raises(DiscoveryError) as caught:
        provider.run(make_rp().metadata())
    assert caught.value.field == missing


def test_non_json_and_error_statuses_are_named(make_rp: RpFactory) -> None:
    rp = make_rp()
    operation = rp.metadata()
    next(operation)
    with pytest.raises(DiscoveryError, match="not JSON"):
        operation.send(HttpResponse(200, {}, b"<html>login</html>"))
    operation = rp.metadata()
    next(operation)
    with pytest.raises(DiscoveryError, match="HTTP 404"):
        operation.send(HttpResponse(404, {}, b""))
