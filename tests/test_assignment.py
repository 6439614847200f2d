"""The registry of components (grader/worker/runtime/assignment.py) is the one list every part of the grader reads.

A toy component, BatchNorm2D in part1_scratch/batchnorm.py, is added to the
registry and nowhere else: discovery then finds and stages its file, its tests
hold its points, Part 1's rule covers it in the judge and in the worker, and the
worker and the messages name its class. Scenarios run in the worker of the part
they are registered with.
"""
from __future__ import annotations

import sys

import pytest

from grader.config import load_config
from grader.discover import Discovery, discover
from grader.grade import part1_sources, part1_violations
from grader.judge import cases, hangs
from grader.judge.outcome import TestMeta
from grader.judge.plugin import GraderFault, GradingState
from grader.worker.runtime import assignment, main, scenarios
from grader.worker.runtime.assignment import Component, part1_may_import

from conftest import REFERENCE, overlay

TOY = Component("batchnorm", "part1_scratch/batchnorm.py", "BatchNorm2D", 1)
TOY_SOURCE = """import numpy as np


class BatchNorm2D:
    def __init__(self, num_features):
        self.num_features = num_features

    def forward(self, x):
        return (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
"""


@pytest.fixture
def with_toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assignment, "COMPONENTS", (*assignment.COMPONENTS, TOY))


def test_each_component_has_its_suite_in_its_part_in_the_registrys_order():
    config = load_config()
    suites = [(index, file) for index, part in enumerate(config.parts, start=1) for file in part.files]
    own = [(c.part, f"test_{c.name}.py") for c in assignment.COMPONENTS]
    assert [suite for suite in suites if suite in own] == own  # the report's order is the registry's
    assert len(assignment.graded_files()) == 7 and all((REFERENCE / file).is_file() for file in assignment.graded_files())
    assert [c.name for c in assignment.components_in("part2_pytorch/models.py")] == ["twolayer", "vanilla_cnn"]
    assert assignment.component("train_epoch").module == "part2_pytorch.train"
    with pytest.raises(KeyError, match="no component 'batchnorm'"):
        assignment.component("batchnorm")


def test_a_registered_component_is_found_staged_and_named_in_the_summary(with_toy, tmp_path):
    submission = overlay(tmp_path / "submission", {"batchnorm.py": TOY_SOURCE})  # flat, beside the template's folders
    found = discover(submission, tmp_path / "stage")
    assert found.found[TOY.file] == "batchnorm.py" and (tmp_path / "stage" / TOY.file).read_text() == TOY_SOURCE
    assert "Found all 8 graded files." in found.summary()

    without = discover(REFERENCE, tmp_path / "without")
    assert without.missing == (TOY.file,) and without.problem_with("batchnorm") == "batchnorm.py was not found in the submission"
    assert "missing: part1_scratch/batchnorm.py (no points for batchnorm)" in without.summary()


def test_a_registered_component_holds_the_points_of_the_tests_tagged_with_it(with_toy):
    meta = TestMeta("test_batchnorm.py::test_forward", "batchnorm: forward", "1.1", 2.0, "visible", 30.0, ("batchnorm", "accuracy"), 1)
    assert meta.components == ("batchnorm",)
    assert cases.LayerCase("small", "batchnorm", (2, 3, 4, 4), {"num_features": 3}).call.startswith("BatchNorm2D(num_features=3)")
    assert hangs.graded_function(TOY.file, ["BatchNorm2D", "forward", "inner"]) == "BatchNorm2D.forward"
    assert hangs.component_hang("batchnorm", TOY.file, "1.1", 5.0).target == "part1_scratch.batchnorm:BatchNorm2D"


def test_part1_rule_covers_a_registered_component_in_the_judge(with_toy, tmp_path):
    forbidden = TOY_SOURCE.replace("import numpy as np\n", "import numpy as np\nimport torch\n")
    discover(overlay(tmp_path / "submission", {TOY.file: forbidden}), tmp_path / "stage" / "submission")
    violations = part1_violations(part1_sources(tmp_path / "stage"))
    assert [str(v) for v in violations["batchnorm"]] == ["line 2: imports torch"]
    assert all(violations[name] == [] for name in ("conv", "maxpool", "relu", "linear", "sgd"))


def test_part1_rule_follows_the_registry_in_the_judge_and_in_the_worker(monkeypatch):
    extra = Component("attention", "part1_extra/attention.py", "Attention", 1)
    assert not part1_may_import("part1_extra.attention")
    monkeypatch.setattr(assignment, "COMPONENTS", (*assignment.COMPONENTS, extra))
    for allowed in ("part1_extra.attention", "part1_scratch.conv", "numpy.lib.stride_tricks", "collections", "_sysconfigdata__linux_x86_64-linux-gnu"):
        assert part1_may_import(allowed), allowed
        main.part1_guard("import", (allowed, None, None, None, None))  # the worker's audit hook, called as Python calls it
    for forbidden in ("torch", "scipy.signal", "part2_pytorch.models"):
        assert not part1_may_import(forbidden), forbidden
        with pytest.raises(ImportError, match="not allowed in Part 1"):
            main.part1_guard("import", (forbidden, None, None, None, None))
    main.part1_guard("import", ("grader_runtime.part1", None, None, None, None))  # the worker's own code, outside the rule


def forget_submission_modules() -> None:
    for name in [name for name in sys.modules if name.split(".")[0] in ("part1_scratch", "part2_pytorch")]:
        del sys.modules[name]


def test_the_worker_takes_a_registered_component_by_its_module_and_name(with_toy, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(overlay(tmp_path / "submission", {TOY.file: TOY_SOURCE})))
    forget_submission_modules()
    try:
        assert scenarios.student_object("batchnorm").__name__ == "BatchNorm2D"
    finally:
        forget_submission_modules()


def test_scenarios_run_in_the_worker_of_the_part_they_are_registered_with():
    workers = {"part1": object(), "part2": object()}
    state = GradingState(load_config(), Discovery(found={}), workers, {})  # type: ignore[arg-type]
    assert state.worker_for("layer.forward") is workers["part1"] and state.worker_for("scratch.train") is workers["part1"]
    assert state.worker_for("speed.conv") is workers["part2"] and state.worker_for("loop.validate") is workers["part2"]
    with pytest.raises(GraderFault, match="unknown scenario 'layer.sideways'"):
        state.worker_for("layer.sideways")


def test_a_worker_refuses_a_scenario_of_the_other_part_before_running_anything():
    request = {"id": 1, "scenario": "layer.forward", "args": {"component": "relu", "init": {}, "params": None, "x": None}}
    assert main.grader_fault(request, 1) is None
    assert main.grader_fault(request, 2) == "scenario 'layer.forward' runs in the Part 1 worker, not in this Part 2 worker"
