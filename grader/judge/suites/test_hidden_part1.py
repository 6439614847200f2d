"""Hidden until grades are published: less common shapes of Conv2D and MaxPool2D."""
import pytest

from grader.judge import cases, layer_checks

CONV_CASES = [
    cases.conv("k3_s3_p1_wide", (2, 4, 7, 11), out_channels=3, kernel_size=3, stride=3, padding=1),
    cases.conv("k2_s1_p1_even_kernel", (1, 2, 5, 4), out_channels=2, kernel_size=2, padding=1),
]
POOL_CASES = [
    cases.maxpool("k4_s2_overlapping", (2, 2, 9, 7), kernel_size=4, stride=2),
    cases.maxpool("k1_identity", (1, 2, 3, 3), kernel_size=1),
]


@pytest.mark.tags("conv")
@pytest.mark.parametrize("case", CONV_CASES, ids=repr)
def test_conv_unusual_shapes_match_torch(student, case):
    layer_checks.forward_matches_torch(student, case, "")
    for gradient in ("dx", "dw", "db"):
        layer_checks.backward_matches_torch(student, case, gradient, "")


@pytest.mark.tags("maxpool")
@pytest.mark.parametrize("case", POOL_CASES, ids=repr)
def test_maxpool_unusual_shapes_match_torch(student, case):
    layer_checks.forward_matches_torch(student, case, "")
    layer_checks.backward_matches_torch(student, case, "dx", "")
