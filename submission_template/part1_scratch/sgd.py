"""Stochastic gradient descent with momentum and weight decay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SGD:
    """SGD with exactly the update of ``torch.optim.SGD`` (no dampening, no Nesterov)."""

    def __init__(
        self,
        layers: Sequence[Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        """Creates the optimizer.

        Args:
            layers: Layers to update. Those with ``weight`` and ``bias``
                attributes are updated from their ``dw`` and ``db``; the
                others are skipped.
            lr: Learning rate.
            momentum: Momentum factor; 0 gives plain SGD.
            weight_decay: L2 penalty factor, applied to weights and biases.
        """
        self.layers = list(layers)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        # TODO: Task sgd: add the state that step() keeps between calls.

    def step(self) -> None:
        """Updates every parameter once from the gradients the layers hold now.

        For every layer with ``weight`` and ``bias`` attributes, and for each
        parameter ``p`` of it (``weight`` with gradient ``dw``, ``bias`` with
        gradient ``db``)::

            g = grad + weight_decay * p
            v = momentum * v + g        (v = g on the first step)
            p = p - lr * v

        Hint:
            These are the semantics of ``torch.optim.SGD(params, lr, momentum,
            dampening=0, weight_decay, nesterov=False)``. Keep one velocity
            ``v`` per parameter across calls. Read ``weight``, ``bias``, ``dw``
            and ``db`` from the layers on every call: they may be replaced
            between steps. Decide which layers to update with ``hasattr``,
            not by their class.
        """
        # TODO: Task sgd.
        raise NotImplementedError("Task sgd: implement SGD.step")
