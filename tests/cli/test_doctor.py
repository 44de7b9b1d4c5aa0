"""``cis2 doctor`` and the assertion it judges, against the simulator."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import httpx
import pytest

from cis2._jws import parse_compact
from cis2.keys import SigningKey, generate_signing_key
from cis2.simulator.testing import RunningSimulator

from .conftest import CLIENT_ID, Runner, free_port


@pytest.fixture
def jwks_file(run: Runner, workdir: Path, key_file: Path) -> Path:
    published = run("keys", "jwks", str(key_file))
    path = workdir / "jwks.json"
    path.write_text(published.out)
    return path


def _assertion(run: Runner, sim: RunningSimulator, key_file: Path, *more: str) -> str:
    result = run(
        "assertion", "--client-id", CLIENT_ID, "--token-endpoint",
        sim.token_endpoint, "--key", str(key_file), *more,
    )  # fmt: skip
    assert result.code == 0, result.err
    return result.out.strip()


def _doctor_args(sim: RunningSimulator, jwks_file: Path) -> tuple[str, ...]:
    return (
        "--client-id", CLIENT_ID, "--token-endpoint", sim.token_endpoint,
        "--alg", "RS512", "--jwks", str(jwks_file),
    )  # fmt: skip


def test_the_simulator_accepts_the_assertion_cis2_assertion_makes(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    signed = _assertion(run, sim, key_file)

    answer = httpx.post(
        sim.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": "no-such-code",
            "redirect_uri": "http://127.0.0.1:1/callback",
            "client_id": CLIENT_ID,
            "client_assertion_type": (
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ),
            "client_assertion": signed,
        },
    )

    # invalid_grant: the client authentication passed, only the code failed.
    assert answer.json()["error"] == "invalid_grant"


def test_with_an_issuer_the_aud_is_the_discovered_token_endpoint(
    run: Runner, sim: RunningSimulator, key_file: Path, signing_key: SigningKey
) -> None:
    result = run(
        "assertion", "--client-id", CLIENT_ID, "--issuer", sim.issuer,
        "--key", str(key_file),
    )  # fmt: skip

    assert result.code == 0, result.err
    claims = parse_compact(result.out.strip()).unverified_claims()
    assert claims["aud"] == sim.token_endpoint


def test_an_issuer_without_discovery_is_named(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    result = run(
        "assertion", "--client-id", CLIENT_ID, "--issuer", sim.base_url + "/nothing",
        "--key", str(key_file),
    )  # fmt: skip

    assert result.code == 1
    assert "Discovery answered HTTP 404" in result.err


def test_an_issuer_that_does_not_answer_says_to_check_it(
    run: Runner, key_file: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/realm"

    result = run(
        "assertion", "--client-id", CLIENT_ID, "--issuer", closed,
        "--key", str(key_file),
    )  # fmt: skip

    assert result.code == 1
    assert "No answer from" in result.err
    assert "--token-endpoint" in result.err


def test_the_curl_request_reaches_the_token_endpoint_as_written(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    printed = run(
        "assertion", "--client-id", CLIENT_ID, "--token-endpoint",
        sim.token_endpoint, "--key", str(key_file), "--curl",
    ).out  # fmt: skip
    words = shlex.split(printed.replace("\\\n", " "))
    form = dict(
        words[i + 1].split("=", 1)
        for i, word in enumerate(words)
        if word == "--data-urlencode"
    )

    answer = httpx.post(words[4], data=form)

    assert answer.json()["error"] == "invalid_grant"


def test_a_good_assertion_is_healthy(
    run: Runner, sim: RunningSimulator, key_file: Path, jwks_file: Path
) -> None:
    signed = _assertion(run, sim, key_file)

    result = run("doctor", signed, *_doctor_args(sim, jwks_file))

    assert result.code == 0, result.out + result.err
    assert "no problems found" in result.out


def test_a_wrong_alg_is_named_with_its_fix_and_exits_1(
    run: Runner, sim: RunningSimulator, key_file: Path, jwks_file: Path, workdir: Path
) -> None:
    (workdir / "sent.jwt").write_text(_assertion(run, sim, key_file, "--alg", "RS256"))

    result = run("doctor", "sent.jwt", *_doctor_args(sim, jwks_file), "--json")

    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False
    assert "alg.registered" in {finding["rule"] for finding in report["findings"]}
    assert report["header"]["alg"] == "RS256"


def test_at_judges_the_times_at_another_instant(
    run: Runner, sim: RunningSimulator, key_file: Path, jwks_file: Path
) -> None:
    signed = _assertion(run, sim, key_file)
    later = str(int(time.time()) + 3600)

    result = run(
        "doctor", signed, *_doctor_args(sim, jwks_file), "--at", later, "--json"
    )

    assert result.code == 1
    fields = {finding["field"] for finding in json.loads(result.out)["findings"]}
    assert "exp" in fields


def test_the_same_assertion_twice_on_stdin_is_a_jti_replay(
    run: Runner,
    sim: RunningSimulator,
    key_file: Path,
    jwks_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    signed = _assertion(run, sim, key_file)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{signed}\n{signed}\n"))

    result = run("doctor", "-", *_doctor_args(sim, jwks_file), "--json")

    assert result.code == 1
    reports = json.loads(result.out)["reports"]
    assert len(reports) == 2
    second = {finding["field"] for finding in reports[1]["findings"]}
    assert "jti" in second


def test_an_unreadable_argument_says_what_to_give(run: Runner) -> None:
    result = run("doctor", "no-such-file")

    assert result.code == 1
    assert "neither an assertion nor a file" in result.err


def test_probe_with_the_registered_key_is_accepted(
    run: Runner, sim: RunningSimulator, key_file: Path, jwks_file: Path
) -> None:
    signed = _assertion(run, sim, key_file)

    result = run(
        "doctor", signed, *_doctor_args(sim, jwks_file), "--key", str(key_file),
        "--probe", "--json",
    )  # fmt: skip

    assert result.code == 0, result.out + result.err
    assert json.loads(result.out)["probe"]["accepted"] is True


def test_probe_with_an_unregistered_key_is_refused(
    run: Runner, sim: RunningSimulator, key_file: Path, jwks_file: Path, workdir: Path
) -> None:
    stranger = workdir / "stranger.pem"
    stranger.write_bytes(generate_signing_key().private_pem())
    stranger.chmod(0o600)
    signed = _assertion(run, sim, key_file)

    result = run(
        "doctor", signed, *_doctor_args(sim, jwks_file), "--key", str(stranger),
        "--probe",
    )  # fmt: skip

    assert result.code == 1
    assert "refused the client authentication" in result.out
    assert "BEGIN" not in result.out


def test_probe_alone_needs_no_assertion(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    result = run(
        "doctor", "--probe", "--client-id", CLIENT_ID, "--token-endpoint",
        sim.token_endpoint, "--key", str(key_file),
    )  # fmt: skip

    assert result.code == 0, result.out + result.err
    assert "accepted the client authentication" in result.out


def test_doctor_without_an_assertion_or_probe_is_a_usage_error(run: Runner) -> None:
    result = run("doctor", "--env", "int")

    assert result.code == 2
    assert "--probe" in result.err


def test_a_jwks_holding_the_private_exponent_is_named_from_the_cli(
    run: Runner,
    sim: RunningSimulator,
    key_file: Path,
    signing_key: SigningKey,
    workdir: Path,
) -> None:
    # The published key with its private exponent d added, as a JWKS made by
    # exporting the whole private JWK would hold it.
    exponent = signing_key.private_key.private_numbers().d
    leaked = {**signing_key.public_jwk(), "d": _base64url_int(exponent)}
    jwks_path = workdir / "leaky-jwks.json"
    jwks_path.write_text(json.dumps({"keys": [leaked]}))
    signed = _assertion(run, sim, key_file)

    result = run("doctor", signed, *_doctor_args(sim, jwks_path), "--json")

    assert result.code == 1
    rules = {finding["rule"] for finding in json.loads(result.out)["findings"]}
    assert "jwks.private_members" in rules
    assert _base64url_int(exponent) not in result.out + result.err


def test_a_jwks_without_keys_is_still_a_one_line_error(
    run: Runner, sim: RunningSimulator, key_file: Path, workdir: Path
) -> None:
    jwks_path = workdir / "not-jwks.json"
    jwks_path.write_text('{"kty": "RSA"}')

    result = run("doctor", _assertion(run, sim, key_file), "--jwks", str(jwks_path))

    assert result.code == 1
    assert result.err.startswith("Error: ")
    assert len(result.err.splitlines()) == 1


def _base64url_int(value: int) -> str:
    import base64

    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_the_doctors_notes_name_the_commands_flags(run: Runner, key_file: Path) -> None:
    api_platform = "https://int.api.service.nhs.uk/oauth2/token"
    signed = run(
        "assertion", "--client-id", CLIENT_ID, "--token-endpoint", api_platform,
        "--key", str(key_file),
    ).out.strip()  # fmt: skip

    result = run("doctor", signed)

    notes = [line for line in result.out.splitlines() if line.startswith("Note:")]
    assert len(notes) == 5, result.out
    shown = "\n".join(notes)
    for flag in ("--jwks", "--key", "--cis2", "--env", "--token-endpoint"):
        assert flag in shown
    for flag in ("--client-id", "--alg"):
        assert flag in shown
    for parameter in ("(jwks)", "(key)", "api_platform=", "give it."):
        assert parameter not in shown


def test_the_library_keeps_its_parameter_names_in_the_notes(
    run: Runner, sim: RunningSimulator, key_file: Path
) -> None:
    from cis2.doctor import diagnose

    notes = diagnose(_assertion(run, sim, key_file)).notes

    assert any("(jwks)" in note and "(key)" in note for note in notes)
