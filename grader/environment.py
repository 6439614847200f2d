"""The first lines of every grading: which Python grades, with which NumPy and torch, and whether that can differ from Gradescope.

Versions come from the installed packages' metadata: importing torch here would cost
the second or two the judge already spends importing it once.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from . import requirements

PROJECT_VENV = requirements.PROJECT_DIR / ".venv"
WATCHED = {"numpy": "NumPy", "torch": "torch"}  # another major version of these can change a verdict


def _which_environment(prefix: Path) -> str:
    if prefix.resolve() == PROJECT_VENV.resolve():
        return "./.venv, built by run_grader.sh from requirements.txt"
    return "the active environment, not ./.venv"


def _gradescope_pins(pins_file: Path) -> dict[str, str]:
    """Package -> the version requirements.txt pins for this Python; empty where the file does not ship."""
    if not pins_file.exists():
        return {}
    return {pin.name: pin.pinned_version for pin in requirements.pins(pins_file) if pin.applies() and pin.pinned_version}


def _major(version: str) -> int:
    return requirements.version_tuple(version)[0]


def banner(version_of: Callable[[str], str | None] = requirements.installed_version,
           prefix: Path = Path(sys.prefix), pins_file: Path = requirements.PINS_FILE) -> list[str]:
    """'Grading with PATH: Python X, NumPy Y, torch Z (which environment)', then a warning per package a major version away from Gradescope's."""
    versions = {name: version_of(name) for name in WATCHED}
    described = ", ".join(f"{label} {versions[name] or 'not installed'}" for name, label in WATCHED.items())
    python = ".".join(map(str, sys.version_info[:3]))
    lines = [f"Grading with {sys.executable}: Python {python}, {described} ({_which_environment(prefix)})"]
    pinned = _gradescope_pins(pins_file)
    for name, label in WATCHED.items():
        here, there = versions[name], pinned.get(name)
        if here and there and _major(here) != _major(there):
            lines.append(f"Warning: {label} {here} here, {label} {there} on Gradescope: another major version, "
                         "so a test can pass here and fail there (Gradescope's verdict counts).")
    return lines
