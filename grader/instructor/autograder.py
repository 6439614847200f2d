"""``python -m grader build-autograder [-o autograder.zip] [--config PATH]``: the zip to upload to Gradescope.

Layout (Gradescope unpacks it into /autograder/source and runs setup.sh once, then
run_autograder per submission)::

    setup.sh              a venv from the system python3 (3.10 on Ubuntu 22.04) with the pinned
                          requirements (CPU-only torch), the configured dataset, then self_check.py
    run_autograder        grades /autograder/submission into /autograder/results/results.json
    self_check.py         grades the template in the new image: 0, or the image build fails
    gradescope-settings.txt  the settings to pick on Gradescope, printed by this command and setup.sh
    requirements.txt
    grader/               what grading imports, all suites (hidden ones too), the config
    submission_template/  the stubs (the self-check grades them) and the grader-provided files

No reference solution: the judge's oracle is torch. The build refuses a config
that the rubric refuses, and checks that nothing of ``reference/`` went in.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..config import ConfigError
from . import package, template
from .package import SETTINGS
from .rubric import RubricError, checked_rubric

ROOT_FILES = ("setup.sh", "run_autograder", "self_check.py", SETTINGS)


def entries(config_path: str | Path | None) -> list[package.Entry]:
    """Every file of the autograder zip."""
    config, _ = checked_rubric(config_path)
    files = [
        *(package.file_entry(name, name) for name in ROOT_FILES),
        package.project_entry("requirements.txt"),
        *package.grader_entries(config, package.suite_files(config, public_only=False)),
        *template.template_entries(""),
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
    print("Upload it under the assignment's Configure Autograder page.")
    print((package.FILES_DIR / SETTINGS).read_text().rstrip())
    return 0
