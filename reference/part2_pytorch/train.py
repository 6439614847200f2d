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
        model: The network.
        loader: Yields ``(inputs, targets)`` batches.
        optimizer: Updates the model's parameters after every batch.
        criterion: Loss returning the batch mean, e.g. ``nn.CrossEntropyLoss()``.
        device: Where each batch is moved before the forward pass.

    Returns:
        ``(mean_loss, accuracy)``: the mean loss per sample over the epoch
        (each batch's mean loss weighted by its batch size) and the fraction,
        in [0, 1], of samples whose ``argmax`` output equals the target. Take
        the predictions from each batch's forward pass, before its update.

    Hint:
        Call ``model.train()`` first. For every batch: move inputs and
        targets with ``.to(device)``, ``optimizer.zero_grad()``, forward,
        ``criterion(outputs, targets)``, ``loss.backward()``,
        ``optimizer.step()``. Accumulate with ``loss.item()``.
    """
    # BEGIN SOLUTION train_epoch
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
        correct += int((outputs.argmax(dim=1) == targets).sum())
        count += len(targets)
    return total_loss / count, correct / count
    # END SOLUTION


def validate(
    model: nn.Module,
    loader: Batches,
    criterion: Criterion,
    device: str | torch.device = "cpu",
) -> tuple[float, float]:
    """Evaluates ``model`` on every batch of ``loader`` without changing it.

    Args:
        model: The network.
        loader: Yields ``(inputs, targets)`` batches.
        criterion: Loss returning the batch mean, e.g. ``nn.CrossEntropyLoss()``.
        device: Where each batch is moved before the forward pass.

    Returns:
        ``(mean_loss, accuracy)`` over all samples, computed as in
        ``train_epoch``.

    Hint:
        Call ``model.eval()`` (dropout and batch norm behave differently when
        evaluating) and run the loop under ``torch.no_grad()``: no gradients,
        no optimizer, no parameter changes.
    """
    # BEGIN SOLUTION validate
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
    # END SOLUTION
