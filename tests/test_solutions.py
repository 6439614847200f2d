"""No file students get holds a solution of a graded task, however it is spelled (normalised syntax trees)."""
from __future__ import annotations

from grader.instructor import handout
from grader.instructor.package import Entry
from grader.instructor.solutions import shipped_solutions

from conftest import REFERENCE


def test_no_shipped_function_or_class_is_a_graded_solution() -> None:
    assert shipped_solutions(handout.entries(None)) == []


def test_a_renamed_recommented_reannotated_copy_of_a_solution_is_found() -> None:
    source = (REFERENCE / "part2_pytorch/train.py").read_text()
    disguised = (source.replace("total_loss", "running_loss").replace("def train_epoch", "def fit").replace("criterion", "loss_fn")
                 .replace("# The criterion", "# Our loss").replace("-> tuple[float, float]", ""))
    found = shipped_solutions([Entry("grader/worker/runtime/helpers.py", disguised.encode())])
    assert found == ["grader/worker/runtime/helpers.py: fit (= reference/part2_pytorch/train.py: train_epoch)",
                     "grader/worker/runtime/helpers.py: validate (= reference/part2_pytorch/train.py: validate)"]


def test_a_different_implementation_is_not_a_copy() -> None:
    relu = "import numpy as np\n\nclass ReLU:\n    def forward(self, x):\n        self.x = x\n        return x * (x > 0)\n"
    assert shipped_solutions([Entry("relu.py", relu.encode())]) == []
