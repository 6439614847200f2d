"""Inputs and the grader's replay for the train_epoch / validate tests.

The student's loop runs on the grader's ProbeNet (BatchNorm makes train and eval
mode give different results); the judge replays the contract's loop on an
identical copy and compares.
"""
from __future__ import annotations

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


def _model(state: dict[str, np.ndarray]) -> trusted.ProbeNet:
    model = trusted.ProbeNet(*SHAPE)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()}, strict=False)
    return model


def replay_train_epoch(case: dict[str, Any]) -> tuple[tuple[float, float], dict[str, np.ndarray]]:
    model = _model(case["state"])
    optimizer = torch.optim.SGD(model.parameters(), **TRAINING)
    result = trusted.reference_train_epoch(model, trusted.make_loader(case["x"], case["y"], BATCH), optimizer, nn.CrossEntropyLoss())
    return result, trusted.state_arrays(model)


def replay_validate(case: dict[str, Any]) -> tuple[float, float]:
    return trusted.reference_validate(_model(case["state"]), trusted.make_loader(case["x"], case["y"], BATCH), nn.CrossEntropyLoss())


def parameter_names() -> list[str]:
    return [name for name, _ in trusted.ProbeNet(*SHAPE).named_parameters()]
