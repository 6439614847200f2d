"""report.html: the grading as one self-contained page, with a figure for each failing test.

Written after results.json, from the same document (so the messages and the
hidden tests' generic text are the same) and the evidence the failing tests
left. Drawing never changes a score: a figure that cannot be drawn becomes a
note, and results.json is rewritten only to put figures into Gradescope's
HTML outputs when the config asks for that.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import results

if TYPE_CHECKING:
    from ..judge.feedback import Feedback
    from ..judge.plugin import GradingState, TestOutcome

MAX_FIGURES = 60  # per report: a submission failing everything gets figures for the first ones only
GRADESCOPE_FIGURE_BYTES = 500_000  # of results.json spent on figures; the rest go to report.html only
LEFT_OUT = "(figure left out to keep the results file under 1 MB)"
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:2em auto;max-width:70em;color:#222;padding:0 1em}
h1{font-size:1.5em} h2{font-size:1.2em;margin-top:1.6em} .total{font-size:1.3em;font-weight:bold}
table.bars{border-collapse:collapse;width:100%} table.bars td{padding:.15em .5em;white-space:nowrap}
.bar{background:#eee;width:100%;height:1em;position:relative} .bar span{position:absolute;left:0;top:0;bottom:0;background:#27ae60}
.bar.lost span{background:#e67e22} details{margin:.4em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .6em}
details.fail{border-left:5px solid #c0392b} details.pass{border-left:5px solid #27ae60;color:#555}
summary{cursor:pointer;font-weight:600} pre{white-space:pre-wrap;background:#f7f7f7;padding:.6em;font-size:.9em;overflow-x:auto}
img.figure{max-width:100%;display:block;margin:.4em 0} .note{color:#8a6d3b;background:#fcf8e3;padding:.4em .6em}
.call{font-family:monospace;font-weight:600;margin:.4em 0} ul.facts,ul.diagnosis{margin:.3em 0;padding-left:1.4em}
ul.diagnosis{color:#7d3c98} .hint{background:#eaf4fb;padding:.4em .6em;margin:.4em 0}
"""


def points(value: float) -> str:
    """Points as people write them: shared points add up to 99.9997, shown as 100."""
    return f"{round(value, 2):g}"


def component_of(test: dict[str, Any]) -> str:
    """The suite a test belongs to ("conv: forward shape" -> "conv"), the report's unit of points."""
    return str(test["name"]).split(":")[0]


def components(tests: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Tests grouped by component, in the order of the assignment (the order of results.json)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        grouped.setdefault(component_of(test), []).append(test)
    return grouped


def shows_figure(outcome: TestOutcome) -> bool:
    """Figures only for visible failing tests: a hidden test keeps its generic message alone."""
    return not outcome.passed and bool(outcome.evidence) and outcome.meta.visibility == "visible" and not outcome.meta.hide_errors


def draw_figures(state: GradingState | None) -> dict[str, list[tuple[str, str]]]:
    """(kind of figure, base64 PNG) per test number, for the failing tests that left evidence."""
    chosen = [outcome for outcome in (state.outcomes.values() if state else ()) if shows_figure(outcome)][:MAX_FIGURES]
    if not chosen:
        return {}
    from . import figures  # matplotlib only when there is something to draw

    return {outcome.meta.number: [(item["kind"], figures.draw(item)) for item in outcome.evidence] for outcome in chosen}


def image(kind: str, picture: str) -> str:
    return f'<img class="figure" data-kind="{kind}" alt="{kind} figure" src="data:image/png;base64,{picture}">'


def bar_row(name: str, earned: float, possible: float) -> str:
    share = earned / possible if possible else 1.0
    lost = " lost" if earned < possible else ""
    return (f"<tr><td>{escape(name)}</td><td>{points(earned)}/{points(possible)}</td>"
            f'<td style="width:100%"><div class="bar{lost}"><span style="width:{share:.1%}"></span></div></td></tr>')


def shown_feedback(state: GradingState | None) -> dict[str, Feedback]:
    """The failed checks' feedback in parts, per test number, where the student may see it."""
    shown = {outcome.meta.number: results.shown_feedback(outcome) for outcome in (state.outcomes.values() if state else ())}
    return {number: found for number, found in shown.items() if found is not None}


def items(kind: str, lines: Iterable[str]) -> str:
    listed = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<ul class="{kind}">{listed}</ul>' if listed else ""


def message(output: str, found: Feedback | None) -> str:
    """A check's feedback in parts (the call, what differs, the student's lines, the likely cause, the hint), then what the
    code printed; any other message as results.json has it (also a check's, if shortening cut into it)."""
    if found is None or not output.startswith(found.text()):
        return f"<pre>{escape(output)}</pre>"
    printed = output.removeprefix(found.text()).lstrip("\n")
    where = escape("\n".join(found.where))
    return "".join([
        f'<p class="call">{escape(found.call)}</p>', items("facts", found.facts),
        f'<pre class="where">in your code:\n{where}</pre>' if found.where else "", items("diagnosis", found.diagnosis),
        f'<p class="hint">Hint: {escape(found.hint)}</p>' if found.hint else "", f"<pre>{escape(printed)}</pre>" if printed else "",
    ])


def failing_test(test: dict[str, Any], pictures: list[tuple[str, str]], found: Feedback | None) -> str:
    return (f'<details class="fail" open><summary>{escape(test.get("number", ""))} {escape(test["name"])}: {points(test["score"])}/{points(test["max_score"])}</summary>'
            f"{message(test.get('output', ''), found)}{''.join(image(*p) for p in pictures)}</details>")


def passed_tests(tests: list[dict[str, Any]], title: str) -> str:
    if not tests:
        return ""
    rows = "".join(f"<li>{escape(t.get('number', ''))} {escape(t['name'])}: {points(t['score'])}/{points(t['max_score'])}</li>" for t in tests)
    return f'<details class="pass"><summary>{escape(title)}</summary><ul>{rows}</ul></details>'


def section(name: str, tests: list[dict[str, Any]], pictures: dict[str, list[tuple[str, str]]], feedback: dict[str, Feedback]) -> str:
    """A component: its failing tests open with their messages and figures, its passed tests in one collapsed line."""
    passed = [t for t in tests if t.get("status") != "failed"]
    if len(passed) == len(tests):
        return passed_tests(passed, f"{name}: all {len(tests)} tests passed" if len(tests) > 1 else f"{name}: its test passed")
    failing = "".join(failing_test(t, pictures.get(t.get("number", ""), []), feedback.get(t.get("number", ""))) for t in tests if t.get("status") == "failed")
    return f"<h2>{escape(name)}</h2>{failing}{passed_tests(passed, f'{len(passed)} passed')}"


def page(document: dict[str, Any], pictures: dict[str, list[tuple[str, str]]], notes: list[str], feedback: dict[str, Feedback]) -> str:
    """The whole report as one HTML document: no scripts, no fonts, no links out."""
    grouped = components(document["tests"])
    possible = sum(test["max_score"] for test in document["tests"])
    bars = "".join(bar_row(name, sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)) for name, tests in grouped.items())
    sections = [section(name, tests, pictures, feedback) for name, tests in grouped.items()]
    remarks = "".join(f'<p class="note">{escape(note)}</p>' for note in notes)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Grading report: {points(document["score"])}/{points(possible)}</title>'
            f"<style>{STYLE}</style></head><body><h1>Grading report</h1>"
            f'<p class="total">Total: {points(document["score"])}/{points(possible)}</p>{remarks}<pre>{escape(document.get("output", ""))}</pre>'
            f'<table class="bars">{bars}</table>{"".join(sections)}</body></html>\n')


def gradescope_html(document: dict[str, Any], pictures: dict[str, list[tuple[str, str]]]) -> dict[str, Any]:
    """Each test's output as HTML (Gradescope's ``output_format``), figures inline while results.json stays under its limit."""
    room = results.MAX_DOCUMENT_BYTES - results.encoded_size(with_figures(document, pictures, 0)) - 200 * len(pictures)
    return with_figures(document, pictures, min(GRADESCOPE_FIGURE_BYTES, room))


def with_figures(document: dict[str, Any], pictures: dict[str, list[tuple[str, str]]], budget: int) -> dict[str, Any]:
    """A copy of ``document`` with HTML outputs; figures past ``budget`` bytes are replaced by a line saying so."""
    spent = 0
    converted = json.loads(json.dumps(document))
    for test in converted["tests"]:
        inline = []
        for kind, picture in pictures.get(test.get("number", ""), []):
            spent += len(picture)
            inline.append(image(kind, picture) if spent <= budget else f"<p>{LEFT_OUT}</p>")
        test["output"] = f"<pre>{escape(test.get('output', ''))}</pre>{''.join(inline)}"
        test["output_format"] = "html"
    return converted


def publish(results_path: Path, document: dict[str, Any], state: GradingState | None, report_path: Path | None) -> None:
    """Write the report (and Gradescope's HTML outputs when configured); say where it is on the console's last line."""
    if report_path is None:
        return
    notes: list[str] = []
    pictures: dict[str, list[tuple[str, str]]] = {}
    try:
        pictures = draw_figures(state)
        if state is not None and state.config.gradescope_output_format == "html":
            html_document = gradescope_html(document, pictures)
            results.validate(html_document)
            results.write_atomically(results_path, html_document)
    except Exception as error:  # a figure is a courtesy: the grade is already written
        notes.append(f"The figures could not be drawn ({type(error).__name__}: {error}); every message is complete.")
    try:
        results.write_text_atomically(report_path, page(document, pictures, notes, shown_feedback(state)))
        print(f"Report with figures: {report_path}")
    except OSError as error:
        print(f"The report could not be written to {report_path}: {error}")
