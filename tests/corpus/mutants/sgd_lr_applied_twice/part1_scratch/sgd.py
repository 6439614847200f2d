"""Stochastic gradient descent with momentum and weight decay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

# (parameter attribute, gradient attribute) of a layer with parameters.
_PARAMETERS = (("weight", "dw"), ("bias", "db"))


class SGD:
    """SGD with exactly the update of ``torch.optim.SGD`` (no dampening, no Nesterov).

    For every parameter ``p`` with gradient ``grad``::

        g = grad + weight_decay * p
        v = momentum * v + g        (v = g on the first step)
        p = p - lr * v
    """

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
        # One velocity per parameter, in a dict per layer, parallel to `layers`.
        self._velocities: list[dict[str, np.ndarray]] = [{} for _ in self.layers]

    def step(self) -> None:
        """Updates every parameter once from the gradients the layers hold now."""
        for layer, velocities in zip(self.layers, self._velocities):
            if not (hasattr(layer, "weight") and hasattr(layer, "bias")):
                continue
            for name, grad_name in _PARAMETERS:
                param = getattr(layer, name)
                g = self.lr * (getattr(layer, grad_name) + self.weight_decay * param)
                if self.momentum:
                    # The velocity starts as g itself, as in torch (not as 0).
                    if name in velocities:
                        g = self.momentum * velocities[name] + g
                    velocities[name] = g
                # A new array rather than an in-place update, so arrays that
                # the caller still holds are left alone.
                setattr(layer, name, param - self.lr * g)
