"""Part 2 scenarios: the student's models under the grader's loop, the student's loops on the grader's model."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from . import trusted
from .part1 import build_layer
from .scenarios import ContractError, plain_array, registrar, student_object

scenario = registrar(part=2)  # every scenario here runs in the Part 2 worker (torch), speed.conv too

torch.set_num_threads(1)
# The first torch.optim optimizer imports torch._dynamo (about 1 s): pay for it at start-up, while the
# judge grades Part 1, rather than inside the first timed call.
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def dummy_batch(init: dict[str, Any]) -> torch.Tensor:
    """Two zero samples of the shape the model's init describes."""
    if "input_dim" in init:
        return torch.zeros(2, init["input_dim"])
    return torch.zeros(2, init["in_channels"], init["image_size"], init["image_size"])


def materialize(model: nn.Module, init: dict[str, Any]) -> None:
    """One forward on a dummy batch, so that lazy modules (nn.LazyLinear, ...) get their shapes.

    Only for models with uninitialized parameters: the forward of any other
    model is checked by the output and logits tests, not by the shape tests.
    """
    if not any(isinstance(p, nn.parameter.UninitializedParameter) for p in model.parameters()):
        return
    training = model.training
    batch = dummy_batch(init)
    try:
        model.eval()
        with torch.no_grad():
            model(batch)
    except Exception as error:
        message = (f"the model's first forward, on a dummy batch of shape {tuple(batch.shape)} that the grader runs so that lazy modules "
                   f"get their shapes, raised {type(error).__name__}: {error}")
        raise ContractError(message).with_traceback(error.__traceback__) from None
    model.train(training)


def build_model(component: str, init: dict[str, Any], layers: list[trusted.LayerSpec] | None = None) -> nn.Module:
    model = student_object(component)(**init)
    if not isinstance(model, nn.Module):
        raise ContractError(f"{type(model).__name__} is not a torch.nn.Module")
    materialize(model, init)
    if layers is not None:
        try:
            trusted.assign_layers(model, layers)
        except LookupError as error:
            raise ContractError(str(error)) from None
    return model


def as_float(value: Any, what: str) -> float:
    if isinstance(value, torch.Tensor):
        value = value.detach()  # float() of a tensor that requires grad warns, and that warning is the grader's, not the student's
    try:
        return float(value)
    except Exception as error:
        raise ContractError(f"{what} returned {type(value).__name__}, which float() rejects: {error}; return a Python number, e.g. loss.item()") from None


def loop_result(result: Any, function: str) -> list[float]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise ContractError(f"{function} must return (mean_loss, accuracy); it returned {type(result).__name__}")
    return [as_float(result[0], f"{function} (mean_loss)"), as_float(result[1], f"{function} (accuracy)")]


@scenario("model.describe")
def describe(component: str, init: dict[str, Any]) -> dict[str, Any]:
    model = build_model(component, init)
    return {
        "parameters": [[name, list(p.shape)] for name, p in model.named_parameters()],
        "layers": [[trusted.layer_kind(m), list(m.weight.shape)] for m in trusted.parametric_layers(model)],
    }


@scenario("model.logits")
def logits(component: str, init: dict[str, Any], layers: list[trusted.LayerSpec], x: np.ndarray) -> dict[str, Any]:
    model = build_model(component, init, layers)
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(x))
    if not isinstance(out, torch.Tensor):
        raise ContractError(f"forward returned {type(out).__name__}, expected a torch.Tensor")
    return {"logits": out.detach().numpy().copy()}


def seeded_optimizer(model: nn.Module, training: dict[str, Any]) -> torch.optim.Optimizer:
    torch.manual_seed(training["seed"])
    return torch.optim.SGD(model.parameters(), lr=training["lr"], momentum=training["momentum"])


@scenario("model.train")
def train_model(
    component: str, init: dict[str, Any], layers: list[trusted.LayerSpec], x: np.ndarray, y: np.ndarray, training: dict[str, Any]
) -> dict[str, Any]:
    """The student's model, trained by the grader's loop."""
    model = build_model(component, init, layers)
    optimizer = seeded_optimizer(model, training)
    loader = trusted.make_loader(x, y, training["batch_size"], shuffle=True)
    history = [list(trusted.reference_train_epoch(model, loader, optimizer, nn.CrossEntropyLoss())) for _ in range(training["epochs"])]
    return {"layers": trusted.extract_layers(model), "history": history}


@scenario("e2e.train")
def train_end_to_end(
    component: str, init: dict[str, Any], layers: list[trusted.LayerSpec], x: np.ndarray, y: np.ndarray, training: dict[str, Any]
) -> dict[str, Any]:
    """The student's model, trained by the student's train_epoch."""
    model = build_model(component, init, layers)
    optimizer = seeded_optimizer(model, training)
    loader = trusted.make_loader(x, y, training["batch_size"], shuffle=True)
    train_epoch = student_object("train_epoch")
    history = [loop_result(train_epoch(model, loader, optimizer, nn.CrossEntropyLoss()), "train_epoch") for _ in range(training["epochs"])]
    return {"layers": trusted.extract_layers(model), "history": history}


def probe_net(state: dict[str, np.ndarray], shape: list[int]) -> trusted.ProbeNet:
    model = trusted.ProbeNet(*shape)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()}, strict=False)
    return model


def give_stale_gradients(model: nn.Module, gradients: dict[str, np.ndarray]) -> None:
    """Gradients in every parameter's .grad, as after an earlier epoch: the loop must clear them before its first backward."""
    for name, parameter in model.named_parameters():
        parameter.grad = torch.from_numpy(gradients[name].copy())


class RecordingSGD(torch.optim.SGD):
    """torch.optim.SGD that logs its calls into the shared event list."""

    def __init__(self, params: Any, events: list[dict[str, Any]], **options: Any) -> None:
        super().__init__(params, **options)
        self.events = events

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.events.append({"event": "zero_grad"})
        super().zero_grad(set_to_none)

    def step(self, closure: Any = None) -> Any:
        self.events.append({"event": "step"})
        return super().step(closure)


def record_backward(model: trusted.ProbeNet, events: list[dict[str, Any]]) -> None:
    """Log each backward pass, and whether gradients were clean when it began."""
    watched = model.output.weight

    def hook(grad: torch.Tensor) -> None:
        events.append({"event": "backward", "clean": watched.grad is None or not bool(watched.grad.any())})

    watched.register_hook(hook)


def logged(method: Callable[..., Any], event: str, events: list[dict[str, Any]]) -> Callable[..., Any]:
    """``method``, logging ``event`` in the event list at each call."""

    def call(*args: Any, **kwargs: Any) -> Any:
        events.append({"event": event})
        return method(*args, **kwargs)

    return call


@scenario("loop.train_epoch")
def loop_train_epoch(
    state: dict[str, np.ndarray], shape: list[int], x: np.ndarray, y: np.ndarray, batch_size: int, training: dict[str, Any],
    stale: dict[str, np.ndarray],
) -> dict[str, Any]:
    """The student's train_epoch on the grader's ProbeNet, started in eval mode with stale gradients."""
    model = probe_net(state, shape)
    model.eval()
    give_stale_gradients(model, stale)
    events: list[dict[str, Any]] = []
    record_backward(model, events)
    optimizer = RecordingSGD(model.parameters(), events, lr=training["lr"], momentum=training["momentum"])
    model.forward = logged(model.forward, "forward", events)  # type: ignore[method-assign]
    model.zero_grad = logged(model.zero_grad, "zero_grad", events)  # type: ignore[method-assign]
    result = student_object("train_epoch")(model, trusted.make_loader(x, y, batch_size), optimizer, nn.CrossEntropyLoss(), device="cpu")
    return {"result": loop_result(result, "train_epoch"), "state": trusted.state_arrays(model), "calls": model.calls, "events": events}


@scenario("loop.validate")
def loop_validate(state: dict[str, np.ndarray], shape: list[int], x: np.ndarray, y: np.ndarray, batch_size: int) -> dict[str, Any]:
    """The student's validate on the grader's ProbeNet, started in training mode."""
    model = probe_net(state, shape)
    model.train()
    result = student_object("validate")(model, trusted.make_loader(x, y, batch_size), nn.CrossEntropyLoss(), device="cpu")
    return {
        "result": loop_result(result, "validate"),
        "state": trusted.state_arrays(model),
        "calls": model.calls,
        "grads_created": [name for name, p in model.named_parameters() if p.grad is not None],
    }


def best_time(step: Callable[[], Any], min_seconds: float, max_runs: int = 50) -> tuple[float, Any]:
    """The fastest of at least 3 runs of ``step`` (more until ``min_seconds`` are spent), and its last result."""
    best, spent, runs, result = float("inf"), 0.0, 0, None
    while runs < 3 or (spent < min_seconds and runs < max_runs):
        began = time.perf_counter()
        result = step()
        elapsed = time.perf_counter() - began
        best, spent, runs = min(best, elapsed), spent + elapsed, runs + 1
    return best, result


@scenario("speed.conv")
def conv_speed(init: dict[str, Any], params: dict[str, np.ndarray], x: np.ndarray, dout: np.ndarray, min_seconds: float) -> dict[str, Any]:
    """The student's Conv2D and torch's conv2d, forward then backward on the same arrays, timed in this process.

    For the leaderboard only: the judge checks the outputs and divides the times.
    """
    layer = build_layer("conv", init, params)

    def student_step() -> tuple[Any, Any]:
        return layer.forward(x.copy()), layer.backward(dout.copy())

    tensors = {"x": torch.from_numpy(x), "weight": torch.from_numpy(params["weight"]), "bias": torch.from_numpy(params["bias"])}
    grad_out = torch.from_numpy(dout)

    def torch_step() -> None:
        leaves = {name: value.clone().requires_grad_() for name, value in tensors.items()}
        out = torch.nn.functional.conv2d(leaves["x"], leaves["weight"], leaves["bias"], stride=init["stride"], padding=init["padding"])
        out.backward(grad_out)

    student_seconds, (out, dx) = best_time(student_step, min_seconds)
    torch_seconds, _ = best_time(torch_step, min_seconds)
    return {"out": plain_array(out, "forward"), "dx": plain_array(dx, "backward"), "student_seconds": student_seconds, "torch_seconds": torch_seconds}
