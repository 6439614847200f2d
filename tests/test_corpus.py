"""The corpus: every correct style gets full marks, every single-bug mutant loses points in its own component only.

One run of ``python -m grader corpus`` grades every case (two at a time); the
per-case tests read its JSON. The structural tests need no grading.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import corpus
from grader.corpus import COMPONENT_NAMES, COMPONENTS, Case, CorpusError, Grading

from conftest import ROOT, once_per_session

CASES = corpus.load_corpus()
CORRECT = [case for case in CASES if case.kind == "correct"]
MUTANTS = [case for case in CASES if case.kind == "mutant"]
JOBS = max(1, min(4, os.cpu_count() or 1))


# --- the corpus itself ---------------------------------------------------------------------------

def test_corpus_is_large_enough():
    assert len(CORRECT) >= 10
    assert len(MUTANTS) >= 40


def test_every_component_has_mutants():
    covered = {component for case in MUTANTS for component in case.components}
    assert covered == set(COMPONENTS)


@pytest.mark.parametrize("case", [case for case in MUTANTS if case.base != "reference"], ids=repr)
def test_mutant_is_its_base_with_one_small_change(case: Case):
    assert 0 < case.changed_lines() <= corpus.MAX_CHANGED_LINES


def test_every_mutant_names_its_cause():
    assert [case.name for case in MUTANTS if not case.cause] == []


@pytest.mark.parametrize("case", [case for case in MUTANTS if case.tests], ids=repr)
def test_listed_tests_exist(case: Case):
    for name in case.tests:
        suite, function = name.split(": ")
        source = (ROOT / "grader" / "judge" / "suites" / f"test_{suite}.py").read_text()
        assert f"def test_{function.replace(' ', '_')}(" in source, name


def test_a_case_with_a_stray_file_is_rejected(tmp_path: Path):
    folder = tmp_path / "mutants" / "stray"
    (folder / "part1_scratch").mkdir(parents=True)
    (folder / "part1_scratch" / "conv.py").write_text("")
    (folder / "conftest.py").write_text("")
    (folder / "case.toml").write_text('description = "x"\ncomponent = "conv"\n')
    with pytest.raises(CorpusError, match="conftest.py"):
        corpus.load_corpus(tmp_path)


def test_a_mutant_must_name_a_component_of_its_files(tmp_path: Path):
    folder = tmp_path / "mutants" / "wrong_component"
    (folder / "part1_scratch").mkdir(parents=True)
    (folder / "part1_scratch" / "relu.py").write_text("")
    (folder / "case.toml").write_text('description = "x"\ncomponent = "conv"\n')
    with pytest.raises(CorpusError, match="component"):
        corpus.load_corpus(tmp_path)


# --- the verdict, without grading ----------------------------------------------------------------

def fake(case: Case, score: float, failed: list[tuple[str, list[str], str]], visibility: str = "visible") -> Grading:
    tests = [{"name": name, "tags": tags, "output": output, "visibility": visibility} for name, tags, output in failed]
    return Grading(case, score=score, max_score=100.0, failed=tests)


MESSAGE = "Conv2D(...): forward\n  forward output differs from torch\n  Hint: cross-correlation"


def test_a_correct_case_that_loses_points_is_wrong():
    assert fake(CORRECT[0], 100.0, []).problems() == []
    assert fake(CORRECT[0], 99.5, [("conv: forward", ["conv"], MESSAGE)]).problems()


def test_a_mutant_is_wrong_when_uncaught_or_when_it_costs_another_component():
    conv = next(case for case in MUTANTS if case.components == ("conv",) and not case.tests)
    assert fake(conv, 100.0, []).problems() == ["not caught: full marks"]
    assert fake(conv, 95.0, [("conv: forward", ["conv"], MESSAGE)]).problems() == []
    assert fake(conv, 95.0, [("conv: forward", ["conv"], MESSAGE), ("relu: dx", ["relu"], "ReLU")]).problems()
    assert fake(conv, 95.0, [("scratch", ["conv", "relu", "accuracy"], "Conv2D -> ReLU\n  Hint: x")]).problems() == []


def test_a_mutant_that_lists_its_tests_must_fail_no_other():
    listed = Case("m", "mutant", "x", ROOT, ("part2_pytorch/train.py",), ("train_epoch",), tests=("train_epoch: uses training mode",), cause="model.train()")
    mode = ("train_epoch: uses training mode", ["train_epoch"], "train_epoch(...)\n  forward saw False\n  Hint: call model.train()")
    assert fake(listed, 98.0, [mode]).problems() == []
    assert fake(listed, 98.0, [mode]).names_cause
    other = fake(listed, 95.0, [mode, ("train_epoch: returns accuracy", ["train_epoch"], "train_epoch(...)\n  accuracy\n  Hint: x")])
    assert other.problems() == ["failed a test of another property: train_epoch: returns accuracy"]


def test_a_cause_only_quoted_from_the_students_code_is_not_named():
    case = Case("m", "mutant", "x", ROOT, ("part2_pytorch/train.py",), ("validate",), cause="backward")
    quoted = "validate(...)\n  raised RuntimeError: no grad_fn\n  in your code:\n    train.py, line 77, in validate: loss.backward()"
    assert not fake(case, 98.0, [("validate: uses eval mode", ["validate"], quoted)]).names_cause
    assert fake(case, 98.0, [("validate: uses eval mode", ["validate"], quoted + "\n  Hint: do not call backward()")]).names_cause


def test_parametrized_cases_count_as_one_test_function():
    conv = next(case for case in MUTANTS if case.components == ("conv",) and not case.tests)
    grading = fake(conv, 95.0, [("conv: forward [a]", ["conv"], MESSAGE), ("conv: forward [b]", ["conv"], MESSAGE), ("conv: dx", ["conv"], MESSAGE)])
    assert grading.failed_functions == ["conv: dx", "conv: forward"]


def test_feedback_must_be_short_and_name_the_component():
    conv = next(case for case in MUTANTS if case.components == ("conv",) and not case.tests)
    assert fake(conv, 95.0, [("conv: forward", ["conv"], "\n".join(["Conv2D"] * 11))]).problems()
    assert fake(conv, 95.0, [("conv: forward", ["conv"], "something differs")]).problems()
    hidden = fake(conv, 95.0, [("conv: forward", ["conv"], MESSAGE), ("hidden", ["conv"], "details")])
    hidden.failed[1]["visibility"] = "after_published"
    assert any("hidden" in problem for problem in hidden.problems())


# --- one grading of the whole corpus -------------------------------------------------------------

def grade_corpus(path: Path) -> None:
    matrix = path.with_suffix(".matrix.json")
    done = subprocess.run([sys.executable, "-m", "grader", "corpus", "--jobs", str(JOBS), "--json", str(matrix)],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    document = json.loads(matrix.read_text()) if matrix.exists() else {"cases": []}
    result = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "cases": document["cases"]}
    path.with_suffix(".tmp").write_text(json.dumps(result))
    path.with_suffix(".tmp").replace(path)


@pytest.fixture(scope="session")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    result = json.loads(once_per_session(tmp_path_factory, "corpus.json", grade_corpus).read_text())
    result["rows"] = {(row["kind"], row["case"]): row for row in result.pop("cases")}
    return result


def row_of(graded: dict, case: Case) -> dict:
    row = graded["rows"].get((case.kind, case.name))
    assert row is not None, f"{case!r} was not graded: {graded['stderr'][-2000:]}"
    return row


@pytest.mark.slow
def test_command_prints_the_matrix_and_succeeds(graded: dict):
    assert graded["returncode"] == 0, graded["stdout"][-3000:]
    lines = graded["stdout"].splitlines()
    assert lines[0].split()[:3] == ["case", "kind", "expected"]
    for case in CASES:
        assert any(line.split()[:2] == [case.name, case.kind] for line in lines), case
    assert f"correct submissions with full marks: {len(CORRECT)}/{len(CORRECT)}" in graded["stdout"]


@pytest.mark.slow
@pytest.mark.parametrize("case", CORRECT, ids=repr)
def test_correct_style_gets_full_marks(graded: dict, case: Case):
    row = row_of(graded, case)
    assert row["problems"] == [] and row["verdict"] == "OK"
    assert row["score"] == row["max_score"] == 100, row["failed_tests"]


@pytest.mark.slow
@pytest.mark.parametrize("case", MUTANTS, ids=repr)
def test_mutant_loses_points_only_in_its_component(graded: dict, case: Case):
    row = row_of(graded, case)
    assert row["problems"] == [] and row["verdict"] == "OK"
    assert row["score"] < row["max_score"]
    assert set(row["lost"]) & set(case.components) == set(case.components)
    for test in row["failed"]:
        assert set(test["tags"]) & set(case.components), f"{test['name']} is not tagged {case.components}"
    if case.tests:  # one bug, one property: no test of another property fails
        assert set(row["failed_functions"]) <= set(case.tests), row["failed_functions"]


@pytest.mark.slow
@pytest.mark.parametrize("case", [case for case in MUTANTS if case.tests], ids=repr)
def test_mutant_of_one_property_names_its_cause_first(graded: dict, case: Case):
    row = row_of(graded, case)
    assert row["names_cause"], f"{case.cause!r} is not in: {row['first_feedback']}"


@pytest.mark.slow
def test_most_mutants_name_their_cause_first(graded: dict):
    """The README's figure: at least 90% of all mutants' first messages contain their cause phrase."""
    missed = [case.name for case in MUTANTS if not row_of(graded, case)["names_cause"]]
    assert len(missed) <= 0.1 * len(MUTANTS), missed


@pytest.mark.slow
@pytest.mark.parametrize("case", MUTANTS, ids=repr)
def test_mutant_first_failure_is_short_and_says_what_and_why(graded: dict, case: Case):
    message = row_of(graded, case)["first_feedback"]
    assert 2 <= len(message.splitlines()) <= corpus.MAX_FEEDBACK_LINES, message
    assert any(COMPONENT_NAMES[component] in message.splitlines()[0] for component in case.components), message
    says_why = "Hint:" in message or "Your values equal" in message or ("raised" in message and "in your code:" in message)
    assert says_why, message
