"""End to end, Part 2: the student's VanillaCNN trained by the student's train_epoch learns real digits."""
import pytest

from grader.judge import model_checks

pytestmark = pytest.mark.tags("vanilla_cnn", "train_epoch", "accuracy")


def test_student_cnn_with_student_loop_learns(student, grader_config):
    model_checks.trained_accuracy(student, grader_config, "vanilla_cnn", "e2e.train", "end_to_end")
