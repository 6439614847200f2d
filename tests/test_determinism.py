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


@pytest.fixture(scope="module")
def gradings(tmp_path_factory: pytest.TempPathFactory) -> list[Graded]:
    folder = tmp_path_factory.mktemp("determinism")
    graded_submission = submission(folder / "submission")

    def grade(index: int) -> Graded:
        return run_grader(graded_submission, folder / f"results-{index}.json", env=environment(RUNS[index]))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(grade, range(len(RUNS))))


@pytest.mark.slow
def test_the_submission_loses_points_in_several_tests(gradings: list[Graded]):
    first = gradings[0]
    assert first.returncode == 0, first.stdout[-2000:]
    assert len(first.failed) >= 5
    assert {"conv", "sgd", "twolayer", "validate"} <= first.lost_tags


@pytest.mark.slow
@pytest.mark.parametrize("index", range(1, len(RUNS)), ids=[" ".join(f"{k}={v}" for k, v in run.items()) for run in RUNS[1:]])
def test_same_score_and_messages_as_the_first_run(gradings: list[Graded], index: int):
    assert gradings[index].returncode == 0
    first, other = fingerprint(gradings[0]), fingerprint(gradings[index])
    assert other["score"] == first["score"]
    for mine, theirs in zip(other["tests"], first["tests"], strict=True):
        assert mine == theirs
    assert other["output"] == first["output"]
    assert other["console"] == first["console"]
