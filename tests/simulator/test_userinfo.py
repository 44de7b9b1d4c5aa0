"""``/userinfo``: claims by scope (reference 7.1) and CIS2's 401 answer."""

from __future__ import annotations

import pytest

from .conftest import GP_AAL3, RelyingParty

INVALID_TOKEN = {
    "error_description": "The access token provided is expired, revoked, malformed, "
    "or invalid for other reasons.",
    "error": "invalid_token",
}


def claims_for(rp: RelyingParty, scope: str, **params: str) -> dict[str, object]:
    tokens = rp.tokens(scope=scope, **params)
    response = rp.http.get(
        f"{rp.sim.issuer}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_openid_alone_gives_only_sub(rp: RelyingParty) -> None:
    assert claims_for(rp, "openid") == {"sub": GP_AAL3}


@pytest.mark.parametrize(
    ("scope", "claims"),
    [
        ("profile", {"name", "family_name", "given_name", "uid"}),
        ("email", {"email"}),
        (
            "nhsperson",
            {
                "nhsid_useruid",
                "title",
                "idassurancelevel",
                "initials",
                "middle_names",
                "display_name",
            },
        ),
        ("nationalrbacaccess", {"nhsid_nrbac_roles"}),
        ("associatedorgs", {"nhsid_user_orgs"}),
        ("selectedrole", {"selected_roleid"}),
        (
            "professionalmemberships",
            {"gmc_id", "nhsid_org_memberships", "nhsid_org_roles"},
        ),
        (
            "organisationalmemberships",
            {"gmc_id", "nhsid_org_memberships", "nhsid_org_roles"},
        ),
    ],
)
def test_each_scope_adds_its_claims(
    rp: RelyingParty, scope: str, claims: set[str]
) -> None:
    assert set(claims_for(rp, f"openid {scope}")) == {"sub", *claims}


def test_nrbac_roles_are_shaped_like_cis2(rp: RelyingParty) -> None:
    roles = claims_for(rp, "openid nationalrbacaccess")["nhsid_nrbac_roles"]
    assert isinstance(roles, list) and len(roles) == 2
    role = roles[0]
    assert role["role_code"].count(":") == 2
    assert role["role_name"].startswith('"') and '":"' in role["role_name"]
    assert all(code.startswith("B") for code in role["activity_codes"])
    assert {"person_orgid", "person_roleid", "org_code"} <= set(role)


def test_nhsperson_assurance_is_a_string(rp: RelyingParty) -> None:
    assert claims_for(rp, "openid nhsperson")["idassurancelevel"] == "3"


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not-a-token", "Basic abc", "bearer  x"],
)
def test_bad_tokens_get_cis2s_401(rp: RelyingParty, authorization: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = rp.http.get(f"{rp.sim.issuer}/userinfo", headers=headers)

    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_post_is_accepted_too(rp: RelyingParty) -> None:
    tokens = rp.tokens()
    response = rp.http.post(
        f"{rp.sim.issuer}/userinfo",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.status_code == 200
