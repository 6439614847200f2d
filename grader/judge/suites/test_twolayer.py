"""TwoLayerNet: Linear -> sigmoid -> Linear, checked by shapes, logits and learning."""
import pytest

from grader.judge import model_checks

pytestmark = pytest.mark.tags("twolayer")

INITS = [
    {"input_dim": 12, "hidden_size": 7, "num_classes": 5},
    {"input_dim": 64, "hidden_size": 16, "num_classes": 10},
]
IDS = ["12-7-5", "64-16-10"]
HINT = "flatten each sample, nn.Linear(input_dim, hidden_size), torch.sigmoid, nn.Linear(hidden_size, num_classes); no softmax"


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_parameter_shapes(student, init):
    model_checks.parameter_shapes(student, "twolayer", init, HINT)


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_parameter_count(student, init):
    model_checks.parameter_count(student, "twolayer", init)


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_output_shape(student, init):
    model_checks.output_shape(student, "twolayer", init)


@pytest.mark.parametrize("init", INITS, ids=IDS)
def test_logits_match_reference(student, init):
    model_checks.logits_match(student, "twolayer", init, HINT)


@pytest.mark.tags("accuracy")
def test_accuracy_after_grader_training(student, grader_config):
    model_checks.trained_accuracy(student, grader_config, "twolayer", "model.train", "twolayer")
