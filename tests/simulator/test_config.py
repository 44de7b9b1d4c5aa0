"""Configuration: TOML clients and personas, and errors naming file/entry/field."""

from __future__ import annotations

from pathlib import Path

import pytest

from cis2.errors import ConfigurationError
from cis2.keys import generate_signing_key
from cis2.simulator import SimulatorConfig, SimulatorConfigError
from cis2.simulator.__main__ import main
from cis2.simulator._personas import Persona

GOOD = """
[simulator]
headless = true
explain = true
require_iat = true

[[clients]]
client_id = "123456789012.apps.supplier"
redirect_uris = ["https://rp.example.test/callback"]
token_endpoint_auth_method = "private_key_jwt"
token_endpoint_auth_signing_alg = "RS256"
jwks_uri = "https://rp.example.test/jwks.json"
grant_types = ["authorization_code", "refresh_token"]
backchannel_logout_uri = "https://rp.example.test/backchannel"

[[clients]]
client_id = "210987654321.apps.supplier"
redirect_uris = ["http://127.0.0.1:9000/cb"]
token_endpoint_auth_method = "client_secret_post"
client_secret = "not-shown"

[[personas]]
uid = "555000000001"
given_name = "Test"
family_name = "Person"
authenticators = ["fido2", "totp"]

[[personas.roles]]
person_roleid = "555000000002"
person_orgid = "555000000003"
org_code = "Y90009"
org_name = "FICTIONAL ORG"
role_name = '"Clinical":"Clinical Provision":"Nurse Access Role"'
role_code = "S8000:G8000:R8001"
activity_codes = ["B0264"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sim.toml"
    path.write_text(text)
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    config = SimulatorConfig.load(write(tmp_path, GOOD), port=9400)

    assert config.headless and config.explain and config.require_iat
    assert config.port == 9400
    assert [c.client_id for c in config.clients] == [
        "123456789012.apps.supplier",
        "210987654321.apps.supplier",
    ]
    assert config.personas[0].roles[0].activity_codes == ("B0264",)
    assert "not-shown" not in repr(config)


def test_inline_jwks_loads(tmp_path: Path) -> None:
    key = generate_signing_key()
    # TOML spells a JWKS as an array of tables under the client.
    text = (
        '[[clients]]\nclient_id = "1.apps.supplier"\n'
        'redirect_uris = ["http://127.0.0.1/cb"]\n'
        "[[clients.jwks.keys]]\n"
        + "\n".join(f'{k} = "{v}"' for k, v in key.public_jwk().items())
    )
    config = SimulatorConfig.load(write(tmp_path, text))
    keys = config.clients[0].key_set()
    assert keys is not None and keys.find(key.kid) is not None


@pytest.mark.parametrize(
    ("change", "entry", "field"),
    [
        (
            ('jwks_uri = "https://rp.example.test/jwks.json"', 'jwks_uri = "nope"'),
            "clients[0]",
            "jwks_uri",
        ),
        (('"RS256"', '"HS256"'), "clients[0]", "token_endpoint_auth_signing_alg"),
        (
            ('"private_key_jwt"', '"client_secret_basic"'),
            "clients[0]",
            "token_endpoint_auth_method",
        ),
        (
            ('["https://rp.example.test/callback"]', '["http://rp.example.test/cb"]'),
            "clients[0]",
            "redirect_uris",
        ),
        (
            ('["authorization_code", "refresh_token"]', '["implicit"]'),
            "clients[0]",
            "grant_types",
        ),
        (('client_secret = "not-shown"', ""), "clients[1]", "client_secret"),
        (("grant_types =", "grant_type ="), "clients[0]", "grant_type"),
        (
            ("token_endpoint_auth_signing_alg =", "jwks_uri_signing_algorithm ="),
            "clients[0]",
            "jwks_uri_signing_algorithm",
        ),
        (('uid = "555000000001"', 'uid = "abc"'), "personas[0]", "uid"),
        (('["fido2", "totp"]', '["retina"]'), "personas[0]", "authenticators"),
        (
            ('role_code = "S8000:G8000:R8001"', 'role_code = "R8001"'),
            "personas[0].roles[0]",
            "role_code",
        ),
        (("require_iat = true", "require_iatt = true"), "simulator", "require_iatt"),
        (
            ("headless = true", "id_token_lifetime = -5"),
            "simulator",
            "id_token_lifetime",
        ),
    ],
)
def test_errors_name_the_file_the_entry_and_the_field(
    tmp_path: Path, change: tuple[str, str], entry: str, field: str
) -> None:
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))

    with pytest.raises(SimulatorConfigError) as caught:
        SimulatorConfig.load(path)

    message = str(caught.value)
    assert str(path) in message
    assert entry in message
    assert f"'{field}'" in message
    assert caught.value.field == field
    assert isinstance(caught.value, ConfigurationError)
    assert "not-shown" not in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SimulatorConfigError, match="no such file"):
        SimulatorConfig.load(tmp_path / "absent.toml")


def test_bad_toml_is_named(tmp_path: Path) -> None:
    with pytest.raises(SimulatorConfigError, match="not valid TOML"):
        SimulatorConfig.load(write(tmp_path, "[[clients]\n"))


def test_a_non_loopback_host_is_refused() -> None:
    with pytest.raises(SimulatorConfigError, match="loopback"):
        SimulatorConfig(host="0.0.0.0")


def test_duplicate_client_ids_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("210987654321.apps.supplier", "123456789012.apps.supplier")
    with pytest.raises(SimulatorConfigError, match="appears twice"):
        SimulatorConfig.load(write(tmp_path, text))


def test_the_command_line_reports_config_errors_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.replace('"RS256"', '"none"'))

    assert main(["--config", str(path), "--data", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert err.startswith("Error: ")
    assert "token_endpoint_auth_signing_alg" in err
    assert "Traceback" not in err


def test_default_personas_are_the_reference_test_users() -> None:
    uids = {p.uid for p in SimulatorConfig().personas}
    assert uids == {
        "656005750108",
        "656005750111",
        "656005750107",
        "656005750109",
        "656005750104",
        "656005750112",
        "656005750110",
    }
    by_uid = {p.uid: p for p in SimulatorConfig().personas}
    assert by_uid["656005750108"].aal == 3
    assert by_uid["656005750111"].aal == 2
    assert by_uid["656005750110"].aal == 1
    assert len(by_uid["656005750104"].roles) == 2


def test_default_keeps_the_demo_clients_key_in_the_data_folder(tmp_path: Path) -> None:
    first = SimulatorConfig.default(data_dir=tmp_path)
    again = SimulatorConfig.default(data_dir=tmp_path)

    key_file = tmp_path / "demo-client-key.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.clients[0].client_id == "999999999999.apps.national"
    assert first.clients[0].jwks == again.clients[0].jwks
    assert first.clients[0].token_endpoint_auth_signing_alg == "RS512"
    assert "http://127.0.0.1/callback" in first.clients[0].redirect_uris


def test_a_non_boolean_switch_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("headless = true", 'headless = "yes"'))
    with pytest.raises(SimulatorConfigError, match="headless"):
        SimulatorConfig.load(path)


def test_a_relative_data_dir_is_read_from_the_files_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path, GOOD.replace("[simulator]", '[simulator]\ndata_dir = "state"')
    )
    assert SimulatorConfig.load(path).data_dir == tmp_path / "state"


@pytest.mark.parametrize(
    ("old", "entry", "field"),
    [
        (
            'redirect_uris = ["https://rp.example.test/callback"]\n',
            "clients[0]",
            "redirect_uris",
        ),
        ('family_name = "Person"\n', "personas[0]", "family_name"),
        ('role_code = "S8000:G8000:R8001"\n', "personas[0].roles[0]", "role_code"),
    ],
)
def test_a_missing_required_field_is_named(
    tmp_path: Path, old: str, entry: str, field: str
) -> None:
    assert old in GOOD
    with pytest.raises(SimulatorConfigError) as caught:
        SimulatorConfig.load(write(tmp_path, GOOD.replace(old, "", 1)))
    assert entry in str(caught.value)
    assert caught.value.field == field
    assert f"field '{field}': missing: " in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "entry", "field", "kind"),
    [
        (
            'client_id = "123456789012.apps.supplier"',
            "client_id = 5",
            "clients[0]",
            "client_id",
            "must be a string, not an integer",
        ),
        (
            'client_id = "123456789012.apps.supplier"\n'
            'redirect_uris = ["https://rp.example.test/callback"]',
            "client_id = 5",
            "clients[0]",
            "client_id",
            "must be a string, not an integer",
        ),
        (
            'client_secret = "not-shown"',
            "client_secret = 12345",
            "clients[1]",
            "client_secret",
            "must be a string, not an integer",
        ),
        (
            'jwks_uri = "https://rp.example.test/jwks.json"',
            "scope = 5\njwks_uri = 'https://rp.example.test/jwks.json'",
            "clients[0]",
            "scope",
            "must be a string, not an integer",
        ),
        (
            'given_name = "Test"',
            "given_name = 5",
            "personas[0]",
            "given_name",
            "must be a string, not an integer",
        ),
        (
            'given_name = "Test"',
            'given_name = "Test"\nid_assurance_level = true',
            "personas[0]",
            "id_assurance_level",
            "must be a whole number, not a boolean",
        ),
        (
            'activity_codes = ["B0264"]',
            "activity_codes = [5]",
            "personas[0].roles[0]",
            "activity_codes",
            "must be an array of strings, not an array holding other than strings",
        ),
    ],
)
def test_a_field_of_the_wrong_type_is_named_not_another_field(
    tmp_path: Path, old: str, new: str, entry: str, field: str, kind: str
) -> None:
    assert old in GOOD
    with pytest.raises(SimulatorConfigError) as caught:
        SimulatorConfig.load(write(tmp_path, GOOD.replace(old, new, 1)))

    assert caught.value.entry == entry
    assert caught.value.field == field
    assert f"{entry}, field '{field}': {kind}" in str(caught.value)
    assert "12345" not in str(caught.value)


def test_persona_uid_of_non_ascii_digits_is_refused_naming_uid() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Persona(uid="55500000000\u00b2", given_name="A", family_name="B")

    assert caught.value.field == "uid"


def test_persona_roles_that_are_not_tables_are_named_not_a_traceback(
    tmp_path: Path,
) -> None:
    text = GOOD[: GOOD.index("[[personas.roles]]")] + "roles = 5\n"
    with pytest.raises(SimulatorConfigError) as caught:
        SimulatorConfig.load(write(tmp_path, text))

    assert caught.value.field == "roles"
    assert "personas[0], field 'roles': must be an array of tables" in str(caught.value)
