"""Gradescope's results JSON: built from outcomes, validated, written atomically."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

import jsonschema

from ..judge import feedback
from ..judge.plugin import TestOutcome

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
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                },
            },
        },
    },
}
MAX_OUTPUT_CHARS = 8000


def build_result(outcome: TestOutcome) -> dict[str, Any]:
    """One test's entry: full points or none, a message that respects the test's visibility."""
    meta = outcome.meta
    message = outcome.message
    if not outcome.passed and (meta.hide_errors or meta.visibility != "visible"):
        message = meta.hide_errors or feedback.GENERIC_HIDDEN
    if outcome.output and meta.visibility == "visible" and not meta.hide_errors:
        message += f"\n--- your code printed ---\n{outcome.output}"
    return {
        "name": meta.name,
        "number": meta.number,
        "score": round(meta.points if outcome.passed else 0.0, 4),
        "max_score": round(meta.points, 4),
        "status": "passed" if outcome.passed else "failed",
        "output": message[:MAX_OUTPUT_CHARS],
        "tags": list(meta.tags),
        "visibility": meta.visibility,
    }


def build_document(outcomes: Iterable[TestOutcome], output: str, execution_time: float, leaderboard: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    tests = [build_result(outcome) for outcome in outcomes]
    document: dict[str, Any] = {
        "score": round(sum(test["score"] for test in tests), 2),
        "execution_time": round(execution_time, 2),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if leaderboard:
        document["leaderboard"] = leaderboard
    return document


def fallback_document(error: str, execution_time: float = 0.0) -> dict[str, Any]:
    """What Gradescope gets when the harness itself fails: score 0 and the reason."""
    return {
        "score": 0,
        "execution_time": round(execution_time, 2),
        "output": f"The autograder could not grade this submission; please tell the course staff.\n{error}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def validate(document: dict[str, Any]) -> None:
    jsonschema.validate(document, SCHEMA)


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write to a temporary file beside ``path``, then replace whatever is there (file or symlink)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(document, handle, indent=2)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
