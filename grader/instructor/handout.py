"""``python -m grader build-handout [-o handout.zip] [--config PATH] [--folder NAME]``: what students get.

Layout (everything under one folder, ``assignment3/`` by default)::

    README.md             how to run the grader, read its report, upload
    run_grader.sh, scripts/, requirements.txt, pyproject.toml (the supported ranges)
    submission_template/  the files students edit, with the provided helpers
    grader/               what grading imports, the public suites only, the config

Suite files whose tests are not all ``visible`` are left out, not skipped: the
config still names their tests, so a local run reports the public points and
says how many points the hidden tests, run on Gradescope only, are worth.
"""
from __future__ import annotations

import argparse
import string
from pathlib import Path

from tabulate import tabulate

from ..config import ConfigError, GraderConfig
from ..grade import SUITES_DIR
from ..judge.plugin import TestMeta
from . import package, template
from .rubric import RubricError, checked_rubric
from .solutions import shipped_solutions

LAUNCHER = ("run_grader.sh", "scripts/ensure-env.sh", "scripts/has_requirements.py", "requirements.txt", "pyproject.toml")


def student_readme(config: GraderConfig, tests: list[TestMeta]) -> str:
    """The README template with this config's points and time limits filled in."""
    public = sum(t.points for t in tests if t.visibility == "visible")
    hidden = sum(t.points for t in tests if t.visibility != "visible")
    rows = []
    for index, part in enumerate(config.parts, start=1):
        in_part = [t for t in tests if t.part == index]
        rows.append([part.name, f"{sum(t.points for t in in_part if t.visibility == 'visible'):g}", f"{sum(t.points for t in in_part if t.visibility != 'visible'):g}"])
    rows.append(["Total", f"{public:g}", f"{hidden:g}"])
    if hidden:
        note = (f"The public tests here are worth {public:g} of the {config.total_points:g} points. The other {hidden:g} "
                "come from tests that run only on Gradescope (they are not in this folder); their results show there "
                "when the course staff release them. They check the same contract on other inputs: a solution that follows the "
                "contract, not one fitted to the public tests, passes them.")
    else:
        note = "Every test is public: the grader here gives the points Gradescope gives."
    timeouts = sorted({t.timeout for t in tests})
    return string.Template((package.FILES_DIR / "README.student.md").read_text()).substitute(
        public_points=f"{public:g}",
        hidden_total=f"  (+{hidden:g} points of hidden tests, graded on Gradescope only)" if hidden else "",
        default_timeout=f"{min(timeouts):g}",
        longest_timeout=f"{max(timeouts):g}",
        points_table=tabulate(rows, headers=["", "public tests (run here)", "hidden tests (Gradescope only)"], tablefmt="github", disable_numparse=True),
        hidden_note=note,
    )


def entries(config_path: str | Path | None, folder: str = "assignment3") -> list[package.Entry]:
    """Every file of the handout zip, under ``folder/``."""
    config, tests = checked_rubric(config_path)
    prefix = f"{folder.strip('/')}/" if folder else ""
    public = package.suite_files(config, public_only=True)
    files = [
        package.file_entry("README.student.md", prefix + "README.md", text=student_readme(config, tests)),
        *(package.project_entry(relative, prefix) for relative in LAUNCHER),
        *package.grader_entries(config, public, prefix),
        *template.template_entries(prefix),
    ]
    leaks = package.reference_leaks(files) + shipped_solutions(files)
    if leaks:
        raise package.PackageError("the handout would carry the reference solution: " + ", ".join(leaks))
    hidden = [path.name for path in SUITES_DIR.glob("test_*.py") if path not in public]
    shipped = {Path(entry.name).name for entry in files}
    if shipped & set(hidden):
        raise package.PackageError(f"the handout would carry hidden suites: {sorted(shipped & set(hidden))}")
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader build-handout", description="Write the student handout zip (public tests only).")
    parser.add_argument("-o", "--output", default="handout.zip", help="where to write the zip (default: handout.zip)")
    parser.add_argument("--config", default=None, help="grading policy to ship (default: $GRADER_CONFIG or grader/config.toml)")
    parser.add_argument("--folder", default="assignment3", help="the folder the zip unpacks into (default: assignment3; '' for none)")
    args = parser.parse_args(argv)
    try:
        path = package.write_zip(Path(args.output), entries(args.config, args.folder))
    except (ConfigError, RubricError, package.PackageError) as error:
        print(f"build-handout: {error}")
        return 1
    print(package.describe(path))
    return 0
