"""The one shape every benchmark row takes, so `python -m benchmarks` can print
and judge them alike: a value, the baseline measured in the same run, their
ratio, and the goal the ratio must meet."""

from __future__ import annotations

from typing import Any, Literal


def ratio_row(
    name: str,
    value: float | None,
    baseline: float | None,
    *,
    goal: float | None,
    better: Literal["higher", "lower"] = "higher",
    unit: str = "",
    places: int = 1,
    note: str = "",
) -> dict[str, Any]:
    """A row whose ratio is value / baseline; no goal means shown only.

    A missing value or baseline (a peer that could not run) gives no ratio,
    which misses any goal rather than passing it.
    """
    ratio = value / baseline if value is not None and baseline else None
    if goal is None:
        shown, ok = "(shown)", True
    elif better == "higher":
        shown, ok = f">= {goal}", ratio is not None and ratio >= goal
    else:
        shown, ok = f"<= {goal}", ratio is not None and ratio <= goal
    row: dict[str, Any] = {
        "name": name,
        "value": _rounded(value, places),
        "baseline": _rounded(baseline, places),
        "unit": unit,
        "ratio": None if ratio is None else round(ratio, 3),
        "goal": shown,
        "ok": ok,
    }
    if note:
        row["note"] = note
    return row


def _rounded(number: float | None, places: int) -> float | int | None:
    if number is None:
        return None
    return round(number) if places == 0 else round(number, places)
