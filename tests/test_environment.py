"""The first line of every grading: which Python grades, with which NumPy and torch, and the warning where Gradescope differs."""
from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

from grader.environment import PROJECT_VENV, banner

from conftest import ROOT, Graded

PINS = "numpy==2.4.6\ntorch==2.14.1\n"


def fake_versions(numpy: str | None, torch: str | None):  # -> Callable[[str], str | None]
    return {"numpy": numpy, "torch": torch}.get


def test_the_first_line_names_the_python_its_versions_and_the_active_environment(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(PINS)
    lines = banner(fake_versions("2.4.1", "2.5.1+cpu"), prefix=tmp_path, pins_file=tmp_path / "requirements.txt")
    python = ".".join(map(str, sys.version_info[:3]))
    assert lines == [f"Grading with {sys.executable}: Python {python}, NumPy 2.4.1, torch 2.5.1+cpu (the active environment, not ./.venv)"]


def test_the_project_venv_is_named_as_such(tmp_path: Path) -> None:
    lines = banner(fake_versions("2.4.6", "2.14.1"), prefix=PROJECT_VENV, pins_file=tmp_path / "absent.txt")
    assert lines[0].endswith("(./.venv, built by run_grader.sh from requirements.txt)") and len(lines) == 1


def test_another_numpy_major_than_gradescope_gets_a_warning_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(PINS)
    lines = banner(fake_versions("1.26.4", "2.1.2"), prefix=tmp_path, pins_file=tmp_path / "requirements.txt")
    assert lines[1:] == ["Warning: NumPy 1.26.4 here, NumPy 2.4.6 on Gradescope: another major version, "
                         "so a test can pass here and fail there (Gradescope's verdict counts)."]


def test_a_missing_package_is_said_not_crashed_on(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(PINS)
    lines = banner(fake_versions("2.4.6", None), prefix=tmp_path, pins_file=tmp_path / "requirements.txt")
    assert "NumPy 2.4.6, torch not installed (" in lines[0] and len(lines) == 1


def test_every_grading_starts_with_the_banner(reference_graded: Graded) -> None:
    first = reference_graded.stdout.splitlines()[0]
    assert first.startswith(f"Grading with {sys.executable}: Python {sys.version.split()[0]}, ")
    assert f"NumPy {metadata.version('numpy')}, torch {metadata.version('torch')} (" in first


def test_the_banner_does_not_import_torch() -> None:
    code = "import sys; from grader.environment import banner; banner(); print('torch' in sys.modules, 'numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
