"""MaxPool2D: shapes, forward and backward against torch (overlapping windows included)."""
import pytest

from grader.judge import cases, layer_checks

pytestmark = pytest.mark.tags("maxpool")

CASES = [
    cases.maxpool("k2_default_stride", (2, 3, 6, 8), kernel_size=2),
    cases.maxpool("k2_odd_input", (2, 2, 7, 5), kernel_size=2),
    cases.maxpool("k3_s2_overlapping", (2, 2, 7, 9), kernel_size=3, stride=2),
    cases.maxpool("k3_s1_overlapping_batch1", (1, 3, 6, 5), kernel_size=3, stride=1),
    cases.maxpool("k2_s3_gaps", (2, 1, 8, 8), kernel_size=2, stride=3),
]
HINTS = {
    "shape": "H_out = (H - kernel_size) // stride + 1; stride defaults to kernel_size",
    "forward": "take the max of each window, moving by stride; leftover rows/columns at the edge are dropped",
    "dx": "route each dout value to the argmax of its window only (np.unravel_index); with overlapping windows add (+=)",
}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_forward_shape(student, case):
    layer_checks.forward_shape(student, case, HINTS["shape"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_forward_matches_torch(student, case):
    layer_checks.forward_matches_torch(student, case, HINTS["forward"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_backward_dx_matches_torch(student, case):
    layer_checks.backward_matches_torch(student, case, "dx", HINTS["dx"])


@pytest.mark.parametrize("case", CASES[1:3], ids=repr)
def test_gradients_match_finite_differences(student, case):
    layer_checks.gradients_match_finite_differences(student, case, HINTS)
