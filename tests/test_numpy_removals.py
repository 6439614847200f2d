"""Names NumPy removed: the table against the installed NumPy, the scan of Part 1 files, the hint on the AttributeError, and a grading."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from grader.judge import feedback, numpy_removals
from grader.judge.numpy_removals import REMOVED, advice, find_removed_names, hint_for_error
from grader.requirements import pins, version_tuple

from conftest import REFERENCE, Graded, overlay, run_grader

INSTALLED = version_tuple(np.__version__)


def missing_here(name: str) -> bool:
    removal = REMOVED[name]
    return version_tuple(removal.removed_in) <= INSTALLED and not (removal.restored_in and version_tuple(removal.restored_in) <= INSTALLED)


@pytest.mark.parametrize("name", sorted(REMOVED))
def test_each_name_is_missing_exactly_where_the_table_says(name: str) -> None:
    assert _has(name) is not missing_here(name), f"NumPy {np.__version__}"


def _has(name: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # np.object warns before it raises on NumPy 2: the raise is what counts
        try:
            getattr(np, name)
        except AttributeError:
            return False
    return True


@pytest.mark.parametrize("name", sorted(REMOVED))
def test_each_replacement_exists_in_this_numpy(name: str) -> None:
    for attribute in re.findall(r"np\.(\w+)", REMOVED[name].replacement):
        assert _has(attribute), f"np.{attribute}, the advice for np.{name}, is not in NumPy {np.__version__}"


def test_the_gradescope_numpy_is_the_oldest_pin() -> None:
    numpy_pins = [version_tuple(pin.pinned_version) for pin in pins() if pin.name == "numpy"]
    assert numpy_removals.GRADESCOPE_NUMPY == min(numpy_pins)[:2]


def test_the_advice_names_the_version_gradescope_and_the_replacement() -> None:
    assert advice("product") == "np.product was removed in NumPy 2.0 (Gradescope grades with NumPy 2): write np.prod"
    assert advice("in1d") == "np.in1d was removed in NumPy 2.4: write np.isin"
    assert advice("bool") == "np.bool is missing from NumPy 1.24 until 2.0 brought it back: write np.bool_, which works in every NumPy"


SOURCE = '''
import math
import numpy as np
import numpy as xp
from numpy import product, zeros

class Layer:
    def forward(self, x):
        n = np.product(x.shape)
        m = xp.cumproduct(x)
        y = x.astype(np.float)
        ok = np.prod(x.shape) + math.inf + self.product + zeros(1)
        return np.NaN
'''


def test_the_scan_follows_aliases_and_imports_and_nothing_else() -> None:
    assert find_removed_names(SOURCE) == [(5, "product"), (9, "product"), (10, "cumproduct"), (11, "float"), (13, "NaN")]


def test_a_name_of_another_module_is_not_numpy() -> None:
    assert find_removed_names("import torch as np\nnp.product\nimport numpy.linalg\nnumpy.float_\n") == [(4, "float_")]


def test_a_file_that_does_not_parse_has_no_warning() -> None:
    assert find_removed_names("def broken(:\n    np.product") == []


def test_warnings_name_the_file_and_the_line() -> None:
    assert numpy_removals.warnings_for({"relu.py": "import numpy as np\nnp.alltrue(x)\n"}) == [
        "Warning: relu.py line 2: np.alltrue was removed in NumPy 2.0 (Gradescope grades with NumPy 2): write np.all."]


@pytest.mark.parametrize(("message", "name"), [
    ("module 'numpy' has no attribute 'product'", "product"),
    ("`np.alltrue` was removed in the NumPy 2.0 release. Use `np.all` instead.", "alltrue"),
    ("module 'numpy' has no attribute 'float'.\n`np.float` was a deprecated alias for the builtin `float`.", "float"),
])
def test_the_attribute_error_gets_the_same_advice(message: str, name: str) -> None:
    assert hint_for_error(message) == advice(name)


@pytest.mark.parametrize("message", ["module 'numpy' has no attribute 'conv2d'", "'Conv2D' object has no attribute 'product'", ""])
def test_other_attribute_errors_get_no_hint(message: str) -> None:
    assert hint_for_error(message) == ""


def test_the_failing_test_message_carries_the_hint() -> None:
    error = {"type": "AttributeError", "message": "module 'numpy' has no attribute 'product'", "frames": ["relu.py:25 in forward"]}
    with pytest.raises(pytest.fail.Exception) as failure:
        feedback.student_error("ReLU().forward(x)", error)
    assert f"Hint: {advice('product')}" in str(failure.value)


@pytest.fixture(scope="module")
def product_graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The reference, with np.product in ReLU.forward: deprecated on NumPy 1.25-1.26, gone from NumPy 2."""
    relu = (REFERENCE / "part1_scratch" / "relu.py").read_text()
    assert "return np.maximum(x, 0)" in relu
    folder = tmp_path_factory.mktemp("product")
    submission = overlay(folder / "submission", {"part1_scratch/relu.py": relu.replace("return np.maximum(x, 0)", "return np.maximum(x, 0) * np.product([1])")})
    return run_grader(submission, folder / "results.json")


def test_grading_warns_before_the_tests_and_in_results_json(product_graded: Graded) -> None:
    line = (REFERENCE / "part1_scratch" / "relu.py").read_text().splitlines().index("        return np.maximum(x, 0)") + 1
    warning = f"Warning: relu.py line {line}: {advice('product')}."
    assert warning in product_graded.results["output"]
    assert warning in product_graded.stdout.splitlines()[1:3], "right after the environment banner, before any test"


def test_relu_fails_with_the_hint_exactly_where_numpy_lacks_the_name(product_graded: Graded) -> None:
    relu_tests = [test for test in product_graded.results["tests"] if "relu" in test["tags"]]
    failed = [test for test in relu_tests if test["status"] == "failed"]
    if missing_here("product"):
        assert failed and all(advice("product") in test["output"] for test in failed)
    else:
        assert relu_tests and not failed
