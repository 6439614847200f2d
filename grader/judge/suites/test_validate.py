"""validate on the grader's model: eval mode, no gradients, no changes, and what it returns.

The loss and accuracy tests compare with the contract's validate run in the modes the
student's forward calls saw, so a missing model.eval() costs only the mode test.
"""
import numpy as np
import pytest

from grader.judge import compare, feedback, loops

pytestmark = pytest.mark.tags("validate")

CALL = loops.CALL.format(function="validate", rest="") + ", with the model in training mode before the call"


@pytest.fixture
def observed(student):
    case = loops.inputs()
    return case, student.run("loop.validate", CALL, cache_key="validate", **case)


@pytest.fixture
def replay(observed):
    case, result = observed
    return loops.replay_validate(case, [call["training"] for call in result["calls"]])


def test_uses_eval_mode(observed):
    case, result = observed
    modes = [call["training"] for call in result["calls"]]
    if not modes or any(modes):
        feedback.fail(CALL, f"  forward saw model.training = {modes}", hint="call model.eval() before the loop")
    for name in ("norm.running_mean", "norm.running_var"):
        compare.check_array(name, result["state"].get(name), case["state"][name].astype(np.float64), call=CALL,
                            hint="in eval mode BatchNorm's running statistics stay as they are", against="its value before validate")


def test_runs_without_gradients(observed):
    _, result = observed
    enabled = [call["grad_enabled"] for call in result["calls"]]
    if not enabled or any(enabled):
        feedback.fail(CALL, f"  autograd was enabled during forward: {enabled}", hint="wrap the loop in torch.no_grad()")


def test_leaves_parameters_unchanged(observed):
    case, result = observed
    if result["grads_created"]:
        feedback.fail(CALL, f"  gradients were created for {result['grads_created']}", hint="validate must not call backward()")
    for name in loops.parameter_names():
        compare.check_array(f"parameter {name}", result["state"].get(name), case["state"][name].astype(np.float64), call=CALL,
                            hint="validate must never step an optimizer or change a parameter", against="its value before validate")


def test_returns_mean_loss_per_sample(observed, replay):
    _, result = observed
    compare.check_scalar("mean_loss", result["result"][0], replay.loss, call="\n".join([CALL, *replay.lines()]),
                         hint="weight each batch's mean loss by its size and divide by the number of samples (the last batch is short)")


def test_returns_accuracy(observed, replay):
    _, result = observed
    compare.check_scalar("accuracy", result["result"][1], replay.accuracy, call="\n".join([CALL, *replay.lines()]),
                         hint="argmax over the class dimension (dim=1), correct count over the number of samples (a fraction in [0, 1])")
