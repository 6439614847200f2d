"""The requirement check: supported ranges in pyproject.toml, Gradescope's pins in requirements.txt, and what run_grader.sh does with them."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement as PackagingRequirement
from packaging.specifiers import SpecifierSet

from grader.requirements import Requirement, declared, installed_version, parse_requirement, pins, problems, version_tuple

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: requirements.txt pins tomli there
    import tomli as tomllib

from conftest import ROOT

PYTHONS = [(3, 10), (3, 11), (3, 12), (3, 13)]  # requires-python >= 3.10, up to the newest measured


def every_declared() -> list[Requirement]:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return declared(tuple(extras))


# --- the grammar ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("2.5.1+cpu", (2, 5, 1)), ("1.26.0rc1", (1, 26, 0)), ("2.1", (2, 1)), ("0.10.0", (0, 10, 0)),
])
def test_version_tuple_keeps_the_release_numbers(text: str, expected: tuple[int, ...]) -> None:
    assert version_tuple(text) == expected


def test_a_requirement_is_read_with_its_range_and_marker() -> None:
    requirement = parse_requirement("Scikit_Learn[alldeps] >=1.3, <2 ; python_version < '3.11'")
    assert requirement == Requirement("scikit-learn", ((">=", "1.3"), ("<", "2")), ("<", "3.11"))
    assert requirement.wanted == "scikit-learn >= 1.3, < 2"
    assert requirement.applies((3, 10)) and not requirement.applies((3, 11))
    assert requirement.allows("1.3.0") and requirement.allows("1.9.1") and not requirement.allows("1.2.2") and not requirement.allows("2.0")


@pytest.mark.parametrize(("version", "allowed"), [("2.1.0", True), ("2.1", True), ("2.5.1+cpu", True), ("2.0.1", False), ("1.13.1", False)])
def test_a_lower_bound_compares_release_numbers(version: str, allowed: bool) -> None:
    assert parse_requirement("torch>=2.1").allows(version) is allowed


def test_an_exact_pin_ignores_a_local_version_label() -> None:
    pin = parse_requirement("torch==2.14.1")
    assert pin.pinned_version == "2.14.1" and pin.allows("2.14.1+cpu") and not pin.allows("2.14.0")


@pytest.mark.parametrize("text", ["numpy~=1.24", "numpy>=1.24; sys_platform == 'linux'", "numpy>=1.24rc1", "numpy @ https://example.org/numpy.whl"])
def test_what_the_grammar_cannot_read_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="numpy"):
        parse_requirement(text)


def test_pyproject_is_read_as_tomllib_reads_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = project["dependencies"] + [line for extra in project["optional-dependencies"].values() for line in extra]
    assert [str(requirement) for requirement in every_declared()] == [str(parse_requirement(line)) for line in expected]
    assert len(expected) == len(every_declared())


def test_an_unknown_extra_is_an_error() -> None:
    with pytest.raises(ValueError, match="no extra 'gpu'"):
        declared(("gpu",))


# --- what is checked ---------------------------------------------------------------------------

def test_grading_asks_only_for_what_the_grading_path_imports() -> None:
    names = {requirement.name for requirement in declared()}
    assert {"numpy", "torch", "pytest", "tabulate", "jsonschema", "gradescope-utils"} <= names
    assert not names & {"torchvision", "pytest-xdist", "pytest-timeout"}


def test_the_measured_lower_bounds_are_declared() -> None:
    lower = {requirement.name: requirement.specifiers for requirement in declared()}
    assert lower["numpy"] == ((">=", "1.24"),) and lower["torch"] == ((">=", "2.1"),)


def test_a_missing_package_and_one_out_of_range_are_named_with_their_version() -> None:
    installed = {"numpy": "1.23.5", "torch": "2.5.1+cpu"}
    found = problems([parse_requirement("numpy>=1.24"), parse_requirement("torch>=2.1"), parse_requirement("tabulate>=0.9")], installed.get)
    assert found == ["numpy 1.23.5 is installed; the grader needs numpy >= 1.24",
                     "tabulate is not installed (the grader needs tabulate >= 0.9)"]


def test_an_environment_without_torchvision_or_the_test_plugins_can_grade() -> None:
    installed = {requirement.name: requirement.specifiers[0][1] for requirement in declared()}
    assert problems(declared(), installed.get) == []
    assert problems(declared(("dev",)), installed.get) == ["pytest-xdist is not installed (the grader needs pytest-xdist >= 3.5)",
                                                          "ruff is not installed (the grader needs ruff >= 0.6)"]


def test_a_requirement_for_another_python_is_not_asked_for() -> None:
    assert problems([parse_requirement("tomli>=2.0; python_version < '3.0'")], lambda name: None) == []


# --- Gradescope's pins against the ranges ------------------------------------------------------------

@pytest.mark.parametrize("python", PYTHONS, ids=lambda version: "py{}.{}".format(*version))
def test_every_pin_is_declared_and_inside_its_range(python: tuple[int, int]) -> None:
    ranges = {requirement.name: requirement for requirement in every_declared() if requirement.applies(python)}
    pinned = [pin for pin in pins() if pin.applies(python)]
    assert pinned and all(pin.pinned_version for pin in pinned), "requirements.txt holds exact pins only"
    for pin in pinned:
        assert pin.name in ranges, f"{pin} is pinned but pyproject.toml does not declare {pin.name}"
        assert ranges[pin.name].allows(pin.pinned_version), f"{pin} is outside {ranges[pin.name].wanted}"
        # packaging, pip's own reading, agrees with ours
        assert PackagingRequirement(f"{pin.name}{','.join(op + v for op, v in ranges[pin.name].specifiers)}").specifier.contains(pin.pinned_version)


@pytest.mark.parametrize("python", PYTHONS, ids=lambda version: "py{}.{}".format(*version))
def test_every_declared_package_is_pinned_once_for_the_gradescope_image(python: tuple[int, int]) -> None:
    pinned = [pin.name for pin in pins() if pin.applies(python)]
    assert sorted(pinned) == sorted(set(pinned))
    assert {requirement.name for requirement in every_declared() if requirement.applies(python)} <= set(pinned)


@pytest.mark.parametrize("python", PYTHONS, ids=lambda version: "py{}.{}".format(*version))
def test_every_pin_installed_here_supports_each_python_it_is_pinned_for(python: tuple[int, int]) -> None:
    """A pin without a marker must install on Gradescope's Python 3.10 too (matplotlib 3.11 needs 3.11).

    Read offline from the installed copy's Requires-Python, so only pins installed here at their
    version are checked; scripts/check-environments installs every pin on each Python.
    """
    checked = []
    for pin in pins():
        installed = installed_version(pin.name)
        if pin.applies(python) and installed and version_tuple(installed) == version_tuple(pin.pinned_version):  # 2.14.1+cpu is 2.14.1
            requires = metadata.metadata(pin.name).get("Requires-Python") or ""
            assert SpecifierSet(requires).contains("{}.{}".format(*python)), f"{pin} needs Python {requires}: pin another version for this one"
            checked.append(pin.name)
    if python == tuple(sys.version_info[:2]):
        assert "torch" in checked and "numpy" in checked  # the pins of this Python are what is installed here


# --- scripts/ensure-env.sh, as run_grader.sh sources it -------------------------------------------------

def launcher_copy(folder: Path) -> Path:
    """run_grader.sh's view of the project: the scripts, pyproject.toml, requirements.txt and the checker's module."""
    for relative in ("scripts", "pyproject.toml", "requirements.txt", "grader/__init__.py", "grader/requirements.py"):
        source, target = ROOT / relative, folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return folder


def bare_python(folder: Path) -> Path:
    """A Python with none of the grader's requirements: a venv without packages (not even pip)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return folder / "bin" / "python"


def ensure_env(project: Path, python: Path | str, **variables: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("GRADER_TORCH_INDEX", "PYTHON")}
    environment.update(PYTHON=str(python), **variables)
    return subprocess.run(["bash", "-c", 'set -euo pipefail; source scripts/ensure-env.sh; echo "GRADING_PYTHON=$PYTHON"'],
                          cwd=project, env=environment, capture_output=True, text=True, timeout=300)


def test_a_complete_environment_is_used_as_it_is_silently(tmp_path: Path) -> None:
    done = ensure_env(launcher_copy(tmp_path), sys.executable)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"GRADING_PYTHON={sys.executable}" and done.stderr == ""
    assert not (tmp_path / ".venv").exists()


def test_a_complete_venv_is_used_and_the_reason_is_said(tmp_path: Path) -> None:
    project = launcher_copy(tmp_path / "project")
    venv_python = bare_python(project / ".venv")
    # The venv sees this Python's packages through a .pth file: complete, as a finished install is.
    site = next((project / ".venv" / "lib").glob("python3*/site-packages"))
    (site / "complete.pth").write_text("\n".join(path for path in sys.path if path.endswith("site-packages")) + "\n")
    (project / ".venv" / ".complete").touch()
    done = ensure_env(project, bare_python(tmp_path / "bare"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "GRADING_PYTHON=.venv/bin/python" and venv_python.exists()
    assert "numpy is not installed (the grader needs numpy >= 1.24)" in done.stderr
    assert "Using ./.venv instead" in done.stderr and "Installing" not in done.stderr


NO_GPU_LINUX = sys.platform == "linux" and subprocess.run("nvidia-smi -L", shell=True, capture_output=True).returncode != 0
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize(("variables", "index"), [
    ({}, CPU_INDEX if NO_GPU_LINUX else ""),
    ({"GRADER_TORCH_INDEX": ""}, ""),
    ({"GRADER_TORCH_INDEX": "https://example.invalid/torch"}, "https://example.invalid/torch"),
], ids=["default", "empty", "url"])
def test_torch_comes_from_the_cpu_index_unless_grader_torch_index_says_otherwise(variables: dict[str, str], index: str) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "GRADER_TORCH_INDEX"}
    done = subprocess.run(["bash", "-c", "source scripts/ensure-env.sh; torch_index"], cwd=ROOT, capture_output=True, text=True,
                          env={**environment, "PYTHON": sys.executable, **variables})
    assert done.returncode == 0 and done.stdout.strip() == index, done.stderr


def test_a_failed_install_says_what_it_installs_and_leaves_no_trusted_venv(tmp_path: Path) -> None:
    project = launcher_copy(tmp_path / "project")
    python = bare_python(tmp_path / "bare")
    # pip finds nothing, at once and offline: the install fails as a broken download would.
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "", "PIP_CONFIG_FILE": os.devnull, "GRADER_TORCH_INDEX": "https://example.invalid/torch"}
    done = ensure_env(project, python, **offline)
    assert done.returncode == 1
    assert "torch is not installed (the grader needs torch >= 2.1)" in done.stderr
    assert "Installing the grader's pinned requirements" in done.stderr and "torch==2.14.1" in done.stderr
    assert "torch's CPU-only wheels from https://example.invalid/torch" in done.stderr and "1.2 GB on disk" in done.stderr
    assert "Ignoring " in done.stderr, "pip's own output is shown (not --quiet)"
    assert "Installing into ./.venv failed" in done.stderr
    assert (project / ".venv" / "bin" / "python").exists() and not (project / ".venv" / ".complete").exists()
    again = ensure_env(project, python, **offline)
    assert "Using ./.venv instead" not in again.stderr and "Installing the grader's pinned requirements" in again.stderr


def test_the_checker_needs_only_the_standard_library() -> None:
    # -S: no site-packages at all, as in a Python where nothing is installed yet
    done = subprocess.run([sys.executable, "-I", "-S", "scripts/has_requirements.py"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1 and "numpy is not installed (the grader needs numpy >= 1.24)" in done.stderr, done.stderr
