"""Training and validation loops for one epoch."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn

Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]
Criterion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def train_epoch(
    model: nn.Module,
    loader: Batches,
    optimizer: torch.optim.Optimizer,
    criterion: Criterion,
    device: str | torch.device = "cpu",
) -> tuple[float, float]:
    """Trains ``model`` for one pass over ``loader``.

    Args:
        model: The network; it is put in training mode.
        loader: Yields ``(inputs, targets)`` batches.
        optimizer: Updates the model's parameters after every batch.
        criterion: Loss returning the batch mean, e.g. ``nn.CrossEntropyLoss()``.
        device: Where the batches are moved before the forward pass.

    Returns:
        ``(mean_loss, accuracy)`` over all samples, each prediction taken from
        its batch's forward pass before that batch's update.
    """
    model.train()
    total_loss, correct, count = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        # The criterion averages over the batch; weighting by the batch size
        # makes a short last batch count for what it holds.
        total_loss += loss.item() * len(targets)
        correct += int((outputs.argmax(dim=0) == targets).sum())
        count += len(targets)
    return total_loss / count, correct / count


def validate(
    model: nn.Module,
    loader: Batches,
    criterion: Criterion,
    device: str | torch.device = "cpu",
) -> tuple[float, float]:
    """Evaluates ``model`` on every batch of ``loader`` without changing it.

    Args:
        model: The network; it is put in evaluation mode (this matters for
            layers such as dropout and batch norm).
        loader: Yields ``(inputs, targets)`` batches.
        criterion: Loss returning the batch mean, e.g. ``nn.CrossEntropyLoss()``.
        device: Where the batches are moved before the forward pass.

    Returns:
        ``(mean_loss, accuracy)`` over all samples.
    """
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    # No graph is recorded: nothing here will be backpropagated.
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = model(inputs)
            total_loss += criterion(outputs, targets).item() * len(targets)
            correct += int((outputs.argmax(dim=1) == targets).sum())
            count += len(targets)
    return total_loss / count, correct / count
