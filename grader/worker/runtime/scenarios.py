"""The registry of scenarios: grader-written steps that call student code.

A scenario takes plain data (dicts, lists, scalars, ndarrays) and returns plain
data. It only exercises the submission; the judge computes what is expected
and compares.
"""
from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from . import provenance

REGISTRY: dict[str, Callable[..., Any]] = {}

# component -> (module under the submission, graded class or function)
STUDENT_OBJECTS = {
    "conv": ("part1_scratch.conv", "Conv2D"),
    "maxpool": ("part1_scratch.maxpool", "MaxPool2D"),
    "relu": ("part1_scratch.relu", "ReLU"),
    "linear": ("part1_scratch.linear", "Linear"),
    "sgd": ("part1_scratch.sgd", "SGD"),
    "twolayer": ("part2_pytorch.models", "TwoLayerNet"),
    "vanilla_cnn": ("part2_pytorch.models", "VanillaCNN"),
    "train_epoch": ("part2_pytorch.train", "train_epoch"),
    "validate": ("part2_pytorch.train", "validate"),
}


class ContractError(TypeError):
    """Student code returned something the contract does not allow."""


def scenario(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[name] = function
        return function

    return register


def student_object(component: str) -> Any:
    module_name, attribute = STUDENT_OBJECTS[component]
    return provenance.own(getattr(importlib.import_module(module_name), attribute), attribute)


def plain_array(value: Any, what: str) -> np.ndarray:
    """The value itself if it is a plain float ndarray, else a ContractError."""
    if type(value) is not np.ndarray:
        raise ContractError(f"{what} returned {type(value).__module__}.{type(value).__name__}, expected numpy.ndarray")
    if value.dtype.kind != "f":
        raise ContractError(f"{what} returned an array of dtype {value.dtype}, expected a float dtype")
    return value


RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def student_warnings_only(show: Callable[..., None]) -> Callable[..., None]:
    """``show`` (a ``warnings.showwarning``) for warnings raised outside the grader's runtime only."""

    def show_student_warnings(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if not os.path.abspath(filename).startswith(RUNTIME_DIR + os.sep):
            show(message, category, filename, lineno, file, line)

    return show_student_warnings


def hide_runtime_warnings() -> None:
    """The report prints the worker's output as the student's: warnings the grader's own code raises stay out of it."""
    warnings.showwarning = student_warnings_only(warnings.showwarning)


def preload(part: str) -> None:
    """Import the trusted libraries before any student code runs."""
    hide_runtime_warnings()
    if part == "part1":
        importlib.import_module(".part1", __package__)
    else:
        importlib.import_module(".part2", __package__)
