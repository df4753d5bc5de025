"""How figures read on screen and in documents (money has `app.registers.model.money_text`)."""

from __future__ import annotations

from typing import Any


def percent(value: Any) -> str:
    """A rate (0.125) as a percentage with one decimal ("12.5%"); — when there is none
    (None, NaN, pandas NA: a denominator of 0)."""
    try:
        if value is None or value != value:
            return "—"
    except TypeError:  # pandas NA has no truth value
        return "—"
    return f"{float(value):.1%}"
