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
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import assignment, provenance


@dataclass(frozen=True)
class Scenario:
    function: Callable[..., Any]
    part: int  # the part whose worker runs it


REGISTRY: dict[str, Scenario] = {}
PART_MODULES = {1: ".part1", 2: ".part2"}  # each registers its own scenarios, with its part


class ContractError(TypeError):
    """Student code returned something the contract does not allow."""


def registrar(part: int) -> Callable[[str], Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The ``@scenario(name)`` decorator of one part's module: what it registers runs in that part's worker."""

    def scenario(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            REGISTRY[name] = Scenario(function, part)
            return function

        return register

    return scenario


def part_of(name: str) -> int | None:
    """The part whose worker runs scenario ``name`` (None for an unknown name), every part's scenarios loaded first."""
    for module in PART_MODULES.values():
        importlib.import_module(module, __package__)
    return REGISTRY[name].part if name in REGISTRY else None


def student_object(name: str) -> Any:
    """The submission's class or function of component ``name``, checked to be the student's own."""
    graded = assignment.component(name)
    return provenance.own(getattr(importlib.import_module(graded.module), graded.object), graded.object)


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


def preload(part: int) -> None:
    """Import the trusted libraries and this part's scenarios before any student code runs."""
    hide_runtime_warnings()
    importlib.import_module(PART_MODULES[part], __package__)
