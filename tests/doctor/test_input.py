"""The inputs people paste: a JWT, a form body, a URL, JSON, a curl command."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from cis2.doctor import diagnose, diagnose_many, split_assertions
from cis2.doctor._input import read_submission

from .kit import BEARER, CLIENT_ID, ENDPOINT, NOW, Kit


def test_a_bare_jwt_is_the_assertion(kit: Kit) -> None:
    token = kit.jwt()
    submission = read_submission(f"\n  {token}\n")
    assert (submission.assertion, submission.form) == (token, None)


def test_a_quoted_jwt_is_unquoted(kit: Kit) -> None:
    token = kit.jwt()
    assert read_submission(f"'{token}'").assertion == token


def test_a_form_body_gives_every_field(kit: Kit) -> None:
    token = kit.jwt()
    submission = read_submission(kit.form(token))
    assert submission.assertion == token
    assert submission.form is not None
    assert submission.form["client_assertion_type"] == BEARER
    assert submission.form["client_id"] == CLIENT_ID


def test_a_url_encoded_form_is_decoded(kit: Kit) -> None:
    token = kit.jwt()
    body = f"grant_type=authorization_code&client_assertion={quote(token)}"
    body += f"&client_assertion_type={quote(BEARER, safe='')}"
    submission = read_submission(body)
    assert submission.assertion == token
    assert submission.form is not None
    assert submission.form["client_assertion_type"] == BEARER


def test_a_multiline_curl_command_is_read(kit: Kit) -> None:
    token = kit.jwt()
    curl = (
        f"curl -sS -X POST '{ENDPOINT}' \\\n"
        "  -H 'Content-Type: application/x-www-form-urlencoded' \\\n"
        "  -d grant_type=authorization_code -d code=abc \\\n"
        "  --data-urlencode redirect_uri=https://rp.example/callback \\\n"
        f"  --data-urlencode client_id={CLIENT_ID} \\\n"
        f"  --data 'client_assertion_type={BEARER}' \\\n"
        f"  -d client_assertion={token}\n"
    )
    submission = read_submission(curl)
    assert submission.url == ENDPOINT and submission.assertion == token
    assert submission.form is not None
    assert submission.form["redirect_uri"] == "https://rp.example/callback"
    assert diagnose(curl, **kit.context(env=None)).findings == ()


def test_the_curl_url_is_the_expected_aud(kit: Kit) -> None:
    curl = f"curl https://am.example:443/token -d {kit.form()}"
    report = diagnose(curl, now=NOW)
    assert [f.rule for f in report.findings] == ["aud.token_endpoint"]


def test_a_url_with_the_form_in_its_query(kit: Kit) -> None:
    submission = read_submission(f"{ENDPOINT}?{kit.form()}")
    assert submission.url == ENDPOINT and submission.assertion is not None


def test_a_json_form_is_read(kit: Kit) -> None:
    token = kit.jwt()
    document = {"client_assertion": token, "grant_type": "authorization_code"}
    assert read_submission(json.dumps(document)).assertion == token


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"iss": "x"}', "decoded claims"),
        ("{not json", "not JSON"),
        ("curl https://x/token -H 'unclosed", "does not parse"),
        ("curl https://x/token", "no form body"),
        ("curl https://x/token -F grant_type=x", "multipart"),
    ],
)
def test_unreadable_inputs_are_explained(text: str, words: str) -> None:
    report = diagnose(text)
    (finding,) = report.findings
    assert finding.rule == "input.unreadable" and words in finding.message


def test_several_jwts_one_per_line_are_split(kit: Kit) -> None:
    tokens = [kit.jwt(), kit.jwt()]
    assert split_assertions("\n".join(tokens) + "\n") == tokens


def test_a_form_over_several_lines_is_not_split(kit: Kit) -> None:
    text = kit.form().replace("&", "\n&")
    assert split_assertions(text) == [text]


def test_a_reused_jti_is_found_in_newline_separated_text(kit: Kit) -> None:
    tokens = [kit.jwt(claims={"jti": "once"}) for _ in range(2)] + [kit.jwt()]
    reports = diagnose_many("\n".join(tokens), **kit.context())
    rules = [[f.rule for f in report.findings] for report in reports]
    assert rules == [["jti.reused"], ["jti.reused"], []]


def test_a_file_name_is_not_taken_for_a_token() -> None:
    (finding,) = diagnose("captured/assertion.jwt").findings
    assert finding.rule == "structure.parts" and "file name" in finding.message
