"""What ``grader/config.toml`` may contain: every key, its type and what it means.

One JSON schema (validated with jsonschema) is the config's single definition:
``config.py`` refuses a file that does not follow it, naming the key's path and
the nearest valid name, and ``python -m grader rubric --keys`` prints the
descriptions. Unknown keys are errors, so a typo never silently keeps a default.
"""
from __future__ import annotations

import difflib
from typing import Any

import jsonschema

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
# Leaderboard entries a config may list: id -> (label on Gradescope, sort order).
# "desc": higher ranks higher; "asc": lower ranks higher. Never part of the score.
LEADERBOARD_ENTRIES = {
    "end_to_end_accuracy": ("VanillaCNN validation accuracy (your train_epoch)", "desc"),
    "vanilla_cnn_accuracy": ("VanillaCNN validation accuracy (grader's loop)", "desc"),
    "twolayer_accuracy": ("TwoLayerNet validation accuracy (grader's loop)", "desc"),
    "conv_speed_vs_torch": ("Conv2D forward+backward time / torch's", "asc"),
}
THRESHOLD_NAMES = ("scratch_cnn", "twolayer", "vanilla_cnn", "end_to_end")


def _number(description: str, minimum: float = 0) -> dict[str, Any]:
    return {"type": "number", "exclusiveMinimum": minimum, "description": description}


def _integer(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "description": description}


def _table(description: str, properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": properties, "required": list(required), "additionalProperties": False}


def _recipe(description: str, **extra: dict[str, Any]) -> dict[str, Any]:
    common = {
        "epochs": _integer("passes over the training data"),
        "batch_size": _integer("samples per SGD step"),
        "lr": _number("learning rate of SGD"),
        "momentum": {"type": "number", "minimum": 0, "maximum": 1, "description": "momentum of SGD"},
    }
    return _table(description, {**extra, **common}, required=(*extra, *common))


SCHEMA: dict[str, Any] = _table("the grading policy", {
    "total_points": _number("the assignment's total; the points under [tests] must add up to it"),
    "default_timeout": _number("seconds of wall time per test for the student's code, unless the test sets timeout"),
    "default_visibility": {"enum": list(VISIBILITIES), "description": "of each test on Gradescope, unless the test sets visibility"},
    "grading_budget_seconds": _number("wall time of the whole grading; past it, tests not yet run score 0 and results.json is written"),
    "limits": _table("applied to the worker processes when grading runs as root", {
        "worker_start_seconds": _number("for a worker to import numpy/torch before any student code; never a test's time"),
        "memory_mb": _integer("address space of each worker process; also the limit on the resident memory of all of them"),
        "file_size_mb": _integer("largest file student code may write"),
        "processes": _integer("processes and threads of the worker, all together"),
        "output_kib": _integer("student output kept per test"),
    }),
    "data": _table("the dataset of the accuracy tests", {
        "dataset": {"enum": ["digits", "mnist", "fashion_mnist", "cifar10"], "description": "which dataset; digits ships with scikit-learn"},
        "root": {"type": "string", "description": "folder of torchvision's on-disk files, relative to the config file"},
        "seed": {"type": "integer", "description": "seed of the data split, initial weights and batch order"},
    }),
    "datasets": {
        "type": "object", "description": "per dataset: how images are prepared and the accuracy each trained model must reach",
        "additionalProperties": _table("one dataset", {
            "max_train": _integer("training images used"),
            "max_val": _integer("held-out images used"),
            "image_size": _integer("VanillaCNN input size (images are resized)"),
            "thresholds": _table("accuracy each trained model must reach", {name: _number(f"threshold of the {name} accuracy test") for name in THRESHOLD_NAMES},
                                 required=THRESHOLD_NAMES),
        }, required=("thresholds",)),
    },
    "training": _table("training recipes of the accuracy tests", {
        "scratch_cnn": _recipe("student's NumPy layers + SGD, the grader's loop", max_train=_integer("training images used"),
                               channels=_integer("convolution channels")),
        "twolayer": _recipe("student's TwoLayerNet, the grader's loop", hidden_size=_integer("hidden units")),
        "vanilla_cnn": _recipe("student's VanillaCNN, the grader's loop"),
        "end_to_end": _recipe("student's VanillaCNN trained by the student's train_epoch"),
    }, required=("scratch_cnn", "twolayer", "vanilla_cnn", "end_to_end")),
    "leaderboard": _table("optional entries for Gradescope's leaderboard; never scored", {
        "enabled": {"type": "boolean", "description": "also turn the leaderboard on in Gradescope's assignment settings"},
        "entries": {"type": "array", "items": {"enum": list(LEADERBOARD_ENTRIES)}, "description": "which values to post"},
    }),
    "report": _table("the feedback students see beside the score", {
        "gradescope_output_format": {"enum": ["text", "html"],
                                     "description": "each test's output on Gradescope: text, or HTML with its figure inline (check it on your Gradescope first)"},
    }),
    "parts": {"type": "array", "minItems": 1, "description": "the parts of the report, in order",
              "items": _table("one part", {"name": {"type": "string", "description": "title in the report"},
                                           "files": {"type": "array", "items": {"type": "string"}, "description": "its suite files, in order"}},
                              required=("name", "files"))},
    "tests": {"type": "object", "description": "points per test function (file.py::test_name); a parametrized test shares them among its cases",
              "additionalProperties": _table("one test", {
                  "points": {"type": "number", "minimum": 0, "description": "points of the test"},
                  "visibility": {"enum": list(VISIBILITIES), "description": "on Gradescope"},
                  "timeout": _number("seconds of wall time for the student's code in this test"),
                  "hide_errors": {"type": "string", "minLength": 1, "description": "the message a failure of this test shows instead of its own (and no output or figures)"},
              }, required=("points",))},
}, required=("total_points", "parts", "datasets", "training", "tests"))


def where(path: Any) -> str:
    """A key's place as TOML writes it: ``[tests."test_conv.py::x"]``, ``[limits]``, or the top level."""
    parts = [str(part) if str(part).isidentifier() else f'"{part}"' for part in path if not isinstance(part, int)]
    return f"[{'.'.join(parts)}]" if parts else "the top level"


def explain(error: jsonschema.ValidationError) -> str:
    """One line for an instructor: which key, where, what is wrong, and the nearest valid name for a typo."""
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(known))
        if unknown and known:
            near = difflib.get_close_matches(unknown[0], known, n=1)
            suggestion = f"; did you mean `{near[0]}`?" if near else f"; valid keys: {', '.join(known)}"
            return f"unknown key `{unknown[0]}` in {where(error.absolute_path)}{suggestion}"
    if error.validator == "required":
        return f"{where(error.absolute_path)}: {error.message}"
    key = error.absolute_path[-1] if error.absolute_path else ""
    return f"`{key}` in {where(list(error.absolute_path)[:-1])}: {error.message}"


def problems(raw: dict[str, Any]) -> list[str]:
    """Every way ``raw`` breaks the schema, one line each (empty when it follows it)."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    return [explain(error) for error in sorted(validator.iter_errors(raw), key=lambda error: list(map(str, error.absolute_path)))]


def descriptions(schema: dict[str, Any] = SCHEMA, prefix: str = "") -> list[tuple[str, str]]:
    """(key path, description) of every key, for ``rubric --keys``."""
    rows = []
    for name, entry in schema.get("properties", {}).items():
        rows.append((prefix + name, entry.get("description", "")))
        rows += descriptions(entry, f"{prefix}{name}.")
        if isinstance(entry.get("additionalProperties"), dict):
            rows += descriptions(entry["additionalProperties"], f"{prefix}{name}.<name>.")
        if isinstance(entry.get("items"), dict):
            rows += descriptions(entry["items"], f"{prefix}{name}[].")
    return rows
