"""The CIS2 user as typed objects: NRBAC roles, organisations, assurance.

Built from the validated ID token claims merged with UserInfo (reference
sections 6, 7.1 and 7.2). Raw claims are always kept; unknown claims never
fail; a role's hierarchies are split but their raw strings kept too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Cis2User", "NrbacRole", "Organisation", "split_role_name"]


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation the user holds a role in (``nhsid_user_orgs``)."""

    org_code: str
    org_name: str | None = None


@dataclass(frozen=True, slots=True)
class NrbacRole:
    """One National RBAC role assignment (``nhsid_nrbac_roles[]``)."""

    person_roleid: str
    person_orgid: str
    org_code: str
    role_code: str
    role_name: str
    activities: tuple[str, ...] = ()
    activity_codes: tuple[str, ...] = ()
    aow: tuple[str, ...] = ()
    aow_codes: tuple[str, ...] = ()
    workgroups: tuple[str, ...] = ()
    workgroups_codes: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def role_name_parts(self) -> tuple[str, ...]:
        """The quoted labels of role_name, general to specific."""
        return split_role_name(self.role_name)

    @property
    def role_code_parts(self) -> tuple[str, ...]:
        """The codes of role_code (``Sxxxx``, ``Gxxxx``, ``Rxxxx``)."""
        return tuple(part for part in self.role_code.split(":") if part)

    @property
    def job_role_code(self) -> str | None:
        """The ``Rxxxx`` code naming the job role, when role_code has one."""
        for part in reversed(self.role_code_parts):
            if part.startswith("R"):
                return part
        return None

    @property
    def job_role_name(self) -> str | None:
        parts = self.role_name_parts
        return parts[-1] if parts else None

    def has_activity(self, code: str) -> bool:
        """Whether the role lists activity code (e.g. ``B0360``) explicitly."""
        return code in self.activity_codes

    @classmethod
    def from_claim(cls, item: Mapping[str, Any]) -> NrbacRole:
        return cls(
            person_roleid=_text(item.get("person_roleid")),
            person_orgid=_text(item.get("person_orgid")),
            org_code=_text(item.get("org_code")),
            role_code=_text(item.get("role_code")),
            role_name=_text(item.get("role_name")),
            activities=_texts(item.get("activities")),
            activity_codes=_texts(item.get("activity_codes")),
            aow=_texts(item.get("aow")),
            aow_codes=_texts(item.get("aow_codes")),
            workgroups=_texts(item.get("workgroups")),
            workgroups_codes=_texts(item.get("workgroups_codes")),
            raw=dict(item),
        )


@dataclass(frozen=True, slots=True)
class Cis2User:
    """Who signed in, as CIS2 describes them."""

    uid: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    roles: tuple[NrbacRole, ...] = ()
    selected_roleid: str | None = None
    organisations: tuple[Organisation, ...] = ()
    id_assurance_level: int | None = None
    authentication_assurance_level: int | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()
    sid: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def selected_role(self) -> NrbacRole | None:
        """The role picked at sign-in (scope ``selectedrole``), if any."""
        for role in self.roles:
            if role.person_roleid == self.selected_roleid:
                return role
        return None

    def roles_at(self, org_code: str) -> tuple[NrbacRole, ...]:
        return tuple(role for role in self.roles if role.org_code == org_code)

    @classmethod
    def from_claims(
        cls,
        id_token_claims: Mapping[str, Any],
        userinfo: Mapping[str, Any] | None = None,
    ) -> Cis2User:
        """Merge ID token and UserInfo claims; the ID token wins where both speak."""
        merged: dict[str, Any] = {**(userinfo or {}), **id_token_claims}
        roles = merged.get("nhsid_nrbac_roles")
        orgs = merged.get("nhsid_user_orgs")
        idal = merged.get("id_assurance_level", merged.get("idassurancelevel"))
        return cls(
            uid=_text(merged.get("uid") or merged.get("sub")),
            name=_optional(merged.get("name")),
            given_name=_optional(merged.get("given_name")),
            family_name=_optional(merged.get("family_name")),
            display_name=_optional(merged.get("display_name")),
            email=_optional(merged.get("email")),
            roles=tuple(
                NrbacRole.from_claim(item)
                for item in (roles if isinstance(roles, list) else [])
                if isinstance(item, Mapping)
            ),
            selected_roleid=_optional(merged.get("selected_roleid")),
            organisations=tuple(
                Organisation(
                    _text(item.get("org_code")), _optional(item.get("org_name"))
                )
                for item in (orgs if isinstance(orgs, list) else [])
                if isinstance(item, Mapping)
            ),
            id_assurance_level=_level(idal),
            authentication_assurance_level=_level(
                merged.get("authentication_assurance_level")
            ),
            acr=_optional(merged.get("acr")),
            amr=_texts(merged.get("amr")),
            sid=_optional(merged.get("sid")),
            claims=merged,
        )


def split_role_name(role_name: str) -> tuple[str, ...]:
    """Split ``"A":"B":"C"`` on colons outside quotes, unquoting each label."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in role_name:
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return tuple(part for part in parts if part)


def _level(value: Any) -> int | None:
    # CIS2 sends "3" in some tokens and 3 in others (reference section 6).
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(item for item in value if isinstance(item, str))
    return ()
