"""The console report: one table per part, then the total."""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from tabulate import tabulate

from ..judge.feedback import hint_line
from .results import shown_feedback, shown_message

if TYPE_CHECKING:
    from ..judge.outcome import TestOutcome
    from ..judge.plugin import GradingState

MESSAGE_WIDTH = 70


def why(outcome: TestOutcome) -> str:
    """A failure in one short line: a check's first facts (then its diagnosis and hint); else the plain message after its first line."""
    found = shown_feedback(outcome)
    if found is not None:
        lines = [line for line in (*found.facts, *found.diagnosis, hint_line(found.hint).strip()) if line][:2] or [found.call]
    else:
        message = [line.strip() for line in shown_message(outcome).splitlines() if line.strip()]
        lines = message[1:3] or message[:1]
    text = " / ".join(lines)
    return text if len(text) <= MESSAGE_WIDTH else text[: MESSAGE_WIDTH - 3] + "..."


def render(state: GradingState) -> str:
    blocks = []
    outcomes = list(state.outcomes.values())
    for index, part in enumerate(state.config.parts, start=1):
        rows = [
            [o.meta.number, o.meta.name, f"{o.meta.points if o.passed else 0:.3g}/{o.meta.points:.3g}", "PASS" if o.passed else "FAIL", "" if o.passed else why(o)]
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


def component_of(outcome: TestOutcome) -> str:
    """The suite a test belongs to ("conv: forward shape" -> "conv"): the unit of progress and of the report's bars."""
    return outcome.meta.name.split(":")[0]


class Progress:
    """While grading: on a terminal, one updating line per part (a bar and the current component);
    otherwise (Gradescope's log, CI) one line per component when its last test finishes."""

    WIDTH = 24

    def __init__(self, reporter: Any, outcomes: list[TestOutcome], part_names: list[str]) -> None:
        self.reporter, self.part_names = reporter, part_names
        self.left = Counter(component_of(o) for o in outcomes)
        self.size = Counter(o.meta.part for o in outcomes)
        self.done: Counter[int] = Counter()
        self.tally: dict[str, list[float]] = {}  # component -> [earned, possible, failed, tests]

    def finished(self, outcome: TestOutcome) -> None:
        part, name = outcome.meta.part, component_of(outcome)
        self.done[part] += 1
        self.left[name] -= 1
        tally = self.tally.setdefault(name, [0.0, 0.0, 0, 0])
        tally[0] += outcome.meta.points if outcome.passed else 0.0
        tally[1] += outcome.meta.points
        tally[2] += 0 if outcome.passed else 1
        tally[3] += 1
        if self.reporter.isatty:
            self.reporter.rewrite(self.bar(part, name), erase=True)
            if self.done[part] == self.size[part]:
                self.reporter.write_line("")
        elif self.left[name] == 0:
            earned, possible, failed, tests = tally
            self.reporter.write_line(f"{name}: {round(earned, 2):g}/{round(possible, 2):g} points, {failed:g} of {tests:g} tests failed")

    def bar(self, part: int, name: str) -> str:
        filled = self.WIDTH * self.done[part] // max(self.size[part], 1)
        title = self.part_names[part - 1] if part <= len(self.part_names) else f"Part {part}"
        return f"{title} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done[part]}/{self.size[part]}  {name}"
