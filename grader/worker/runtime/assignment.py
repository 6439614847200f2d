"""The assignment's components, declared once: every other part of the grader derives from this list.

A component is one graded class or function in one graded file (``conv`` is
``Conv2D`` in ``part1_scratch/conv.py``); its name is the tag of the tests that
hold its points. Discovery, staging, the Part 1 checks, the worker's scenarios,
the report and the tools all read this module, so that a new component (a
BatchNorm2D next year) is one line here plus its suite (docs/architecture.md).

Standard library only: the runtime folder is shipped into the worker as
``grader_runtime``, where this module decides what Part 1 code may import.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    """One graded class or function of the assignment."""

    name: str  # the tag of its tests and the first word of their names, e.g. "conv"
    file: str  # where the student writes it, in the template's layout, e.g. "part1_scratch/conv.py"
    object: str  # the class or function that file defines, as messages name it, e.g. "Conv2D"
    part: int  # 1: NumPy and the standard library only; 2: PyTorch

    @property
    def module(self) -> str:
        return module_of(self.file)


COMPONENTS = (  # in the order of the assignment (and of the report)
    Component("conv", "part1_scratch/conv.py", "Conv2D", 1),
    Component("maxpool", "part1_scratch/maxpool.py", "MaxPool2D", 1),
    Component("relu", "part1_scratch/relu.py", "ReLU", 1),
    Component("linear", "part1_scratch/linear.py", "Linear", 1),
    Component("sgd", "part1_scratch/sgd.py", "SGD", 1),
    Component("twolayer", "part2_pytorch/models.py", "TwoLayerNet", 2),
    Component("vanilla_cnn", "part2_pytorch/models.py", "VanillaCNN", 2),
    Component("train_epoch", "part2_pytorch/train.py", "train_epoch", 2),
    Component("validate", "part2_pytorch/train.py", "validate", 2),
)
PART1_LIBRARIES = ("numpy",)  # besides the standard library and Part 1's own package(s)


def module_of(file: str) -> str:
    """The import name of a graded file: ``part1_scratch/conv.py`` -> ``part1_scratch.conv``."""
    return file.removesuffix(".py").replace("/", ".")


def names() -> tuple[str, ...]:
    return tuple(component.name for component in COMPONENTS)


def component(name: str) -> Component:
    """The component called ``name``; KeyError for any other name."""
    for candidate in COMPONENTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no component {name!r}; known: {', '.join(names())}")


def graded_files() -> tuple[str, ...]:
    """Every file a student edits, in the assignment's order, each once."""
    return tuple(dict.fromkeys(component.file for component in COMPONENTS))


def components_in(file: str) -> tuple[Component, ...]:
    return tuple(component for component in COMPONENTS if component.file == file)


def in_part(part: int) -> tuple[Component, ...]:
    return tuple(component for component in COMPONENTS if component.part == part)


def part1_may_import(module: str) -> bool:
    """The contract's rule for Part 1 files: NumPy, the standard library and Part 1's own files, nothing else.

    ``_sysconfigdata_*`` (read by sysconfig, e.g. for numpy.testing) is standard
    library too, though not in ``sys.stdlib_module_names``. Called by the
    judge's source check and by the Part 1 worker's audit hook on every import,
    so it imports nothing itself.
    """
    top = module.partition(".")[0]
    own_packages = {component.file.partition("/")[0] for component in in_part(1)}
    return top in PART1_LIBRARIES or top in own_packages or top in sys.stdlib_module_names or top.startswith("_sysconfigdata")
