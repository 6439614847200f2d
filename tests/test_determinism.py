"""The same submission gets the same score and the same messages, whatever the hash seed and thread counts."""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.corpus import CORPUS_DIR
from grader.worker.sandbox import THREAD_VARIABLES

from conftest import Graded, overlay, run_grader

# One bug in each of four files: failures in Part 1 and Part 2, with array, scalar and "likely cause" messages.
MUTANTS = ("conv_true_convolution", "sgd_dampening", "twolayer_relu", "validate_loss_not_weighted")
RUNS = [
    {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    {"PYTHONHASHSEED": "1", "OMP_NUM_THREADS": "2"},
    {"PYTHONHASHSEED": "4242", "OMP_NUM_THREADS": "4", "OPENBLAS_NUM_THREADS": "4", "MKL_NUM_THREADS": "4"},
    {"PYTHONHASHSEED": "random"},
    {"PYTHONHASHSEED": "987654", "OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": "1"},
]
TIMING = re.compile(r"\bin \d+(\.\d+)?s\b|\d+(\.\d+)? ?s(econds)?\b")


def environment(changes: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in THREAD_VARIABLES and name != "PYTHONHASHSEED"}
    return env | changes


def submission(destination: Path) -> Path:
    files = {}
    for name in MUTANTS:
        folder = CORPUS_DIR / "mutants" / name
        files.update({path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*.py")})
    return overlay(destination, files)


def fingerprint(graded: Graded) -> dict:
    """Everything a student sees, without timings."""
    tests = [{k: v for k, v in test.items()} for test in graded.results["tests"]]
    console = [TIMING.sub("<time>", line) for line in graded.stdout.splitlines()]
    return {"score": graded.results["score"], "output": graded.results["output"], "tests": tests, "console": console}


def grade_five_times(folder: Path) -> list[Graded]:
    graded_submission = submission(folder / "submission")

    def grade(index: int) -> Graded:
        return run_grader(graded_submission, folder / f"results-{index}.json", env=environment(RUNS[index]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(grade, range(len(RUNS))))


@pytest.mark.slow
def test_five_gradings_give_the_same_score_and_messages(tmp_path: Path):
    """One test, so that parallel test workers never grade the five times twice."""
    gradings = grade_five_times(tmp_path)
    first = gradings[0]
    assert first.returncode == 0, first.stdout[-2000:]
    assert len(first.failed) >= 5
    assert {"conv", "sgd", "twolayer", "validate"} <= first.lost_tags
    for run, other in zip(RUNS[1:], gradings[1:]):
        assert other.returncode == 0, run
        mine, theirs = fingerprint(other), fingerprint(first)
        assert mine["score"] == theirs["score"], run
        for test, reference in zip(mine["tests"], theirs["tests"], strict=True):
            assert test == reference, run
        assert mine["output"] == theirs["output"], run
        assert mine["console"] == theirs["console"], run
