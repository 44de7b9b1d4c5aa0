"""How the commands show a signed-in user: a table, or JSON without tokens.

Every value in the tables comes from the provider's claims, so each is
printed as plain text: rich would otherwise read ``[link=...]`` or style
tags in a name as markup.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from cis2 import Cis2User, Login

__all__ = ["login_document", "print_json", "print_user", "to_plain"]


def to_plain(value: Any) -> Any:
    """value as JSON-ready data: dataclasses to dicts, tuples to lists.

    Fields hidden from a dataclass's repr are left out too: in cis2 they hold
    tokens or repeat the raw claims.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_plain(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if field.repr
        }
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value


def login_document(login: Login) -> dict[str, Any]:
    """The validated claims, the user and the token metadata, never the tokens."""
    expires_at = login.expires_at
    return {
        "claims": to_plain(login.claims),
        "user": to_plain(login.user),
        "token": {
            "token_type": "Bearer",
            "scope": login.scope,
            "expires_at": None if expires_at is None else int(expires_at),
            "expires_in": None
            if expires_at is None
            else max(0, int(expires_at - time.time())),
            "refresh_token": login.refresh_token is not None,
        },
    }


def print_json(document: Any) -> None:
    """document on stdout, indented."""
    import click

    click.echo(json.dumps(document, indent=2, sort_keys=False))


def print_user(
    user: Cis2User, *, title: str = "Signed in", console: Console | None = None
) -> None:
    """Who signed in: name, uid, assurance, then roles and organisations."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    summary = Table(title=title, show_header=False, title_justify="left")
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("Name", _plain(user.name or "-"))
    summary.add_row("UID", _plain(user.uid or "-"))
    summary.add_row("Assurance", _plain(_assurance(user)))
    console.print(summary)
    console.print(_roles_table(user))
    if user.organisations:
        orgs = Table(title="Organisations", title_justify="left")
        orgs.add_column("ODS code")
        orgs.add_column("Name")
        for org in user.organisations:
            orgs.add_row(_plain(org.org_code), _plain(org.org_name or ""))
        console.print(orgs)


def _assurance(user: Cis2User) -> str:
    """The assurance facts present; UserInfo alone may carry none of them."""
    facts = []
    if user.id_assurance_level is not None:
        facts.append(f"identity AAL{user.id_assurance_level}")
    if user.authentication_assurance_level is not None:
        facts.append(f"authentication AAL{user.authentication_assurance_level}")
    if user.acr:
        facts.append(f"acr {user.acr}")
    if user.amr:
        facts.append("amr " + ", ".join(user.amr))
    return ", ".join(facts) or "-"


def _roles_table(user: Cis2User) -> Table:
    from rich.table import Table

    selected = user.selected_roleid
    roles = Table(title="Roles (national RBAC)", title_justify="left")
    for heading in ("Role", "Code", "Org", "person_roleid"):
        roles.add_column(heading)
    for role in user.roles:
        name = role.role_name_parts[-1] if role.role_name_parts else role.role_name
        if role.person_roleid == selected:
            name += " (selected)"
        roles.add_row(
            *(
                _plain(value)
                for value in (name, role.role_code, role.org_code, role.person_roleid)
            )
        )
    if not user.roles:
        roles.add_row("(none: ask for the nationalrbacaccess scope)", "", "", "")
    return roles


def _plain(value: str) -> Text:
    """value as text rich shows as it is, never parsed as markup."""
    from rich.text import Text

    return Text(value)
