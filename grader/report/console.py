"""The console report: one table per part, then the total."""
from __future__ import annotations

from typing import TYPE_CHECKING

from tabulate import tabulate

from .results import shown_message

if TYPE_CHECKING:
    from ..judge.plugin import GradingState

MESSAGE_WIDTH = 70


def short_message(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    text = " / ".join(lines[1:3] or lines[:1])
    return text if len(text) <= MESSAGE_WIDTH else text[: MESSAGE_WIDTH - 3] + "..."


def render(state: GradingState) -> str:
    blocks = []
    outcomes = list(state.outcomes.values())
    for index, part in enumerate(state.config.parts, start=1):
        rows = [
            [o.meta.number, o.meta.name, f"{o.meta.points if o.passed else 0:.3g}/{o.meta.points:.3g}", "PASS" if o.passed else "FAIL", "" if o.passed else short_message(shown_message(o))]
            for o in outcomes
            if o.meta.part == index
        ]
        if rows:
            earned = sum(o.meta.points for o in outcomes if o.meta.part == index and o.passed)
            possible = sum(o.meta.points for o in outcomes if o.meta.part == index)
            blocks.append(f"{part.name}: {earned:g}/{possible:g}\n" + tabulate(rows, headers=["#", "test", "points", "status", "why"], disable_numparse=True))
    earned = sum(o.meta.points for o in outcomes if o.passed)
    possible = sum(o.meta.points for o in outcomes)
    total = f"TOTAL: {earned:g}/{possible:g}"
    if state.missing_suites:
        hidden = sum(state.config.tests[key].points for key in state.missing_suites)
        total += f"  (+{hidden:g} points of hidden tests, graded on Gradescope only)"
    blocks.append(total)
    return "\n\n".join(blocks)
