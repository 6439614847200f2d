"""SGD: parameters after each of 3 steps equal torch.optim.SGD's, on two layers and a parameter-free one."""
import numpy as np
import pytest

from grader.judge import compare, oracle

pytestmark = pytest.mark.tags("sgd")

OPTIONS = {
    "plain": {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.0},
    "momentum": {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.0},
    "weight_decay": {"lr": 0.1, "momentum": 0.0, "weight_decay": 0.05},
    "momentum_weight_decay": {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05},
}
HINTS = {
    "plain": "param = param - lr * grad, for weight (dw) and bias (db) of every layer that has them",
    "momentum": "v = momentum * v + grad (v = grad on the first step), one velocity per parameter kept across steps, no dampening",
    "weight_decay": "g = grad + weight_decay * param before anything else, for the bias too",
    "momentum_weight_decay": "add weight decay to the gradient first, then update the velocity: v = momentum * v + (grad + wd * param)",
}
STEPS = 3


def sgd_inputs(name):
    """Two layers with parameters around a parameter-free one, and fresh gradient arrays for every step."""
    rng = np.random.default_rng(sum(map(ord, name)))
    shapes = [((3, 4), (3,)), None, ((2, 3), (2,))]
    layers = [{"weight": rng.standard_normal(s[0]), "bias": rng.standard_normal(s[1])} if s else None for s in shapes]
    grads = [[{"dw": rng.standard_normal(s[0]), "db": rng.standard_normal(s[1])} if s else None for s in shapes] for _ in range(STEPS)]
    return layers, grads


def likely_mistakes(options, layers, grads, step, index, name):
    """What a wrong step() often leaves in parameter ``name`` of the ``index``-th layer with parameters after ``step`` steps."""
    before = [spec for spec in layers if spec] if step == 1 else oracle.sgd_history(options, layers, grads)[step - 2]
    unchanged = ("the parameter's value before this step: it was not updated (read weight, bias, dw and db from each layer at every step)", before[index - 1][name])
    return [unchanged] + [(what, wrong[step - 1][index - 1][name]) for what, wrong in oracle.sgd_mistakes(options, layers, grads, name)]


@pytest.mark.parametrize("name", OPTIONS)
def test_step_matches_torch(student, name):
    options = OPTIONS[name]
    layers, grads = sgd_inputs(name)
    call = f"SGD(layers, {', '.join(f'{k}={v}' for k, v in options.items())}): {STEPS} calls of step() with new dw/db each time"
    history = student.run("sgd.steps", call, init=options, layers=layers, grads=grads)["history"]
    expected = oracle.sgd_history(options, layers, grads)
    assert [len(step) for step in history] == [len(step) for step in expected], "the worker returned an incomplete history"
    for step, (got, want) in enumerate(zip(history, expected), start=1):
        for index, (got_layer, want_layer) in enumerate(zip(got, want), start=1):
            for name_ in ("weight", "bias"):
                matched = f" (after step {step - 1} it matched)" if step > 1 else ""
                compare.check_array(f"{name_} of layer {index} after step {step}{matched}", got_layer[name_], want_layer[name_], call=call,
                                    hint=HINTS[name], against="torch.optim.SGD", axes=("row", "column") if name_ == "weight" else ("entry",),
                                    mistakes=lambda: likely_mistakes(options, layers, grads, step, index, name_))
