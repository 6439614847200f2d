"""ReLU: any shape, forward and backward."""
import pytest

from grader.judge import cases, layer_checks

pytestmark = pytest.mark.tags("relu")

CASES = [
    cases.relu("4d", (2, 3, 4, 5)),
    cases.relu("2d", (5, 7)),
    cases.relu("batch1_3d", (1, 6, 4)),
]
HINTS = {
    "forward": "max(x, 0) elementwise, same shape as x",
    "dx": "dout where the forward INPUT was positive, 0 elsewhere (mask on x, not on dout)",
}


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_forward_matches_torch(student, case):
    layer_checks.forward_matches_torch(student, case, HINTS["forward"])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_backward_dx_matches_torch(student, case):
    layer_checks.backward_matches_torch(student, case, "dx", HINTS["dx"])


@pytest.mark.parametrize("case", CASES[:2], ids=repr)
def test_gradients_match_finite_differences(student, case):
    layer_checks.gradients_match_finite_differences(student, case, HINTS)
