"""Shared helpers of the harness's own tests: build submissions, run the grader as students do."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference"
TEMPLATE = ROOT / "submission_template"


def leaderboard_on(path: Path) -> Path:
    """grader/config.toml with Gradescope's leaderboard turned on, written to ``path`` with the calibration beside it."""
    text = (ROOT / "grader/config.toml").read_text()
    on = text.replace("enabled = false", "enabled = true", 1)
    assert on != text, "grader/config.toml no longer says `enabled = false` for the leaderboard"
    path.write_text(on)
    shutil.copy(ROOT / "grader/calibration.json", path.with_name("calibration.json"))
    return path


@dataclass
class Graded:
    """One run of ``python -m grader``: exit code, results.json, console output."""

    returncode: int
    results: dict[str, Any]
    stdout: str
    results_path: Path

    @property
    def score(self) -> float:
        return float(self.results["score"])

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [test for test in self.results["tests"] if test["status"] == "failed"]

    @property
    def lost_tags(self) -> set[str]:
        return {tag for test in self.failed for tag in test["tags"]}

    def points_by_component(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for test in self.results["tests"]:
            for tag in test["tags"]:
                totals[tag] = totals.get(tag, 0.0) + test["score"]
        return totals


def overlay(destination: Path, files: dict[str, str | bytes], base: Path = REFERENCE) -> Path:
    """A copy of ``base`` (the reference by default) with ``files`` written over it."""
    shutil.copytree(base, destination, ignore=shutil.ignore_patterns("__pycache__"))
    for relative, content in files.items():
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
    return destination


def run_grader(submission: Path | str | None, results_path: Path, *extra: str, env: dict[str, str] | None = None, timeout: float = 600) -> Graded:
    command = [sys.executable, "-m", "grader", *([str(submission)] if submission is not None else []), "--results", str(results_path), "--quiet", *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    return Graded(done.returncode, results, done.stdout + done.stderr, results_path)


@pytest.fixture(scope="session")
def reference_graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The reference, graded once per session."""
    return run_grader(REFERENCE, tmp_path_factory.mktemp("reference") / "results.json")


# An endless loop that ignores Ctrl-C and SIGTERM, as a beginner's pooling loop with a wrong bound would be,
# after leaving a file "spinning" in the worker's working folder so that a test can tell it is running.
ENDLESS_LOOP = """
def _spin():
    import os, signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(os.path.join(os.getcwd(), "spinning"), "w").close()
    while True:
        pass
"""


def hanging_relu(destination: Path) -> Path:
    """The reference, but ``ReLU.forward`` never returns (signals ignored): Part 1's third component hangs."""
    source = (REFERENCE / "part1_scratch/relu.py").read_text()
    source = source.replace("        self._mask = x > 0\n", "        _spin()\n") + ENDLESS_LOOP
    return overlay(destination, {"part1_scratch/relu.py": source})


def once_per_session(tmp_path_factory: pytest.TempPathFactory, name: str, produce: Callable[[Path], None]) -> Path:
    """``produce(path)`` once per test session, also when pytest-xdist runs the tests in several workers."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session
    path = base / name
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            produce(path)
    return path
