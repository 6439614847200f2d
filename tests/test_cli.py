"""The grader end to end, as a student runs it: scores, messages, exit codes, defaults."""
from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from grader.report.results import SCHEMA
from grader.worker.runtime import assignment

from conftest import REFERENCE, ROOT, TEMPLATE, overlay, run_grader


def test_reference_gets_full_marks(reference_graded):
    assert reference_graded.returncode == 0
    assert reference_graded.score == 100
    assert reference_graded.failed == []


def test_reference_results_follow_gradescope_schema(reference_graded):
    jsonschema.validate(reference_graded.results, SCHEMA)
    test = reference_graded.results["tests"][0]
    assert {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"} <= set(test)


def test_every_test_is_tagged_with_a_component_and_every_component_has_tests(reference_graded):
    components = set(assignment.names())
    tags = [set(test["tags"]) for test in reference_graded.results["tests"]]
    assert all(test_tags & components for test_tags in tags)
    assert components <= set().union(*tags)


@pytest.fixture(scope="module")
def template_graded(tmp_path_factory):
    return run_grader(TEMPLATE, tmp_path_factory.mktemp("template") / "results.json")


def test_template_scores_zero(template_graded):
    assert template_graded.returncode == 0
    assert template_graded.score == 0


def test_template_failures_say_not_implemented(template_graded):
    messages = [test["output"] for test in template_graded.results["tests"] if test["visibility"] == "visible"]
    assert all("not implemented yet" in message for message in messages)
    assert not any("Traceback" in message for message in messages)


def test_template_is_the_default_submission(tmp_path):
    graded = run_grader(None, tmp_path / "results.json")
    assert graded.returncode == 0 and graded.score == 0
    assert "TOTAL: 0/100" in graded.stdout


def test_results_path_defaults_to_results_json(tmp_path):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "grader", str(TEMPLATE), "--quiet"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results.json").exists()


def test_zip_submission_is_graded_like_a_folder(tmp_path, reference_graded):
    import shutil
    archive = shutil.make_archive(str(tmp_path / "submission"), "zip", REFERENCE)
    graded = run_grader(archive, tmp_path / "results.json")
    assert graded.score == reference_graded.score


def test_syntax_error_costs_only_its_components(tmp_path, reference_graded):
    source = (REFERENCE / "part2_pytorch/train.py").read_text() + "\ndef broken(:\n"
    graded = run_grader(overlay(tmp_path / "sub", {"part2_pytorch/train.py": source}), tmp_path / "results.json")
    assert graded.returncode == 0
    assert graded.lost_tags & {"train_epoch", "validate"}
    assert all({"train_epoch", "validate"} & set(test["tags"]) for test in graded.failed)
    assert any("SyntaxError" in test["output"] and "line" in test["output"] for test in graded.failed)


def test_missing_file_costs_only_its_components(tmp_path):
    submission = overlay(tmp_path / "sub", {})
    (submission / "part1_scratch/relu.py").unlink()
    graded = run_grader(submission, tmp_path / "results.json")
    assert graded.returncode == 0
    assert {tag for test in graded.failed for tag in test["tags"] if tag != "accuracy"} >= {"relu"}
    assert all("relu" in test["tags"] for test in graded.failed)
    assert any("relu.py was not found" in test["output"] for test in graded.failed)


def test_harness_failure_writes_score_zero_results_and_exits_nonzero(tmp_path):
    bad_config = tmp_path / "config.toml"
    bad_config.write_text((ROOT / "grader/config.toml").read_text().replace("total_points = 100", "total_points = 90"))
    graded = run_grader(REFERENCE, tmp_path / "results.json", "--config", str(bad_config))
    assert graded.returncode != 0
    assert graded.results["score"] == 0
    assert "please tell the course staff" in graded.results["output"]
    assert "add up to 100" in graded.results["tests"][0]["output"] and graded.results["tests"][0]["visibility"] == "hidden"
    jsonschema.validate(graded.results, SCHEMA)


def test_a_typo_in_the_config_fails_the_grading_naming_the_key_and_the_fix(tmp_path):
    bad_config = tmp_path / "config.toml"
    bad_config.write_text((ROOT / "grader/config.toml").read_text().replace("default_timeout = ", "default_timout = ", 1))
    graded = run_grader(REFERENCE, tmp_path / "results.json", "--config", str(bad_config))
    assert graded.returncode == 2 and graded.results["score"] == 0
    said = graded.results["tests"][0]["output"]
    assert "unknown key `default_timout` in the top level; did you mean `default_timeout`?" in said
    assert "Traceback" not in said and graded.results["tests"][0]["visibility"] == "hidden"


def test_nonexistent_submission_is_a_harness_failure(tmp_path):
    graded = run_grader(tmp_path / "nope", tmp_path / "results.json")
    assert graded.returncode != 0
    assert graded.results["score"] == 0


@pytest.mark.parametrize("mistake", [
    ('student.run("layer.forward", f"{case.call}: forward", cache_key', 'student.run("layer.forwad", f"{case.call}: forward", cache_key'),
    ('"params": params or None, "x": x}', '"params": params or None, "input": x}'),
], ids=["unknown_scenario", "wrong_argument_name"])
def test_a_mistake_in_the_grader_fails_the_grading_and_never_the_student(tmp_path, mistake):
    """A broken grader copy: exit 2 and a score-0 result that says to tell the staff; no test blames the submission."""
    import shutil

    copy = tmp_path / "project"
    for part in ("grader", "submission_template"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    checks = copy / "grader/judge/layer_checks.py"
    assert mistake[0] in checks.read_text()
    checks.write_text(checks.read_text().replace(*mistake))
    done = subprocess.run([sys.executable, "-m", "grader", str(REFERENCE), "--results", str(tmp_path / "results.json"), "--quiet"],
                          cwd=copy, capture_output=True, text=True, timeout=600)
    results = json.loads((tmp_path / "results.json").read_text())
    assert done.returncode == 2, done.stdout[-2000:]
    assert results["score"] == 0 and results["output"].startswith("The autograder could not grade this submission; please tell the course staff.")
    assert [test["visibility"] for test in results["tests"]] == ["hidden"]
    assert "the grader failed (not the submission)" in results["tests"][0]["output"]
    assert "sys.exit" not in results["tests"][0]["output"] and "your code" not in results["tests"][0]["output"]
