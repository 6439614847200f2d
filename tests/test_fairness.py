"""One bug, one property: the loop replays, lazy models, parameters left alone, the grader's own warnings hidden."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from grader.judge import feedback, loops
from grader.worker.runtime import part1, part2, scenarios, trusted
from grader.worker.runtime.scenarios import ContractError

CONTRACT_CALLS = ["zero_grad", "forward", "backward", "step"]


def events(*kinds: str) -> list[dict[str, str]]:
    return [{"event": kind} for kind in kinds]


@pytest.fixture
def case() -> dict:
    return loops.inputs() | {"stale": loops.stale_gradients()}


def test_the_replay_of_the_contract_calls_is_the_contract_loop(case):
    replay = loops.replay_train_epoch(case, events(*CONTRACT_CALLS * 3), [True] * 3)
    model = loops._model(case["state"])
    optimizer = torch.optim.SGD(model.parameters(), **loops.TRAINING)
    loss, accuracy = trusted.reference_train_epoch(model, trusted.make_loader(case["x"], case["y"], loops.BATCH), optimizer, nn.CrossEntropyLoss())
    assert (replay.loss, replay.accuracy, replay.caveat) == (loss, accuracy, "")
    for name, value in trusted.state_arrays(model).items():
        np.testing.assert_array_equal(replay.state[name], value)


def test_the_replay_follows_the_students_mode_and_order(case):
    contract = loops.replay_train_epoch(case, events(*CONTRACT_CALLS * 3), [True] * 3)
    eval_mode = loops.replay_train_epoch(case, events(*CONTRACT_CALLS * 3), [False] * 3)
    late_zero_grad = loops.replay_train_epoch(case, events(*["forward", "backward", "step", "zero_grad"] * 3), [True] * 3)
    assert eval_mode.loss != contract.loss  # the probe's BatchNorm makes the mode matter
    assert not np.allclose(late_zero_grad.state["output.weight"], contract.state["output.weight"])  # the stale gradients reached a step


def test_calls_that_cannot_be_replayed_fall_back_to_the_contract_and_say_why(case):
    contract = loops.replay_train_epoch(case, events(*CONTRACT_CALLS * 3), [True] * 3)
    twice = loops.replay_train_epoch(case, events(*(CONTRACT_CALLS + ["forward"]) * 3), [True] * 6)
    assert twice.caveat == "your loop ran the model's forward 6 times for 3 batches"
    assert twice.loss == contract.loss and "the expected values below are the contract's loop" in twice.lines()[0]
    assert loops.irregular_calls(events("forward", "backward", "backward", "step") * 3, 3) == "your loop ran backward more than once after one forward"


def test_validate_is_replayed_in_the_students_modes(case):
    assert loops.replay_validate(case, [True] * 3).loss != loops.replay_validate(case, [False] * 3).loss
    assert loops.replay_validate(case, [True] * 2).caveat == "your validate ran the model's forward 2 times for 3 batches"


class LazyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.LazyLinear(3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


class BrokenLazyNet(LazyNet):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x)[:, 5, 7]


def test_lazy_modules_get_their_shapes_before_any_check():
    model = LazyNet()
    part2.materialize(model, {"input_dim": 12, "hidden_size": 4, "num_classes": 3})
    assert trusted.describe_layers(model) == "nn.Linear(3, 12)" and model.training


def test_a_failing_first_forward_says_so():
    with pytest.raises(ContractError, match=r"first forward, on a dummy batch of shape \(2, 12\).*raised IndexError") as caught:
        part2.materialize(BrokenLazyNet(), {"input_dim": 12, "hidden_size": 4, "num_classes": 3})
    assert any(frame.name == "forward" for frame in __import__("traceback").extract_tb(caught.value.__traceback__))


def test_a_contract_error_raised_under_student_code_shows_the_students_lines():
    error = {"type": "ContractError", "message": "the model's first forward ... raised IndexError: x", "frames": ["models.py, line 9, in forward: y"]}
    with pytest.raises(pytest.fail.Exception) as caught:
        feedback.student_error("VanillaCNN(...)", error)
    assert str(caught.value.msg).splitlines()[1:] == ["  the model's first forward ... raised IndexError: x", "  in your code:", "    models.py, line 9, in forward: y"]


def test_a_loss_that_requires_grad_is_read_without_a_warning():
    loss = (torch.ones(2, requires_grad=True) * 2).mean()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert part2.loop_result((loss, 0.5), "train_epoch") == [2.0, 0.5]
    with pytest.raises(ContractError, match=r"loss\.item\(\)"):
        part2.as_float(torch.ones(3), "train_epoch (mean_loss)")


def test_warnings_from_the_runtime_are_not_shown_as_the_students():
    shown = []
    show = scenarios.student_warnings_only(lambda message, *rest: shown.append(message))
    show("grader's own", UserWarning, part2.__file__, 1)
    show("the student's", UserWarning, "/tmp/submission/part2_pytorch/train.py", 1)
    assert shown == ["the student's"]


class UpdatingLayer:
    """A layer whose backward also takes a step, and whose forward replaces its bias."""

    def __init__(self) -> None:
        self.weight, self.bias = np.ones(2), np.zeros(2)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.bias = self.bias + 0.0
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        self.weight -= 1.0
        return dout


def test_parameter_changes_name_replacements_and_in_place_updates():
    layer = UpdatingLayer()
    original = {"weight": layer.weight.copy(), "bias": layer.bias.copy()}
    assigned = {"weight": layer.weight, "bias": layer.bias}
    layer.forward(np.ones(2))
    assert part1.parameter_changes(layer, assigned, original, "forward") == ["forward replaced self.bias with another object"]
    layer.backward(np.ones(2))
    assert part1.parameter_changes(layer, assigned, original, "backward") == [
        "backward changed the values of self.weight in place", "backward replaced self.bias with another object"]
