"""A folder laid out like Gradescope's /autograder, and the submissions students upload into it."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from grader.instructor.package import unpack
from grader.worker.runtime.assignment import graded_files

from conftest import REFERENCE

LAYOUTS = ("template", "flat", "zip")  # the ways a student may upload (README, "For students")
METADATA = {
    "id": 123456, "created_at": "2026-11-26T09:00:00.000000-08:00", "submission_method": "upload",
    "assignment": {"id": 25828, "title": "Assignment 3", "total_points": "100.0", "group_submission": False,
                   "due_date": "2026-12-01T23:59:00.000000-08:00", "late_due_date": None, "release_date": "2026-11-20T00:00:00.000000-08:00"},
    "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
    "previous_submissions": [],
}


def gradescope_root(folder: Path, autograder_zip: Path) -> Path:
    """``folder/autograder`` as Gradescope lays /autograder before run_autograder starts (setup.sh not run)."""
    root = folder / "autograder"
    unpack(autograder_zip, root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    (root / "submission_metadata.json").write_text(json.dumps(METADATA))
    return root


def put_submission(root: Path, layout: str, source: Path = REFERENCE) -> None:
    """The graded files of ``source`` in ``root/submission``, uploaded in ``layout`` (one of ``LAYOUTS``)."""
    submission = root / "submission"
    if layout == "template":
        for graded in graded_files():
            (submission / graded).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / graded, submission / graded)
    elif layout == "flat":
        for graded in graded_files():
            shutil.copyfile(source / graded, submission / Path(graded).name)
    elif layout == "zip":
        with zipfile.ZipFile(submission / "handin.zip", "w") as archive:
            for graded in graded_files():
                archive.write(source / graded, f"handin/{graded}")
    else:
        raise ValueError(f"unknown layout {layout!r}; one of {LAYOUTS}")
