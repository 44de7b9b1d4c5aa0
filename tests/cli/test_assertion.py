"""``cis2 assertion``: the assertion verifies and carries CIS2's claims."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from cis2 import environments
from cis2._client_auth import CLIENT_ASSERTION_TYPE
from cis2._jws import parse_compact, verify_signature
from cis2.keys import SigningKey

from .conftest import Result, Runner

CLIENT_ID = "999999999999.apps.national"


def _int_args(key_file: Path) -> tuple[str, ...]:
    return (
        "assertion",
        "--client-id",
        CLIENT_ID,
        "--env",
        "int",
        "--key",
        str(key_file),
    )


def _verified_claims(
    token: str, key: SigningKey
) -> tuple[dict[str, Any], dict[str, Any]]:
    jws = parse_compact(token)
    verify_signature(
        jws.unverified_header["alg"], key.public_key, jws.signing_input, jws.signature
    )
    return jws.unverified_header, jws.unverified_claims()


def test_assertion_for_int_has_the_exact_token_endpoint_as_aud(
    run: Runner, key_file: Path, signing_key: SigningKey
) -> None:
    before = int(time.time())
    result = run(
        "assertion", "--client-id", CLIENT_ID, "--env", "int", "--key", str(key_file)
    )

    assert result.code == 0, result.err
    header, claims = _verified_claims(result.out.strip(), signing_key)
    assert header == {"alg": "RS512", "kid": signing_key.kid, "typ": "JWT"}
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == environments.INT.token_endpoint
    assert ":443/" in str(claims["aud"])
    assert isinstance(claims["exp"], int) and isinstance(claims["iat"], int)
    assert claims["exp"] - claims["iat"] == 300
    assert before <= claims["iat"] <= before + 5
    assert "valid until" in result.err


def test_lifetime_alg_and_token_endpoint_are_honoured(
    run: Runner, key_file: Path, signing_key: SigningKey
) -> None:
    endpoint = "https://rp.test:443/token"
    result = run(
        "assertion",
        "--client-id",
        CLIENT_ID,
        "--token-endpoint",
        endpoint,
        "--key",
        str(key_file),
        "--alg",
        "RS256",
        "--lifetime",
        "120",
    )

    header, claims = _verified_claims(result.out.strip(), signing_key)
    assert header["alg"] == "RS256"
    assert claims["aud"] == endpoint
    assert claims["exp"] - claims["iat"] == 120


def test_a_cis2_token_endpoint_without_its_port_is_warned_about(
    run: Runner, key_file: Path
) -> None:
    portless = environments.INT.token_endpoint.replace(":443", "")
    args = ("assertion", "--client-id", CLIENT_ID, "--key", str(key_file))
    result = run(*args, "--token-endpoint", portless)
    assert result.code == 0
    assert "aud.missing_port" in result.err
    assert environments.INT.token_endpoint in result.err
    clean = run(*args, "--env", "int")
    assert "Warning" not in clean.err


def test_every_assertion_has_a_fresh_jti(
    run: Runner, key_file: Path, signing_key: SigningKey
) -> None:
    args = _int_args(key_file)
    first = _verified_claims(run(*args).out.strip(), signing_key)[1]
    second = _verified_claims(run(*args).out.strip(), signing_key)[1]

    assert first["jti"] != second["jti"]


def test_curl_is_a_complete_token_request(
    run: Runner, key_file: Path, signing_key: SigningKey
) -> None:
    result = run(
        *_int_args(key_file),
        "--curl",
        "--redirect-uri",
        "http://127.0.0.1:9999/callback",
    )

    words = shlex.split(result.out.replace("\\\n", " "))
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    assert words[4] == environments.INT.token_endpoint
    fields = dict(
        words[i + 1].split("=", 1)
        for i, word in enumerate(words)
        if word == "--data-urlencode"
    )
    assert fields["grant_type"] == "authorization_code"
    assert fields["code"] == "PASTE_THE_CODE_HERE"
    assert fields["redirect_uri"] == "http://127.0.0.1:9999/callback"
    assert fields["client_id"] == CLIENT_ID
    assert fields["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    claims = _verified_claims(fields["client_assertion"], signing_key)[1]
    assert claims["iss"] == CLIENT_ID


def test_settings_come_from_the_environment_and_cis2_toml(
    run: Runner,
    workdir: Path,
    key_file: Path,
    signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (workdir / "cis2.toml").write_text(f'client_id = "from-file"\nkey = "{key_file}"\n')
    monkeypatch.setenv("CIS2_ENV", "dep")

    from_file = run("assertion")
    flag_wins = run("assertion", "--client-id", "from-flag")

    claims = _verified_claims(from_file.out.strip(), signing_key)[1]
    assert claims["iss"] == "from-file"
    assert claims["aud"] == environments.DEP.token_endpoint
    assert _verified_claims(flag_wins.out.strip(), signing_key)[1]["iss"] == "from-flag"


def test_without_a_provider_the_error_says_what_to_pass_and_exits_2(
    run: Runner, key_file: Path
) -> None:
    result = run("assertion", "--client-id", CLIENT_ID, "--key", str(key_file))

    assert result.code == 2
    assert result.err.startswith("Error: No CIS2 provider is set")
    assert "--env" in result.err


def test_a_missing_client_id_is_a_usage_error_naming_the_three_ways(
    run: Runner, key_file: Path
) -> None:
    result = run("assertion", "--env", "int", "--key", str(key_file))

    assert result.code == 2
    assert result.err.startswith("Error: client_id is not set")
    assert "--client-id" in result.err and "CIS2_CLIENT_ID" in result.err
    assert len(result.err.splitlines()) == 1


def test_a_missing_key_is_a_usage_error(run: Runner) -> None:
    result = run("assertion", "--env", "int", "--client-id", CLIENT_ID)

    assert result.code == 2
    assert "key is not set" in result.err


def test_env_and_token_endpoint_together_is_a_usage_error(
    run: Runner, key_file: Path
) -> None:
    result = run(
        "assertion",
        "--client-id",
        CLIENT_ID,
        "--env",
        "int",
        "--token-endpoint",
        "https://x.test/token",
        "--key",
        str(key_file),
    )

    assert result.code == 2
    assert "not both" in result.err


@pytest.mark.parametrize(
    "endpoint", ["notaurl", "http://cis2.example/token", "ftp://127.0.0.1/token"]
)
def test_a_token_endpoint_that_is_not_an_https_url_is_refused(
    run: Runner, key_file: Path, endpoint: str
) -> None:
    result = _assertion_to(run, endpoint, key_file)

    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("Error: --token-endpoint is not an https URL")
    assert len(result.err.splitlines()) == 1


def test_a_bad_token_endpoint_from_the_environment_says_where_it_came_from(
    run: Runner, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CIS2_TOKEN_ENDPOINT", "notaurl")

    result = run("assertion", "--client-id", CLIENT_ID, "--key", str(key_file))

    assert result.code == 1
    assert "--token-endpoint (set by CIS2_TOKEN_ENDPOINT)" in result.err


def test_a_loopback_http_token_endpoint_is_accepted(
    run: Runner, key_file: Path
) -> None:
    endpoint = "http://127.0.0.1:9/token"

    result = _assertion_to(run, endpoint, key_file)

    assert result.code == 0, result.err
    assert parse_compact(result.out.strip()).unverified_claims()["aud"] == endpoint


def test_an_unknown_environment_names_the_known_ones(
    run: Runner, key_file: Path
) -> None:
    result = run(
        "assertion", "--client-id", CLIENT_ID, "--env", "prod", "--key", str(key_file)
    )

    assert result.code == 1
    assert "dev, int, dep, live" in result.err


def test_a_lifetime_over_300_is_a_usage_error(run: Runner, key_file: Path) -> None:
    result = run(
        *_int_args(key_file),
        "--lifetime",
        "3600",
    )

    assert result.code == 2
    assert "--lifetime" in result.err


def test_a_provider_flag_hides_a_provider_from_the_environment(
    run: Runner,
    key_file: Path,
    signing_key: SigningKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIS2_ENV", "int")
    endpoint = "https://rp.test:443/token"

    result = _assertion_to(run, endpoint, key_file)

    assert result.code == 0, result.err
    assert _verified_claims(result.out.strip(), signing_key)[1]["aud"] == endpoint


def _assertion_to(run: Runner, endpoint: str, key_file: Path) -> Result:
    """cis2 assertion with --token-endpoint endpoint and nothing else to say."""
    return run(
        "assertion", "--client-id", CLIENT_ID, "--token-endpoint", endpoint,
        "--key", str(key_file),
    )  # fmt: skip
