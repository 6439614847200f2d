"""VanillaCNN: Conv2d(7x7) -> ReLU -> MaxPool2d(2) -> Linear, checked by shapes, logits and learning."""
import pytest

from grader.judge import model_checks

pytestmark = pytest.mark.tags("vanilla_cnn")

INITS = [
    {"in_channels": 3, "num_classes": 10, "image_size": 32},
    {"in_channels": 1, "num_classes": 5, "image_size": 15},
]
IDS = ["3ch-10cls-32px", "1ch-5cls-15px"]
HINT = "nn.Conv2d(in_channels, 32, kernel_size=7, stride=1, padding=0) -> ReLU -> nn.MaxPool2d(2, 2) -> flatten -> nn.Linear(32 * ((image_size - 6) // 2) ** 2, num_classes)"


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_parameter_shapes(student, init):
    model_checks.parameter_shapes(student, "vanilla_cnn", init, HINT)


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_parameter_count(student, init):
    model_checks.parameter_count(student, "vanilla_cnn", init)


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_output_shape(student, init):
    model_checks.output_shape(student, "vanilla_cnn", init)


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_logits_match_reference(student, init):
    model_checks.logits_match(student, "vanilla_cnn", init, HINT)


@pytest.mark.tags("accuracy")
def test_accuracy_after_grader_training(student, grader_config):
    model_checks.trained_accuracy(student, grader_config, "vanilla_cnn", "model.train", "vanilla_cnn")
