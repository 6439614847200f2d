"""Provided helpers: a layer container and the softmax cross-entropy loss."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class Sequential:
    """Chains layers that follow the ``forward(x)`` / ``backward(dout)`` contract."""

    def __init__(self, layers: Sequence[Any]) -> None:
        """Creates the container.

        Args:
            layers: Layers in the order the data flows through them.
        """
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Runs ``x`` through every layer and returns the last output."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagates ``dout`` through the layers in reverse order.

        Each layer stores its parameter gradients on the way; the gradient
        w.r.t. the network input is returned.
        """
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits), like ``torch.nn.CrossEntropyLoss``.

    Args:
        logits: Scores, shape ``(N, num_classes)``.
        labels: Integer class labels, shape ``(N,)``.

    Returns:
        ``(loss, dlogits)``: the mean loss over the batch and its gradient
        w.r.t. ``logits``, ``(softmax(logits) - one_hot(labels)) / N``.
    """
    rows = np.arange(len(labels))
    # Subtracting the row maximum leaves softmax unchanged and avoids overflow in exp.
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1.0
    return float(loss), dlogits / len(labels)
