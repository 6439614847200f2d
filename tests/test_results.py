"""build_result turns one outcome into one Gradescope test entry."""
from __future__ import annotations

import json

import jsonschema

from grader.judge.feedback import GENERIC_HIDDEN
from grader.judge.plugin import TestMeta, TestOutcome
from grader.report import results


def outcome(passed: bool, visibility: str = "visible", message: str = "dw differs", output: str = "") -> TestOutcome:
    meta = TestMeta("test_conv.py::test_x", "conv: x", "1.1", 2.5, visibility, 30, ("conv",), 1)
    return TestOutcome(meta, passed, "" if passed else message, output)


def test_passed_test_earns_its_points():
    entry = results.build_result(outcome(True))
    assert entry["score"] == entry["max_score"] == 2.5 and entry["status"] == "passed"


def test_failed_test_earns_nothing_and_keeps_its_message():
    entry = results.build_result(outcome(False))
    assert entry["score"] == 0 and entry["status"] == "failed" and entry["output"] == "dw differs"


def test_hidden_test_shows_only_a_generic_message():
    entry = results.build_result(outcome(False, visibility="after_published", output="secret print"))
    assert entry["output"] == GENERIC_HIDDEN


def test_student_output_is_appended_to_visible_tests():
    assert "--- your code printed ---\nhello" in results.build_result(outcome(True, output="hello"))["output"]


def test_document_totals_and_validates():
    document = results.build_document([outcome(True), outcome(False)], "note", 1.234)
    assert document["score"] == 2.5 and document["execution_time"] == 1.23
    results.validate(document)


def test_fallback_document_is_valid_with_score_zero():
    document = results.fallback_document("boom")
    jsonschema.validate(document, results.SCHEMA)
    assert document["score"] == 0 and "boom" not in document["output"]  # students never see the grader's traceback
    assert document["tests"] == [{"name": "autograder error (instructors only)", "score": 0, "max_score": 0, "status": "failed",
                                  "output": "boom", "visibility": "hidden"}]


def test_write_atomically_replaces_a_symlink(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    link = tmp_path / "results.json"
    link.symlink_to(target)
    results.write_atomically(link, {"score": 1, "tests": []})
    assert not link.is_symlink() and json.loads(link.read_text())["score"] == 1
    assert target.read_text() == "{}"


def test_console_table_hides_the_messages_of_hidden_tests():
    from types import SimpleNamespace

    from grader.config import load_config
    from grader.report.console import render

    state = SimpleNamespace(config=load_config(), missing_suites=[], outcomes={"hidden": outcome(False, "after_published", message="x\n  secret detail")})
    table = render(state)
    assert "secret detail" not in table and "hidden until grades are published" in table


def test_shared_points_add_up_exactly():
    from decimal import Decimal

    from grader.judge.plugin import case_points

    for points, cases in [(1, 3), (2, 3), (3, 7), (8, 4), (0.5, 3)]:
        shares = [case_points(points, cases, case) for case in range(1, cases + 1)]
        assert sum(Decimal(str(share)) for share in shares) == Decimal(str(points))
        assert max(shares) - min(shares) <= 0.0002


def test_the_reference_results_add_up_to_the_configured_total(reference_graded):
    from decimal import Decimal

    from grader.config import load_config

    tests = reference_graded.results["tests"]
    total = Decimal(str(load_config().total_points))
    assert sum(Decimal(str(test["max_score"])) for test in tests) == total
    assert Decimal(str(reference_graded.results["score"])) == sum(Decimal(str(test["score"])) for test in tests) == total
