"""The grader's own PyTorch pieces, used by the worker AND by the judge.

Scenarios use them so that a test of one student component never depends on
another (the student's models train under this loop; the student's loop trains
``ProbeNet``); the judge uses them to compute what is expected.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from .provenance import refuse_student_callers

LayerSpec = dict[str, Any]  # {"type": "Linear" | "Conv2d", "weight": ndarray, "bias": ndarray}
PARAMETRIC_TYPES = {"Linear": nn.Linear, "Conv2d": nn.Conv2d}


class GraderTwoLayerNet(nn.Module):
    def __init__(self, input_dim: int, hidden_size: int, num_classes: int) -> None:
        refuse_student_callers("GraderTwoLayerNet")
        super().__init__()
        self.hidden = nn.Linear(input_dim, hidden_size)
        self.output = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        refuse_student_callers("GraderTwoLayerNet")
        return self.output(torch.sigmoid(self.hidden(x.flatten(1))))


class GraderVanillaCNN(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> None:
        refuse_student_callers("GraderVanillaCNN")
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 32, kernel_size=7, stride=1, padding=0)
        self.pool = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(32 * ((image_size - 6) // 2) ** 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        refuse_student_callers("GraderVanillaCNN")
        return self.fc(self.pool(torch.relu(self.conv(x))).flatten(1))


GRADER_MODELS: dict[str, Callable[..., nn.Module]] = {"twolayer": GraderTwoLayerNet, "vanilla_cnn": GraderVanillaCNN}


class ProbeNet(nn.Module):
    """A small net whose output depends on train/eval mode (BatchNorm).

    It records, for every forward call, the mode and whether autograd was on,
    so that loop tests can say what the student's loop did.
    """

    def __init__(self, features: int, hidden: int, classes: int) -> None:
        super().__init__()
        self.hidden = nn.Linear(features, hidden)
        self.norm = nn.BatchNorm1d(hidden)
        self.output = nn.Linear(hidden, classes)
        self.calls: list[dict[str, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append({"training": self.training, "grad_enabled": torch.is_grad_enabled()})
        return self.output(torch.relu(self.norm(self.hidden(x))))


def layer_kind(module: nn.Module) -> str | None:
    """"Linear" or "Conv2d" for those modules and their subclasses, else None."""
    return next((name for name, cls in PARAMETRIC_TYPES.items() if isinstance(module, cls)), None)


def parametric_layers(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if layer_kind(m)]


def describe_layers(model: nn.Module) -> str:
    return ", ".join(f"nn.{layer_kind(m)}{tuple(m.weight.shape)}" for m in parametric_layers(model)) or "none"


def assign_layers(model: nn.Module, specs: list[LayerSpec]) -> None:
    """Copy each spec's weight and bias into the module of that type and weight shape."""
    free = parametric_layers(model)
    for spec in specs:
        match = next((m for m in free if layer_kind(m) == spec["type"] and tuple(m.weight.shape) == spec["weight"].shape), None)
        if match is None or match.bias is None:
            raise LookupError(
                f"expected an nn.{spec['type']} with weight of shape {spec['weight'].shape} and a bias; "
                f"the model has: {describe_layers(model)}"
            )
        free.remove(match)
        with torch.no_grad():
            match.weight.copy_(torch.from_numpy(spec["weight"]))
            match.bias.copy_(torch.from_numpy(spec["bias"]))


def extract_layers(model: nn.Module) -> list[LayerSpec]:
    return [
        {"type": layer_kind(m), "weight": m.weight.detach().numpy().copy(), "bias": m.bias.detach().numpy().copy()}
        for m in parametric_layers(model)
        if m.bias is not None
    ]


def state_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: tensor.detach().numpy().copy() for name, tensor in model.state_dict().items() if tensor.is_floating_point()}


def make_loader(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool = False) -> torch.utils.data.DataLoader:
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=shuffle)


def reference_train_epoch(model: nn.Module, loader: Any, optimizer: torch.optim.Optimizer, criterion: nn.Module) -> tuple[float, float]:
    """The grader's training loop: the contract, line by line."""
    refuse_student_callers("training loop")
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, targets in loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(targets)
        correct += (outputs.argmax(dim=1) == targets).sum().item()
        seen += len(targets)
    return total_loss / seen, correct / seen


def reference_validate(model: nn.Module, loader: Any, criterion: nn.Module) -> tuple[float, float]:
    refuse_student_callers("validation loop")
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            outputs = model(inputs)
            total_loss += criterion(outputs, targets).item() * len(targets)
            correct += (outputs.argmax(dim=1) == targets).sum().item()
            seen += len(targets)
    return total_loss / seen, correct / seen


def logits_of(model: nn.Module, x: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()
