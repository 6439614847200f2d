"""``python -m grader bench``: it runs, prints every section with ratios and phases, and keeps them in --json.

Nothing here asserts a time: timings depend on the machine and its load.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.bench import Grading, phases_of

from conftest import REFERENCE, ROOT, overlay

SLOW_CONV = '''

_Vectorised = Conv2D


class Conv2D(_Vectorised):
    """The reference, made slow: a benchmark must not spend minutes on it."""

    def forward(self, x):
        import time

        time.sleep(0.05)
        return super().forward(x)
'''


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=900)


def test_phases_add_up_to_the_wall_time():
    events = [(1.0, "session", ""), (3.0, "collected", ""), (3.0, "test", "test_a.py::test_x"), (3.5, "test", "test_a.py::test_y"),
              (4.5, "test", "test_b.py::test_z[1]"), (6.0, "summary", "")]
    grading = phases_of(events, began=0.5, ended=6.5, cpu=9.0, score=100.0)
    assert isinstance(grading, Grading)
    assert grading.phases == pytest.approx({"start-up": 0.5, "collection": 2.0, "test_a.py": 1.5, "test_b.py": 1.5, "finish": 0.5})
    assert sum(grading.phases.values()) == pytest.approx(grading.wall)
    assert grading.tests == pytest.approx({"test_a.py::test_x": 0.5, "test_a.py::test_y": 1.0, "test_b.py::test_z[1]": 1.5})


def test_layers_of_a_submission_against_torch(tmp_path):
    slow = overlay(tmp_path / "slow", {"part1_scratch/conv.py": (REFERENCE / "part1_scratch" / "conv.py").read_text() + SLOW_CONV})
    done = bench(str(slow), "--skip", "imports,workers,grading", "--min-seconds", "0.01", "--max-call-seconds", "1", "--json", str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    print(done.stdout)
    record = json.loads((tmp_path / "b.json").read_text())
    conv = [row for row in record["layers"] if row["component"] == "conv"]
    maxpool = [row for row in record["layers"] if row["component"] == "maxpool"]
    assert len(conv) == len(maxpool) == 6  # three shapes, two dtypes
    assert all(row["matches_torch"] and row["ratio"] > 0 for row in maxpool)
    assert conv[0]["matches_torch"] and conv[0]["ratio"] > 0
    assert any(row["note"].startswith("skipped") for row in conv)  # 0.05 s a call: the large shapes are not attempted
    assert "skipped: about" in done.stdout and "target <= 1.5x" in done.stdout


@pytest.mark.slow
def test_full_run_prints_every_section(tmp_path):
    done = bench("--runs", "1", "--min-seconds", "0.05", "--json", str(tmp_path / "b.json"))
    assert done.returncode == 0, done.stderr
    print(done.stdout)
    for heading in ("1. Layers against torch", "2. Import costs", "3. Worker start-up", "4. Grading reference", "total, wall", "slowest tests"):
        assert heading in done.stdout
    record = json.loads((tmp_path / "b.json").read_text())
    assert {row["shape"].split(" (")[0] for row in record["layers"]} >= {"VanillaCNN layer", "scratch CNN, digits"}
    assert all(row["matches_torch"] for row in record["layers"])  # the reference agrees with torch on every shape
    assert record["gradings"][0]["score"] == 100
    assert set(record["workers"]) == {"part1", "part2"}
    phases = record["gradings"][0]["phases"]
    assert {"start-up", "collection", "test_conv.py", "test_end_to_end.py", "finish"} <= set(phases)
