"""overview.html for ``batch``: how a class did, where it lost points, and the commonest causes.

Built from the results JSON of each submission (what Gradescope would show),
so it says nothing a student's own report does not.
"""
from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path
from statistics import median
from typing import Any

from .html import STYLE, components, points
from .results import write_text_atomically

# Lines of a failure message that name a likely cause (feedback.pattern_lines and scalar_mismatch), in order of preference.
CAUSES = (re.compile(r"^(Your values equal .*)$"), re.compile(r"^(Every value is .*)$"), re.compile(r"^(All wrong values are in .*)$"),
          re.compile(r"^(That is .* the expected value\.)$"), re.compile(r"\(([^()]*\?)\)$"), re.compile(r"^(Hint: .*)$"))
TOP_TESTS = 12


def cause_of(message: str) -> str:
    """The message's most specific line about why (a detected pattern, else the test's hint)."""
    lines = [line.strip() for line in message.splitlines()]
    for pattern in CAUSES:
        for line in lines:
            found = pattern.search(line)
            if found:
                return found.group(1)
    return "no cause named"


def failed_tests(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [test for test in document.get("tests", []) if test.get("status") == "failed"]


def component_rows(documents: list[dict[str, Any]]) -> str:
    """Per component: the share of submissions that lost points in it."""
    lost: Counter[str] = Counter()
    order: dict[str, None] = {}
    for document in documents:
        for name, tests in components(document.get("tests", [])).items():
            order[name] = None
            lost[name] += any(test["score"] < test["max_score"] for test in tests)
    return "".join(f"<tr><td>{escape(name)}</td><td>{lost[name] / len(documents):.0%}</td>"
                   f'<td style="width:100%"><div class="bar lost"><span style="width:{lost[name] / len(documents):.1%}"></span></div></td></tr>'
                   for name in order)


def test_rows(documents: list[dict[str, Any]]) -> str:
    """The tests failed most often (a parametrized test counts once per submission), each with the commonest cause its messages name."""
    causes: dict[str, Counter[str]] = {}
    failed_by: Counter[str] = Counter()
    for document in documents:
        seen = set()
        for test in failed_tests(document):
            name = test["name"].split(" [")[0]
            causes.setdefault(name, Counter())[cause_of(test.get("output", ""))] += 1
            seen.add(name)
        failed_by.update(seen)
    rows = []
    for name, submissions in failed_by.most_common(TOP_TESTS):
        cause, count = causes[name].most_common(1)[0]
        rows.append(f"<tr><td>{escape(name)}</td><td>{submissions / len(documents):.0%}</td>"
                    f"<td>{escape(cause)} ({count} of {sum(causes[name].values())} failed cases)</td></tr>")
    return "".join(rows)


def submission_rows(graded: list[tuple[str, str, dict[str, Any] | None]]) -> str:
    rows = []
    for name, report, document in graded:
        score = "no results" if document is None else points(document["score"])
        failed = "" if document is None else str(len(failed_tests(document)))
        rows.append(f'<tr><td><a href="{escape(report)}">{escape(name)}</a></td><td>{score}</td><td>{failed}</td></tr>')
    return "".join(rows)


def write(path: Path, graded: list[tuple[str, str, dict[str, Any] | None]]) -> None:
    """``graded``: (submission name, its report's file name relative to ``path``, its results or None) per submission."""
    documents = [document for _, _, document in graded if document is not None]
    totals = [float(document["score"]) for document in documents]
    maximum = max((sum(t["max_score"] for t in document.get("tests", [])) for document in documents), default=0.0)
    figure = ""
    if totals:
        from . import figures  # matplotlib only when drawing

        figure = f'<img class="figure" data-kind="histogram" alt="distribution of totals" src="data:image/png;base64,{figures.histogram(totals, maximum)}">'
    summary = f"{len(graded)} submissions" + (f"; median total {points(median(totals))}/{points(maximum)}" if totals else "")
    body = (f"<h1>Class overview</h1><p>{summary}</p>{figure}"
            f'<h2>Share of submissions that lost points, per component</h2><table class="bars">{component_rows(documents) if documents else ""}</table>'
            f"<h2>Tests failed most often</h2><table><tr><th>test</th><th>failed by</th><th>commonest cause</th></tr>{test_rows(documents) if documents else ''}</table>"
            f"<h2>Submissions</h2><table><tr><th>submission</th><th>total</th><th>failed tests</th></tr>{submission_rows(graded)}</table>")
    write_text_atomically(path, f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Class overview</title><style>{STYLE}</style></head><body>{body}</body></html>\n')
