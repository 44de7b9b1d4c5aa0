"""How a signed-in user is shown: the provider's claims printed as they are."""

from __future__ import annotations

import io

from rich.console import Console

from cis2.cli._output import print_user
from cis2.identity import Cis2User, NrbacRole, Organisation


def _printed(user: Cis2User) -> str:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system="truecolor")
    print_user(user, console=console)
    return out.getvalue()


def test_markup_in_claims_is_printed_as_text_not_interpreted() -> None:
    user = Cis2User(
        uid="[bold]555[/bold]",
        name="[bold]Mallory[/bold]",
        acr="[red]AAL3_ANY",
        roles=(
            NrbacRole(
                person_roleid="[link=https://evil.test]1[/link]",
                person_orgid="2",
                org_code="[italic]X26",
                role_code="S0:G0:R8000",
                role_name='"[blink]Clinical":"Doctor[/blink]"',
            ),
        ),
        organisations=(Organisation("[u]X26", "[link=https://evil.test]Org[/link]"),),
    )

    shown = _printed(user)

    for literal in (
        "[bold]Mallory[/bold]",
        "[bold]555[/bold]",
        "[red]AAL3_ANY",
        "[link=https://evil.test]1[/link]",
        "[italic]X26",
        "Doctor[/blink]",
        "[u]X26",
        "[link=https://evil.test]Org[/link]",
    ):
        assert literal in shown
    assert "\x1b]8;" not in shown  # no terminal hyperlink was made
    assert "\x1b[1m[" not in shown
