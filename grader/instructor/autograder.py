"""``python -m grader build-autograder [-o autograder.zip] [--config PATH]``: the zip to upload to Gradescope.

Layout (Gradescope unpacks it into /autograder/source and runs setup.sh once, then
run_autograder per submission)::

    setup.sh              a venv from the system python3 (3.10 on Ubuntu 22.04) with the pinned
                          requirements (CPU-only torch), the configured dataset
    run_autograder        grades /autograder/submission into /autograder/results/results.json
    requirements.txt
    grader/               what grading imports, all suites (hidden ones too), the config
    submission_template/  the grader-provided files only (package __init__.py, helpers)

No reference solution: the judge's oracle is torch. The build refuses a config
that the rubric refuses, and checks that nothing of ``reference/`` went in.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..config import ConfigError
from . import package
from .rubric import RubricError, checked_rubric


def entries(config_path: str | Path | None) -> list[package.Entry]:
    """Every file of the autograder zip."""
    config, _ = checked_rubric(config_path)
    files = [
        package.file_entry("setup.sh", "setup.sh", package.EXECUTABLE),
        package.file_entry("run_autograder", "run_autograder", package.EXECUTABLE),
        package.project_entry("requirements.txt"),
        *package.grader_entries(config, package.suite_files(config, public_only=False)),
        *package.template_entries("", provided_only=True),
    ]
    leaks = package.reference_leaks(files)
    if leaks:
        raise package.PackageError("the autograder would carry the reference solution: " + ", ".join(leaks))
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader build-autograder", description="Write the Gradescope autograder zip.")
    parser.add_argument("-o", "--output", default="autograder.zip", help="where to write the zip (default: autograder.zip)")
    parser.add_argument("--config", default=None, help="grading policy to ship (default: $GRADER_CONFIG or grader/config.toml)")
    args = parser.parse_args(argv)
    try:
        path = package.write_zip(Path(args.output), entries(args.config))
    except (ConfigError, RubricError, package.PackageError) as error:
        print(f"build-autograder: {error}")
        return 1
    print(package.describe(path))
    print("Upload it under the assignment's Configure Autograder page (Ubuntu 22.04 base image); docs/instructor.md says more.")
    return 0
