"""``python -m grader batch``: one results JSON per submission and a CSV summary, gradings side by side."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.batch import SUMMARY_FIELDS, plan

from conftest import REFERENCE, ROOT, TEMPLATE, overlay

RELU_BACKWARD_PASSES_DOUT = '''
import numpy as np


class ReLU:
    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout
'''


def test_jobs_are_named_after_their_folders_and_zips_without_collisions(tmp_path):
    names = [job.name for job in plan([tmp_path / "a" / "alice", tmp_path / "b" / "alice", tmp_path / "bob.zip", tmp_path / "c d"])]
    assert names == ["alice", "alice-2", "bob", "c_d"]


def test_missing_submission_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "batch", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2
    assert "not found" in done.stderr


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Three submissions graded two at a time: the reference, one with a wrong ReLU backward, the empty template."""
    base = tmp_path_factory.mktemp("batch")
    buggy = overlay(base / "buggy", {"part1_scratch/relu.py": RELU_BACKWARD_PASSES_DOUT})
    out = base / "out"
    command = [sys.executable, "-m", "grader", "batch", str(REFERENCE), str(buggy), str(TEMPLATE), "--jobs", "2", "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return done, out, rows


@pytest.mark.slow
def test_batch_completes_with_exit_code_zero(batch):
    done, _, _ = batch
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 gradings in" in done.stdout


@pytest.mark.slow
def test_summary_has_one_row_per_submission_in_the_order_given(batch):
    _, out, rows = batch
    with open(out / "summary.csv", newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == list(SUMMARY_FIELDS)
    assert [Path(row["submission"]).name for row in rows] == ["reference", "buggy", "submission_template"]
    assert all(float(row["seconds"]) > 0 and row["exit_code"] == "0" and row["max_score"] == "100" for row in rows)


@pytest.mark.slow
def test_scores_and_failed_tests_match_each_results_json(batch):
    _, out, rows = batch
    reference, buggy, template = rows
    assert (reference["score"], reference["failed_tests"]) == ("100", "")
    assert 0 < float(buggy["score"]) < 100
    assert buggy["failed_tests"] and all("relu" in name or "scratch" in name for name in buggy["failed_tests"].split("; "))
    assert template["score"] == "0"
    for name, row in zip(["reference", "buggy", "submission_template"], rows):
        document = json.loads((out / f"{name}.json").read_text())
        assert f"{document['score']:g}" == row["score"]
        failed = [test["name"] for test in document["tests"] if test["status"] == "failed"]
        assert "; ".join(failed) == row["failed_tests"]
        assert "TOTAL:" in (out / f"{name}.log").read_text()


@pytest.mark.slow
def test_each_submission_has_its_report_and_the_overview_links_them(batch):
    _, out, _ = batch
    overview = (out / "overview.html").read_text()
    for name in ("reference", "buggy", "submission_template"):
        assert (out / f"{name}.html").read_text().startswith("<!DOCTYPE html>")
        assert f'<a href="{name}.html">{name}</a>' in overview
    assert "<td>relu</td><td>67%</td>" in overview  # the buggy ReLU and the template lose points in relu; the reference does not
