"""docs/doctor.md lists every rule, with its field and severity, in order."""

from __future__ import annotations

from pathlib import Path

import cis2.doctor
from cis2.doctor import RULES

DOCS = Path(__file__).parents[2] / "docs" / "doctor.md"


def _table() -> list[tuple[str, str, str]]:
    rows = []
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 5:
            rows.append((cells[0], cells[1], cells[2]))
    return rows


def test_the_rules_table_is_rules() -> None:
    assert _table() == [(r.id, r.field, r.severity) for r in RULES]


def test_the_public_names_exist() -> None:
    for name in cis2.doctor.__all__:
        assert hasattr(cis2.doctor, name), name
    assert sorted(cis2.doctor.__all__) == sorted(set(cis2.doctor.__all__))
