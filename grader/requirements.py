"""What grading needs (ranges in pyproject.toml, pins in requirements.txt) and whether this Python has it.

Standard library only, with a deliberately small grammar, because it runs where the
requirements may be missing (scripts/has_requirements.py, before any install) and at
every grading's start (the environment banner): ``name[extras] OP version, ...`` with
OP among ``>= > <= < == !=``, and markers of the form ``python_version OP 'X.Y'``.
Versions compare by their release numbers (``2.5.1+cpu`` is 2.5.1). Anything else is
refused with an error, so a requirement this module would misread cannot slip in.
"""
from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PYPROJECT = PROJECT_DIR / "pyproject.toml"
PINS_FILE = PROJECT_DIR / "requirements.txt"

_OPERATORS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, "!=": operator.ne, ">": operator.gt, "<": operator.lt,
}
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*?)\s*(?:;\s*(.*?))?\s*$")
_SPECIFIER = re.compile(r"^(>=|<=|==|!=|>|<)\s*(\d+(?:\.\d+)*)$")
_TOML_SECTION = re.compile(r"^\[([^\]\n]+)\][ \t]*\n(.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL)  # [header] and its body
_TOML_COMMENT = re.compile(r"#[^\n\"]*$", re.MULTILINE)  # to the end of the line, outside a string
_TOML_ARRAY = re.compile(r"^([A-Za-z0-9_-]+)\s*=\s*\[(.*?)\]\s*$", re.MULTILINE | re.DOTALL)  # key = [ ... ]
_TOML_STRING = re.compile(r'"([^"]*)"')
_MARKER = re.compile(r"""^python_version\s*(>=|<=|==|!=|>|<)\s*["'](\d+(?:\.\d+)*)["']$""")


def version_tuple(text: str) -> tuple[int, ...]:
    """The release numbers of a version: '2.5.1+cpu' -> (2, 5, 1), '1.26.0rc1' -> (1, 26, 0)."""
    match = re.match(r"\d+(?:\.\d+)*", text.strip())
    if not match:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in match.group().split("."))


def _compare(op: str, left: tuple[int, ...], right: tuple[int, ...]) -> bool:
    width = max(len(left), len(right))  # 2.1 == 2.1.0
    return _OPERATORS[op](left + (0,) * (width - len(left)), right + (0,) * (width - len(right)))


@dataclass(frozen=True)
class Requirement:
    """One line of pyproject.toml's dependencies or of requirements.txt."""

    name: str
    specifiers: tuple[tuple[str, str], ...]  # (operator, version)
    marker: tuple[str, str] | None = None  # python_version (operator, version)

    def __str__(self) -> str:
        return self.name + ",".join(f"{op}{version}" for op, version in self.specifiers)

    @property
    def wanted(self) -> str:
        """'numpy >= 1.24', or the bare name when any version will do."""
        return " ".join([self.name, ", ".join(f"{op} {version}" for op, version in self.specifiers)]).strip()

    def applies(self, python: tuple[int, ...] = tuple(sys.version_info[:2])) -> bool:
        """Whether the marker (if any) holds for this Python version."""
        return self.marker is None or _compare(self.marker[0], python, version_tuple(self.marker[1]))

    def allows(self, version: str) -> bool:
        return all(_compare(op, version_tuple(version), version_tuple(bound)) for op, bound in self.specifiers)

    @property
    def pinned_version(self) -> str | None:
        """The version of an exact pin (``==X``), else None."""
        return next((version for op, version in self.specifiers if op == "=="), None)


def parse_requirement(text: str) -> Requirement:
    """Parse one requirement in this module's grammar; ValueError names what it cannot read."""
    match = _REQUIREMENT.match(text)
    if not match:
        raise ValueError(f"cannot read the requirement {text!r}")
    name, specifier_text, marker_text = match.groups()
    specifiers = []
    for part in filter(None, (piece.strip() for piece in specifier_text.split(","))):
        specifier = _SPECIFIER.match(part)
        if not specifier:
            raise ValueError(f"cannot read the version specifier {part!r} in {text!r}")
        specifiers.append((specifier.group(1), specifier.group(2)))
    marker = None
    if marker_text:
        parsed = _MARKER.match(marker_text)
        if not parsed:
            raise ValueError(f"only python_version markers are supported, not {marker_text!r} in {text!r}")
        marker = (parsed.group(1), parsed.group(2))
    return Requirement(canonical_name(name), tuple(specifiers), marker)


def canonical_name(name: str) -> str:
    """PyPI's normalised name: 'Scikit_Learn' -> 'scikit-learn'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _toml_arrays(text: str) -> dict[str, dict[str, list[str]]]:
    """The arrays of strings of each [section] of a TOML file, as far as pyproject.toml uses them.

    tomllib arrives only with Python 3.11 (tomli before) and may be the very thing that is
    missing; tests/test_requirements.py checks that this reads pyproject.toml as tomllib does.
    """
    sections: dict[str, dict[str, list[str]]] = {}
    for header, body in _TOML_SECTION.findall(text):
        arrays = _TOML_ARRAY.findall(_TOML_COMMENT.sub("", body))
        sections[header.strip()] = {key: _TOML_STRING.findall(items) for key, items in arrays}
    return sections


def declared(extras: tuple[str, ...] = (), pyproject: Path = PYPROJECT) -> list[Requirement]:
    """pyproject.toml's [project] dependencies, plus those of the named optional extras."""
    sections = _toml_arrays(pyproject.read_text(encoding="utf-8"))
    lines = list(sections.get("project", {}).get("dependencies", []))
    optional = sections.get("project.optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise ValueError(f"{pyproject.name} declares no extra {extra!r} (it has: {', '.join(optional) or 'none'})")
        lines += optional[extra]
    return [parse_requirement(line) for line in lines]


def pins(path: Path = PINS_FILE) -> list[Requirement]:
    """requirements.txt's exact pins for the Gradescope image, comments dropped."""
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [parse_requirement(line) for line in lines if line]


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def problems(requirements: list[Requirement], version_of: Callable[[str], str | None] = installed_version) -> list[str]:
    """One sentence per requirement this Python does not meet: missing, or installed out of range."""
    found = []
    for requirement in requirements:
        if not requirement.applies():
            continue
        version = version_of(requirement.name)
        if version is None:
            found.append(f"{requirement.name} is not installed (the grader needs {requirement.wanted})")
        elif not requirement.allows(version):
            found.append(f"{requirement.name} {version} is installed; the grader needs {requirement.wanted}")
    return found
