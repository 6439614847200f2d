"""Inputs and the grader's replay for the train_epoch / validate tests.

The student's loop runs on the grader's ProbeNet (BatchNorm makes train and eval
mode give different results), started with stale gradients. Each test states
one property: the mode and call-order tests read what the worker observed; the
parameter, loss and accuracy tests compare with a replay on an identical copy
that makes the student's own calls (zero_grad, forward, backward, step, in the
student's order) in the mode each forward saw. A missing model.train() or a late
zero_grad then fails its own test only. When the calls cannot be replayed (not
one forward and at most one backward per batch), the replay is the contract's
loop and the messages say that the values follow from those calls.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..worker.runtime import trusted

SHAPE = [6, 8, 3]  # features, hidden units, classes
SAMPLES, BATCH = 22, 8  # batches of 8, 8 and a short 6
TRAINING = {"lr": 0.1, "momentum": 0.9}
CALL = f"{{function}}(ProbeNet, a DataLoader of {SAMPLES} samples in batches of {BATCH}, 8 and 6, {{rest}}nn.CrossEntropyLoss())"


def inputs() -> dict[str, Any]:
    """ProbeNet's state (with non-trivial BatchNorm statistics) and the data."""
    torch.manual_seed(3)
    model = trusted.ProbeNet(*SHAPE)
    rng = np.random.default_rng(3)
    with torch.no_grad():
        model.norm.running_mean.copy_(torch.from_numpy(rng.standard_normal(SHAPE[1]).astype(np.float32)))
        model.norm.running_var.copy_(torch.from_numpy(rng.uniform(0.5, 2.0, SHAPE[1]).astype(np.float32)))
    x = rng.standard_normal((SAMPLES, SHAPE[0])).astype(np.float32)
    y = rng.integers(0, SHAPE[2], SAMPLES).astype(np.int64)
    return {"state": trusted.state_arrays(model), "shape": SHAPE, "x": x, "y": y, "batch_size": BATCH}


def stale_gradients() -> dict[str, np.ndarray]:
    """What an earlier epoch leaves in every parameter's .grad when train_epoch is called."""
    rng = np.random.default_rng(5)
    return {name: rng.standard_normal(p.shape).astype(np.float32) for name, p in trusted.ProbeNet(*SHAPE).named_parameters()}


def _model(state: dict[str, np.ndarray]) -> trusted.ProbeNet:
    model = trusted.ProbeNet(*SHAPE)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()}, strict=False)
    return model


@dataclass
class Replay:
    """What the replayed loop returns and leaves; ``caveat`` says why it is the contract's loop rather than the student's calls."""

    loss: float
    accuracy: float
    state: dict[str, np.ndarray]
    caveat: str = ""

    def lines(self) -> list[str]:
        return [f"  {self.caveat}; the expected values below are the contract's loop"] if self.caveat else []


class Totals:
    """Per-sample loss and accuracy over the batches a loop has seen."""

    def __init__(self) -> None:
        self.loss, self.correct, self.seen = 0.0, 0, 0

    def add(self, outputs: torch.Tensor, loss: torch.Tensor, targets: torch.Tensor) -> None:
        self.loss += loss.item() * len(targets)
        self.correct += int((outputs.argmax(dim=1) == targets).sum().item())
        self.seen += len(targets)


def _batches(case: dict[str, Any]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return list(trusted.make_loader(case["x"], case["y"], BATCH))


def irregular_calls(events: list[dict[str, Any]], batches: int) -> str:
    """Why the student's calls cannot be replayed batch by batch; empty when they can."""
    kinds = [event["event"] for event in events]
    if kinds.count("forward") != batches:
        return f"your loop ran the model's forward {kinds.count('forward')} times for {batches} batches"
    groups = " ".join(kinds).split("forward")[1:]
    if any(group.split().count("backward") > 1 for group in groups):
        return "your loop ran backward more than once after one forward"
    return ""


def replay_train_epoch(case: dict[str, Any], events: list[dict[str, Any]], modes: list[bool]) -> Replay:
    """The student's calls, in the student's order and modes, with the contract's loss; else the contract's loop."""
    batches = _batches(case)
    caveat = irregular_calls(events, len(batches))
    if caveat:
        events = [{"event": kind} for _ in batches for kind in ("zero_grad", "forward", "backward", "step")]
        modes = [True] * len(batches)
    model = _model(case["state"])
    for name, parameter in model.named_parameters():
        parameter.grad = torch.from_numpy(case["stale"][name].copy())
    optimizer = torch.optim.SGD(model.parameters(), **TRAINING)
    criterion, totals, loss = nn.CrossEntropyLoss(), Totals(), None
    remaining = iter(zip(batches, modes))
    for event in events:
        if event["event"] == "forward":
            (inputs, targets), training = next(remaining)
            model.train(training)
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            totals.add(outputs, loss, targets)
        elif event["event"] == "backward" and loss is not None:
            loss.backward()
        elif event["event"] == "step":
            optimizer.step()
        elif event["event"] == "zero_grad":
            optimizer.zero_grad()
    return Replay(totals.loss / totals.seen, totals.correct / totals.seen, trusted.state_arrays(model), caveat)


def replay_validate(case: dict[str, Any], modes: list[bool]) -> Replay:
    """The contract's validate, each forward in the mode the student's forward saw (eval mode when they do not pair up)."""
    batches = _batches(case)
    caveat = "" if len(modes) == len(batches) else f"your validate ran the model's forward {len(modes)} times for {len(batches)} batches"
    model, criterion, totals = _model(case["state"]), nn.CrossEntropyLoss(), Totals()
    with torch.no_grad():
        for (inputs, targets), training in zip(batches, [False] * len(batches) if caveat else modes):
            model.train(training)
            outputs = model(inputs)
            totals.add(outputs, criterion(outputs, targets), targets)
    return Replay(totals.loss / totals.seen, totals.correct / totals.seen, trusted.state_arrays(model), caveat)


def parameter_names() -> list[str]:
    return [name for name, _ in trusted.ProbeNet(*SHAPE).named_parameters()]
