"""The claims the simulator puts in ID tokens, UserInfo and logout tokens.

ID tokens carry CIS2's claims and ForgeRock's extras (reference section 6),
UserInfo maps scopes to claims as reference section 7.1 does, and logout
tokens follow OpenID Connect Back-Channel Logout 1.0 section 2.4.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Any, Final

from cis2._id_token import left_half_hash
from cis2._jws import b64url_encode
from cis2.simulator._config import SimulatorConfig
from cis2.simulator._personas import AUTHENTICATORS, Persona
from cis2.simulator._store import Grant

__all__ = [
    "BACKCHANNEL_EVENT",
    "ID_TOKEN_ALG",
    "LOGOUT_TOKEN_LIFETIME",
    "ROLE_SCOPES",
    "default_acr",
    "id_token_claims",
    "logout_token_claims",
    "userinfo_claims",
]

BACKCHANNEL_EVENT: Final = "http://schemas.openid.net/event/backchannel-logout"
REALM: Final = "/NHSIdentity/Healthcare"
#: CIS2 signs ID tokens (and logout tokens) RS256 for every client.
ID_TOKEN_ALG: Final = "RS256"
LOGOUT_TOKEN_LIFETIME: Final = 120
_DEFAULT_ACR: Final = {3: "AAL3_ANY", 2: "AAL2_ANY", 1: "AAL1_USERPASS"}
_MEMBERSHIP_IDS: Final = ("gmc_id", "nmc_id")
#: The scopes that make the user pick a role, whose id the tokens then carry.
ROLE_SCOPES: Final = frozenset({"selectedrole", "changedrole"})


def default_acr(authenticator: str) -> str:
    """The acr for a login that asked for none: the level reached, ANY."""
    return _DEFAULT_ACR[AUTHENTICATORS[authenticator].aal]


def id_token_claims(
    config: SimulatorConfig,
    grant: Grant,
    persona: Persona,
    session: Any,
    access_token: str,
    now: int,
    *,
    code: str | None = None,
    state: str | None = None,
    refreshed: bool = False,
) -> dict[str, Any]:
    """CIS2's ID token claims in the order the reference's example shows."""
    aal = AUTHENTICATORS[session["authenticator"]]
    claims: dict[str, Any] = {
        "at_hash": left_half_hash(access_token, ID_TOKEN_ALG),
        "sub": persona.uid,
        "auditTrackingId": f"{uuid.uuid4()}-{secrets.randbelow(10**7)}",
        "amr": [aal.amr],
        "iss": config.issuer,
        "tokenName": "id_token",
        "aud": grant.client_id,
    }
    if code is not None:
        claims["c_hash"] = left_half_hash(code, ID_TOKEN_ALG)
    claims["acr"] = grant.acr
    claims["org.forgerock.openidconnect.ops"] = b64url_encode(secrets.token_bytes(20))
    if state is not None:
        claims["s_hash"] = left_half_hash(state, ID_TOKEN_ALG)
    claims.update(
        {
            "azp": grant.client_id,
            "auth_time": session["auth_time"],
            "realm": REALM,
            "exp": now + config.id_token_lifetime,
            "tokenType": "JWTToken",
            "iat": now,
            "sid": grant.sid,
            "id_assurance_level": _level(persona.id_assurance_level, config),
            "authentication_assurance_level": _level(aal.aal, config),
        }
    )
    # OIDC Core section 12.2: a refreshed ID token should carry no nonce.
    if grant.nonce is not None and not refreshed:
        claims["nonce"] = grant.nonce
    if ROLE_SCOPES & set(grant.scope.split()) and grant.selected_roleid:
        claims["selected_roleid"] = grant.selected_roleid
    if config.profile_claims_in_id_token:
        claims.update(_profile(persona))
    return claims


def userinfo_claims(
    persona: Persona,
    scopes: Iterable[str],
    selected_roleid: str | None,
    config: SimulatorConfig,
) -> dict[str, Any]:
    """UserInfo for these scopes (reference 7.1): ``sub`` always."""
    wanted = set(scopes)
    claims: dict[str, Any] = {"sub": persona.uid}
    if "profile" in wanted:
        claims.update(_profile(persona))
    if "email" in wanted:
        claims["email"] = persona.email
    if "nhsperson" in wanted:
        claims.update(_nhsperson(persona))
    if "nationalrbacaccess" in wanted:
        claims["nhsid_nrbac_roles"] = [role.claim() for role in persona.roles]
    if "associatedorgs" in wanted:
        claims["nhsid_user_orgs"] = persona.organisations()
    if wanted & ROLE_SCOPES and selected_roleid:
        claims["selected_roleid"] = selected_roleid
    if wanted & {"professionalmemberships", "organisationalmemberships"}:
        claims.update(_memberships(persona))
    return claims


def logout_token_claims(
    config: SimulatorConfig, client_id: str, sub: str, sid: str, now: int
) -> dict[str, Any]:
    """A back-channel logout token's claims: sid and events, never a nonce."""
    return {
        "iss": config.issuer,
        "sub": sub,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": str(uuid.uuid4()),
        "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }


def _level(level: int, config: SimulatorConfig) -> int | str:
    # Reference section 10 item 12: strings by default, integers by option.
    return level if config.integer_assurance else str(level)


def _profile(persona: Persona) -> dict[str, Any]:
    return {
        "name": persona.name,
        "family_name": persona.family_name,
        "given_name": persona.given_name,
        "uid": persona.uid,
    }


def _nhsperson(persona: Persona) -> dict[str, Any]:
    names = [persona.given_name, persona.middle_names, persona.family_name]
    initials = "".join(part[0] for part in persona.middle_names.split())
    return {
        "nhsid_useruid": persona.uid,
        "title": persona.title,
        "idassurancelevel": str(persona.id_assurance_level),
        "initials": initials,
        "middle_names": persona.middle_names,
        "display_name": " ".join(n for n in names if n),
    }


def _memberships(persona: Persona) -> dict[str, Any]:
    claims: dict[str, Any] = {
        name: getattr(persona, name)
        for name in _MEMBERSHIP_IDS
        if getattr(persona, name)
    }
    orgs = {role.person_orgid: role for role in persona.roles}
    claims["nhsid_org_memberships"] = [
        {"person_orgid": orgid, "org_name": role.org_name, "org_code": role.org_code}
        for orgid, role in orgs.items()
    ]
    claims["nhsid_org_roles"] = [
        {"person_orgid": orgid, "org_code": role.org_code, "org_name": role.org_name}
        for orgid, role in orgs.items()
    ]
    return claims
