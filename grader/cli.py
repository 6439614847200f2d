"""Command line: ``python -m grader [SUBMISSION] [--results PATH]``, plus instructor commands."""
from __future__ import annotations

import argparse
from pathlib import Path

from .grade import TEMPLATE_DIR, grade


def grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade a submission (a folder or a .zip).")
    parser.add_argument("submission", nargs="?", default=str(TEMPLATE_DIR), help="folder or .zip (default: submission_template)")
    parser.add_argument("--results", default="results.json", help="where to write Gradescope's results JSON (default: results.json)")
    parser.add_argument("--config", default=None, help="grading policy file (default: $GRADER_CONFIG or grader/config.toml)")
    parser.add_argument("--quiet", action="store_true", help="no per-test progress lines")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = grade_parser().parse_args(argv)
    return grade(Path(args.submission), Path(args.results), args.config, verbose=not args.quiet)
