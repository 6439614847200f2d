"""submission_template/ is generated from reference/: solution blocks become stubs, provided files are copied."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from grader.instructor.package import PackageError
from grader.instructor.template import MarkerError, stale_files, student_version, template_entries, template_files, write
from grader.worker.runtime.assignment import graded_files

from conftest import REFERENCE, ROOT, TEMPLATE

SOLVED = '''"""A layer."""

import numpy as np

# BEGIN SOLUTION
_HALF = 0.5
# END SOLUTION


class Half:
    def __init__(self):
        """Provided."""
        self.calls = 0
        # BEGIN SOLUTION
        self._cache = None
        # END SOLUTION

    def forward(self, x):
        """Halves x."""
        # BEGIN SOLUTION half
        return x * _HALF
        # END SOLUTION

    def reset(self):
        self.calls = 0
        # BEGIN SOLUTION half: forget what forward kept
        self._cache = None
        # END SOLUTION
'''

STUDENT = '''"""A layer."""

import numpy as np


class Half:
    def __init__(self):
        """Provided."""
        self.calls = 0

    def forward(self, x):
        """Halves x."""
        # TODO: Task half.
        raise NotImplementedError("Task half: implement Half.forward")

    def reset(self):
        self.calls = 0
        # TODO: Task half: forget what forward kept.
'''


def test_the_committed_template_is_the_generated_one():
    assert stale_files() == [], "run python -m grader build-template"


def test_blocks_become_stubs_and_helpers_disappear():
    assert student_version(SOLVED, "half.py") == STUDENT


def test_provided_files_are_copied_and_graded_files_stubbed():
    files = template_files()
    for relative, text in files.items():
        if relative in graded_files():
            assert "BEGIN SOLUTION" not in text and "NotImplementedError" in text, relative
        else:
            assert text == (REFERENCE / relative).read_text(), relative
    assert set(graded_files()) < set(files)


@pytest.mark.parametrize(("source", "error"), [
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "x.py:2: # BEGIN SOLUTION inside the block begun on line 1"),
    ("x = 1\n# END SOLUTION\n", "x.py:2: # END SOLUTION without a # BEGIN SOLUTION"),
    ("# BEGIN SOLUTION\nx = 1\n", "x.py:1: # BEGIN SOLUTION is never ended"),
    ("# BEGIN SOLUTION half\nx = 1\n# END SOLUTION\n", "x.py:1: # BEGIN SOLUTION half is outside any function"),
])
def test_unbalanced_or_misplaced_markers_are_refused_with_file_and_line(source, error):
    with pytest.raises(MarkerError, match=error):
        student_version(source, "x.py")


@pytest.mark.parametrize(("relative", "edit", "error"), [
    ("part1_scratch/relu.py", lambda text: text.replace("# BEGIN SOLUTION", "# BEGIN").replace("# END SOLUTION", "# END"),
     "part1_scratch/relu.py: no # BEGIN SOLUTION block for task relu; the file would ship without its stub"),
    ("part2_pytorch/train.py", lambda text: text.replace("# BEGIN SOLUTION validate", "# BEGIN SOLUTION"),
     "part2_pytorch/train.py: no # BEGIN SOLUTION block for task validate"),
    ("part2_pytorch/train.py", lambda text: text.replace("# BEGIN SOLUTION validate", "# BEGIN SOLUTION validation"),
     r"part2_pytorch/train.py: # BEGIN SOLUTION names task validation, not a component of this file \(train_epoch, validate\)"),
    ("part1_scratch/network.py", lambda text: text + "# BEGIN SOLUTION\n# END SOLUTION\n",
     "part1_scratch/network.py: a provided file has a # BEGIN SOLUTION block"),
])
def test_blocks_must_match_the_files_tasks(tmp_path, relative, edit, error):
    reference = shutil.copytree(REFERENCE, tmp_path / "reference")
    (reference / relative).write_text(edit((reference / relative).read_text()))
    with pytest.raises(MarkerError, match=error):
        template_files(reference)


def test_write_repairs_a_stale_template(tmp_path):
    copy = shutil.copytree(TEMPLATE, tmp_path / "submission_template", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "part1_scratch/relu.py").write_text("edited\n")
    (copy / "part1_scratch/network.py").unlink()
    (copy / "part1_scratch/extra.py").write_text("")
    assert stale_files(copy) == ["part1_scratch/network.py", "part1_scratch/relu.py", "part1_scratch/extra.py"]
    assert write(copy) == ["part1_scratch/network.py", "part1_scratch/relu.py", "part1_scratch/extra.py"]
    assert stale_files(copy) == []


def test_the_zips_refuse_a_stale_template(tmp_path):
    copy = shutil.copytree(TEMPLATE, tmp_path / "submission_template", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "part2_pytorch/train.py").write_text("edited\n")
    with pytest.raises(PackageError, match=r"out of date with reference/ \(part2_pytorch/train.py\); run python -m grader build-template"):
        template_entries("", copy)


def test_check_command_passes_on_the_committed_template():
    done = subprocess.run([sys.executable, "-m", "grader", "build-template", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "submission_template/ is up to date\n")
