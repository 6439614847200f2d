"""Command line: ``python -m grader [SUBMISSION] [--results PATH]``, plus the instructor commands.

Each command lives in its own module with a ``main(argv) -> int``; this file
only dispatches, so ``python -m grader`` stays fast for students.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .environment import banner
from .grade import TEMPLATE_DIR, grade

COMMANDS = {
    "rubric": ("grader.instructor.rubric", "print every test with its points, visibility and time limit"),
    "build-autograder": ("grader.instructor.autograder", "write the Gradescope autograder zip"),
    "build-handout": ("grader.instructor.handout", "write the student handout zip (public tests only)"),
    "build-template": ("grader.instructor.template", "generate submission_template/ from reference/ (solution blocks become stubs)"),
    "calibrate": ("grader.instructor.calibrate", "train the reference over N seeds, print accuracies and suggested thresholds"),
    "corpus": ("grader.corpus", "grade the harness's corpus of correct and buggy submissions, print the matrix"),
    "batch": ("grader.batch", "grade many submissions in parallel, one results JSON each and a CSV summary"),
    "bench": ("grader.bench", "time reference layers against torch and the grading phases"),
}


def grade_parser() -> argparse.ArgumentParser:
    epilog = "instructor commands:\n" + "\n".join(f"  {name:<17} {help_}" for name, (_, help_) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="python -m grader", description="Grade a submission (a folder or a .zip).", epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submission", nargs="?", default=str(TEMPLATE_DIR), help="folder or .zip (default: submission_template)")
    parser.add_argument("--results", default="results.json", help="where to write Gradescope's results JSON (default: results.json)")
    parser.add_argument("--config", default=None, help="grading policy file (default: $GRADER_CONFIG or grader/config.toml)")
    parser.add_argument("--report", default=None, help="where to write the HTML report (default: report.html beside the results)")
    parser.add_argument("--no-report", action="store_true", help="write no HTML report")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--progress-per-test", action="store_true", help="pytest's own line per test instead of the progress bar (bench times these)")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="wall time of the whole grading (default: grading_budget_seconds of the config)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        name = COMMANDS[argv[0]][0]
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if not name.startswith(str(error.name)):
                raise
            # The student handout ships the grading commands only.
            print(f"'{argv[0]}' is an instructor command; it is not part of this copy of the grader.", file=sys.stderr)
            return 2
        return int(module.main(argv[1:]))
    args = grade_parser().parse_args(argv)
    print(*banner(), sep="\n", flush=True)
    results = Path(args.results)
    report = None if args.no_report else Path(args.report) if args.report else results.with_name("report.html")
    progress = "none" if args.quiet else "tests" if args.progress_per_test else "components"
    return grade(Path(args.submission), results, args.config, progress=progress, report_path=report, budget=args.budget)
