"""``python -m grader batch SUBMISSION... [--jobs K] [--out DIR]``: grade many submissions side by side.

For instructors regrading or calibrating locally; Gradescope itself is what
grades a class in parallel. Each submission is graded by its own
``python -m grader`` process, exactly as a student's run is, K at a time. Every
grading runs single-threaded (``OMP_NUM_THREADS=1`` and friends: NumPy's BLAS
and torch, whose thread count follows ``OMP_NUM_THREADS``, in the judge and in
its workers), so K jobs keep about K cores busy: N submissions cost about
N x one grading / K. Gradings started as root each claim their own worker user,
so running them side by side is safe.

Writes, in ``--out``: ``NAME.json`` (Gradescope's results), ``NAME.html`` (the
student's report), ``NAME.log`` (the console report), ``summary.csv``
(submission, score, max_score, seconds, status, exit_code, failed_tests), one
row per submission in the order given, and ``overview.html`` (the class at a
glance). A grading that runs out of ``--timeout`` keeps the tests that
finished: its status is ``timeout`` and its score is what those tests earned.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .grade import BUDGET_EXIT_CODE
from .report import overview

SINGLE_THREADED = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}
SUMMARY_FIELDS = ("submission", "score", "max_score", "seconds", "status", "exit_code", "failed_tests")
GRACE_SECONDS = 30  # past the time limit (the grader's own budget), before the grading is interrupted, then killed


@dataclass(frozen=True)
class Job:
    submission: Path
    name: str  # file stem for its outputs, unique in the batch


@dataclass(frozen=True)
class Row:
    """One line of summary.csv."""

    submission: str
    score: float | None
    max_score: float | None
    seconds: float
    exit_code: int
    failed_tests: str

    @property
    def status(self) -> str:
        if self.exit_code == BUDGET_EXIT_CODE:
            return "timeout"
        return "graded" if self.exit_code == 0 and self.score is not None else "error"

    def values(self) -> list[Any]:
        return [self.submission, "" if self.score is None else f"{self.score:g}", "" if self.max_score is None else f"{self.max_score:g}",
                f"{self.seconds:.2f}", self.status, self.exit_code, self.failed_tests]


def plan(submissions: list[Path]) -> list[Job]:
    """One job per submission, named after its folder or .zip, with a suffix when two names collide."""
    jobs, taken = [], {"overview"}  # overview.html is the batch's own
    for submission in submissions:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", submission.stem if submission.suffix == ".zip" else submission.name) or "submission"
        name, count = stem, 1
        while name in taken:
            count += 1
            name = f"{stem}-{count}"
        taken.add(name)
        jobs.append(Job(submission, name))
    return jobs


def grade_one(job: Job, out: Path, config: str | None, timeout: float) -> Row:
    """Run ``python -m grader`` on one submission with ``timeout`` as its budget; one that overstays is interrupted, then killed."""
    results = out / f"{job.name}.json"
    results.unlink(missing_ok=True)
    command = [sys.executable, "-m", "grader", str(job.submission), "--results", str(results), "--report", str(out / f"{job.name}.html"), "--quiet",
               "--budget", f"{timeout:g}",
               *(["--config", config] if config else [])]
    began = time.monotonic()
    with open(out / f"{job.name}.log", "wb") as log:
        process = subprocess.Popen(command, cwd=Path(__file__).parent.parent, env={**os.environ, **SINGLE_THREADED}, stdout=log, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=timeout + GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)  # the grader stops its workers on the way out
            try:
                process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.write(f"\n[batch] stopped {GRACE_SECONDS} s after the time limit of {timeout:g} s\n".encode())
            code = BUDGET_EXIT_CODE
    seconds = time.monotonic() - began
    document = read_results(results)
    if document is None:
        return Row(str(job.submission), None, None, seconds, code, "no results: see " + str(out / f"{job.name}.log"))
    tests = document.get("tests", [])
    failed = [test.get("name", "?") for test in tests if test.get("status") == "failed"]
    max_score = round(sum(test.get("max_score", 0) for test in tests), 4)
    return Row(str(job.submission), float(document["score"]), max_score, seconds, code, "; ".join(failed))


def read_results(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_summary(path: Path, rows: list[Row]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(SUMMARY_FIELDS)
        writer.writerows(row.values() for row in rows)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grader batch", description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("submissions", nargs="+", type=Path, help="folders or .zip files, one submission each")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="gradings at once (default: one per CPU)")
    p.add_argument("--out", type=Path, default=Path("batch-results"), help="folder for the results (default: batch-results)")
    p.add_argument("--config", default=None, help="grading policy file (default: $GRADER_CONFIG or grader/config.toml)")
    p.add_argument("--timeout", type=float, default=600, help="seconds one grading may take (default 600, Gradescope's default)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.jobs < 1:
        parser().error("--jobs must be at least 1")
    missing = [str(path) for path in args.submissions if not path.exists()]
    if missing:
        parser().error(f"not found: {', '.join(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = plan([path.resolve() for path in args.submissions])
    print(f"grading {len(jobs)} submissions, {args.jobs} at a time, into {args.out}", flush=True)
    rows: dict[str, Row] = {}
    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(grade_one, job, args.out, args.config, args.timeout): job for job in jobs}
        for future in as_completed(futures):
            job, row = futures[future], future.result()
            rows[job.name] = row
            score = "no score" if row.score is None else f"{row.score:g}/{row.max_score:g}" + (" (timeout)" if row.status == "timeout" else "")
            failed = f", failed: {row.failed_tests}" if row.failed_tests else ""
            print(f"[{len(rows)}/{len(jobs)}] {job.name}: {score} in {row.seconds:.1f} s{failed}"[:300], flush=True)
    wall = time.monotonic() - began
    ordered = [rows[job.name] for job in jobs]
    write_summary(args.out / "summary.csv", ordered)
    overview.write(args.out / "overview.html", [(job.name, f"{job.name}.html", read_results(args.out / f"{job.name}.json")) for job in jobs])
    mean = sum(row.seconds for row in ordered) / len(ordered)
    print(f"{len(jobs)} gradings in {wall:.1f} s wall with --jobs {args.jobs}: {wall / len(jobs):.2f} s per submission "
          f"(each grading took {mean:.1f} s on average, side by side); summary: {args.out / 'summary.csv'}; overview: {args.out / 'overview.html'}")
    return 0 if all(row.exit_code == 0 for row in ordered) else 1
