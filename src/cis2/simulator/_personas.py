"""Personas (fictional staff) and the authenticators they sign in with.

The default personas carry the uids of the NHS API Platform's CIS2 mock test
users (reference section 9.6) with fictional names and organisations, and
NRBAC roles shaped like reference sections 7.2 and 7.3. Authenticators map to
the assurance levels of reference section 3.3; their ``amr`` values are the
simulator's choice where CIS2's are unconfirmed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from cis2.errors import ConfigurationError

__all__ = [
    "ACR_VALUES",
    "AUTHENTICATORS",
    "Authenticator",
    "Persona",
    "Role",
    "acr_allows",
    "default_personas",
]

_DIGITS: Final = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class Authenticator:
    """A way to sign in: its label, assurance level and ``amr`` value."""

    name: str
    label: str
    aal: int
    amr: str


#: The authenticators of the issue, strongest first within each level.
AUTHENTICATORS: Final[dict[str, Authenticator]] = {
    a.name: a
    for a in (
        Authenticator("smartcard", "Smartcard", 3, "N3_SMARTCARD"),
        Authenticator("fido2", "Security key (FIDO2)", 3, "FIDO2"),
        Authenticator("windows_hello", "Windows Hello for Business", 3, "WHFB"),
        Authenticator("nhs_app", "NHS app", 3, "IOS"),
        Authenticator("nhsmail", "NHSmail", 2, "NHSMAIL"),
        Authenticator("totp", "One-time code", 2, "TOTP"),
        Authenticator("password", "Password", 1, "USERPASS"),
    )
}

# What each acr value accepts (reference 3.3 and section 10 item 11). The
# method-specific values name one authenticator; their semantics at CIS2 are
# unconfirmed, so the simulator reads them literally.
ACR_VALUES: Final[dict[str, tuple[int, frozenset[str] | None]]] = {
    "AAL3_ANY": (3, None),
    "AAL2_OR_AAL3_ANY": (2, None),
    "AAL2_ANY": (2, None),
    "AAL1_USERPASS": (1, None),
    "AAL3_N3_SMARTCARD": (3, frozenset({"smartcard"})),
    "AAL3_CIS2_SMARTCARD": (3, frozenset({"smartcard"})),
    "AAL3_SMARTCARD": (3, frozenset({"smartcard"})),
    "AAL3_FIDO2": (3, frozenset({"fido2"})),
    "AAL3_IOS": (3, frozenset({"nhs_app"})),
    "AAL2_TOTP": (2, frozenset({"totp"})),
    "AAL2_NHSMAIL": (2, frozenset({"nhsmail"})),
}


def acr_allows(acr: str, authenticator: str) -> bool:
    """Whether signing in with authenticator satisfies the acr value."""
    minimum, only = ACR_VALUES[acr]
    if only is not None and authenticator not in only:
        return False
    return AUTHENTICATORS[authenticator].aal >= minimum


@dataclass(frozen=True, slots=True)
class Role:
    """One NRBAC role assignment (``nhsid_nrbac_roles[]``, reference 7.2)."""

    person_roleid: str
    person_orgid: str
    org_code: str
    role_name: str
    role_code: str
    org_name: str = ""
    activities: tuple[str, ...] = ()
    activity_codes: tuple[str, ...] = ()
    aow: tuple[str, ...] = ()
    aow_codes: tuple[str, ...] = ()
    workgroups: tuple[str, ...] = ()
    workgroups_codes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("person_roleid", "person_orgid", "org_code", "role_code"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ConfigurationError(
                    f"{name} must be a non-empty string.", field=name
                )
        if len(self.role_code.split(":")) != 3:
            raise ConfigurationError(
                f"role_code {self.role_code!r} must be three codes joined by ':' "
                "(Sxxxx:Gxxxx:Rxxxx).",
                field="role_code",
            )

    @property
    def label(self) -> str:
        """The job role's last label, for the role picker."""
        return self.role_name.rsplit(":", 1)[-1].strip('"')

    def claim(self) -> dict[str, object]:
        """The role as UserInfo carries it; empty optional arrays left out."""
        value: dict[str, object] = {
            "person_orgid": self.person_orgid,
            "person_roleid": self.person_roleid,
            "org_code": self.org_code,
            "role_name": self.role_name,
            "role_code": self.role_code,
        }
        for name in (
            "activities",
            "activity_codes",
            "aow",
            "aow_codes",
            "workgroups",
            "workgroups_codes",
        ):
            if getattr(self, name):
                value[name] = list(getattr(self, name))
        return value


@dataclass(frozen=True, slots=True)
class Persona:
    """A fictional member of staff who can sign in to the simulator."""

    uid: str
    given_name: str
    family_name: str
    email: str = ""
    title: str = ""
    middle_names: str = ""
    id_assurance_level: int = 3
    authenticators: tuple[str, ...] = ("smartcard",)
    roles: tuple[Role, ...] = ()
    gmc_id: str = ""
    nmc_id: str = ""

    def __post_init__(self) -> None:
        # ASCII digits only: str.isdigit also takes '²' and other digits.
        if not isinstance(self.uid, str) or not _DIGITS.fullmatch(self.uid):
            raise ConfigurationError(
                "uid must be a string of digits (a CIS2 UID such as '656005750108').",
                field="uid",
            )
        unknown = [a for a in self.authenticators if a not in AUTHENTICATORS]
        if unknown or not self.authenticators:
            raise ConfigurationError(
                f"authenticators {list(self.authenticators)!r} must be one or more "
                f"of {sorted(AUTHENTICATORS)}.",
                field="authenticators",
            )
        if self.id_assurance_level not in (1, 2, 3):
            raise ConfigurationError(
                "id_assurance_level must be 1, 2 or 3.", field="id_assurance_level"
            )

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def strongest(self) -> str:
        """The authenticator with the highest assurance level."""
        return max(self.authenticators, key=lambda a: AUTHENTICATORS[a].aal)

    @property
    def aal(self) -> int:
        return AUTHENTICATORS[self.strongest].aal

    def role(self, person_roleid: str) -> Role | None:
        for role in self.roles:
            if role.person_roleid == person_roleid:
                return role
        return None

    def organisations(self) -> list[dict[str, str]]:
        """``nhsid_user_orgs``: each organisation once, in role order."""
        seen: dict[str, str] = {}
        for role in self.roles:
            seen.setdefault(role.org_code, role.org_name)
        return [{"org_code": c, "org_name": n} for c, n in seen.items()]


_AAL3: Final = ("smartcard", "fido2", "windows_hello", "nhs_app", "totp")
_AAL2: Final = ("totp", "password")

_GP = '"Clinical":"Clinical Provision":"General Medical Practitioner"'
_CLINICAL = '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"'
_ADMIN = '"Support":"Support":"Admin/Clinical Support Access Role"'
_RA = '"Admin & Clerical":"Management - A & C":"Registration Authority Agent"'


def _role(
    roleid: str,
    orgid: str,
    org: tuple[str, str],
    name: str,
    code: str,
    activities: tuple[tuple[str, str], ...],
) -> Role:
    return Role(
        person_roleid=roleid,
        person_orgid=orgid,
        org_code=org[0],
        org_name=org[1],
        role_name=name,
        role_code=code,
        activities=tuple(a for a, _ in activities),
        activity_codes=tuple(c for _, c in activities),
    )


# Fictional organisations; the codes are shaped like ODS codes and belong to
# no real organisation.
_PRACTICE: Final = ("Y90001", "RIVERSIDE FICTIONAL MEDICAL PRACTICE")
_TRUST: Final = ("Y90002", "NORTHGATE FICTIONAL NHS TRUST")
_CLINIC: Final = ("Y90003", "HILLTOP FICTIONAL COMMUNITY CLINIC")

_VIEW: Final = (("View Patient Record", "B0264"), ("Manage Allergies", "B0028"))
_PRESCRIBE: Final = (
    ("Perform Prescription Preparation", "B0570"),
    ("Authorise Prescriptions", "B0420"),
)
_ADMIN_WORK: Final = (
    ("Execute CDS DQ Extracts (Clear)", "B0145"),
    ("Run PbR Commissioning Extracts", "B1560"),
)


def default_personas() -> tuple[Persona, ...]:
    """The seven test users of reference section 9.6, fictional in all else."""
    gp_roles = (
        _role(
            "555021935107",
            "555021934106",
            _PRACTICE,
            _GP,
            "S0010:G0020:R0260",
            _VIEW + _PRESCRIBE,
        ),
        _role(
            "555021937109",
            "555021936108",
            _CLINIC,
            _CLINICAL,
            "S8000:G8000:R8000",
            _VIEW,
        ),
    )
    return (
        Persona(
            "656005750108",
            "Amara",
            "Okafor",
            "amara.okafor@example.nhs.test",
            "Dr",
            "Ngozi",
            3,
            _AAL3,
            gp_roles,
            gmc_id="GMC0000001",
        ),
        Persona(
            "656005750111",
            "Gareth",
            "Lloyd",
            "gareth.lloyd@example.nhs.test",
            "Dr",
            "",
            3,
            _AAL2,
            (
                _role(
                    "555021941103",
                    "555021940102",
                    _PRACTICE,
                    _GP,
                    "S0010:G0020:R0260",
                    _VIEW + _PRESCRIBE,
                ),
            ),
            gmc_id="GMC0000002",
        ),
        Persona(
            "656005750107",
            "Priya",
            "Raman",
            "priya.raman@example.nhs.test",
            "Ms",
            "",
            3,
            _AAL3,
            (
                _role(
                    "555021943105",
                    "555021942104",
                    _TRUST,
                    _CLINICAL,
                    "S8000:G8000:R8000",
                    _VIEW,
                ),
            ),
            nmc_id="NMC0000001",
        ),
        Persona(
            "656005750109",
            "Tomasz",
            "Nowak",
            "tomasz.nowak@example.nhs.test",
            "Mr",
            "",
            3,
            _AAL2,
            (
                _role(
                    "555021945107",
                    "555021944106",
                    _TRUST,
                    _CLINICAL,
                    "S8000:G8000:R8000",
                    _VIEW,
                ),
            ),
            nmc_id="NMC0000002",
        ),
        Persona(
            "656005750104",
            "Helen",
            "Ashworth",
            "helen.ashworth@example.nhs.test",
            "Mrs",
            "May",
            3,
            _AAL3,
            (
                _role(
                    "555021947109",
                    "555021946108",
                    _TRUST,
                    _ADMIN,
                    "S8001:G8002:R8008",
                    _ADMIN_WORK,
                ),
                _role(
                    "555021949101",
                    "555021948100",
                    _CLINIC,
                    _RA,
                    "S0080:G0450:R5080",
                    (("Manage Allergies", "B0028"),),
                ),
            ),
        ),
        Persona(
            "656005750112",
            "Sam",
            "Whitfield",
            "sam.whitfield@example.nhs.test",
            "Mx",
            "",
            3,
            _AAL2,
            (
                _role(
                    "555021951103",
                    "555021950102",
                    _PRACTICE,
                    _ADMIN,
                    "S8001:G8002:R8008",
                    _ADMIN_WORK,
                ),
            ),
        ),
        Persona(
            "656005750110",
            "Lena",
            "Fischer",
            "lena.fischer@example.nhs.test",
            "Ms",
            "",
            1,
            ("password",),
            (
                _role(
                    "555021953105",
                    "555021952104",
                    _CLINIC,
                    _ADMIN,
                    "S8001:G8002:R8008",
                    _ADMIN_WORK,
                ),
            ),
        ),
    )
