"""Gradescope's results JSON: built from outcomes, validated, written atomically."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema

from ..judge import feedback
from ..judge.outcome import TestOutcome

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]}, "order": {"enum": ["asc", "desc"]}},
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score"],
                "properties": {
                    "name": {"type": "string"},
                    "number": {"type": "string"},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                },
            },
        },
    },
}
MAX_OUTPUT_CHARS = 8000
MAX_DOCUMENT_BYTES = 900_000  # Gradescope rejects results over 1 MB
TRUNCATED = "\n[... shortened to keep the results file small]"


def hides_message(outcome: TestOutcome) -> bool:
    """Whether the student sees a generic line instead of this failure's message: hidden tests and ``hide_errors``."""
    return not outcome.passed and (bool(outcome.meta.hide_errors) or outcome.meta.visibility != "visible")


def shown_message(outcome: TestOutcome) -> str:
    """The failure message a student may see: generic for hidden tests and ``hide_errors``."""
    if hides_message(outcome):
        return outcome.meta.hide_errors or feedback.GENERIC_HIDDEN
    return outcome.message


def shown_feedback(outcome: TestOutcome) -> feedback.Feedback | None:
    """The failed check's feedback in parts, when the student may see it (never for hidden tests or ``hide_errors``)."""
    return None if hides_message(outcome) else outcome.feedback


def build_result(outcome: TestOutcome) -> dict[str, Any]:
    """One test's entry: full points or none, a message that respects the test's visibility."""
    meta = outcome.meta
    message = shown_message(outcome)
    if outcome.output and meta.visibility == "visible" and not meta.hide_errors:
        message += f"\n--- your code printed ---\n{outcome.output}"
    return {
        "name": meta.name,
        "number": meta.number,
        "score": round(meta.points if outcome.passed else 0.0, 4),
        "max_score": round(meta.points, 4),
        "status": "passed" if outcome.passed else "failed",
        "output": shorten(message, MAX_OUTPUT_CHARS),
        "tags": list(meta.tags),
        "visibility": meta.visibility,
    }


def shorten(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, saying so when it was cut."""
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def build_document(outcomes: Iterable[TestOutcome], output: str, execution_time: float, leaderboard: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    tests = [build_result(outcome) for outcome in outcomes]
    document: dict[str, Any] = {
        "score": round(sum(test["score"] for test in tests), 4),  # the tests' scores have 4 decimals
        "execution_time": round(execution_time, 2),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if leaderboard:
        document["leaderboard"] = leaderboard
    return fit(document)


def encoded_size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, indent=2).encode("utf-8"))


def fit(document: dict[str, Any], limit: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Shorten long outputs until the document is under ``limit`` bytes as written (escapes included)."""
    cap = MAX_OUTPUT_CHARS
    while encoded_size(document) > limit and cap >= 16:
        cap //= 2
        for entry in [*document["tests"], document]:
            entry["output"] = shorten(entry.get("output", ""), cap)
    return document


def fallback_document(error: str, execution_time: float = 0.0) -> dict[str, Any]:
    """What Gradescope gets when the harness itself fails: score 0, a request to tell the staff, and the error for instructors only."""
    document = interrupted_document("The autograder could not grade this submission; please tell the course staff.", execution_time)
    document["tests"] = [{"name": "autograder error (instructors only)", "score": 0, "max_score": 0, "status": "failed",
                          "output": shorten(error, MAX_OUTPUT_CHARS), "visibility": "hidden"}]
    return document


def interrupted_document(output: str, execution_time: float = 0.0) -> dict[str, Any]:
    """A results file with no test: score 0 and why."""
    return {
        "score": 0,
        "execution_time": round(execution_time, 2),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def validate(document: dict[str, Any]) -> None:
    jsonschema.validate(document, SCHEMA)


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    write_text_atomically(path, json.dumps(document, indent=2))


def write_text_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path``, then replace whatever is there (file or symlink)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)  # a file, a symlink or a read-only file there is replaced, never written through
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
