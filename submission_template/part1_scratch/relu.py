"""Rectified linear unit."""

from __future__ import annotations

import numpy as np


class ReLU:
    """Elementwise ``max(x, 0)``.

    ``forward`` may store on ``self`` whatever ``backward`` needs.
    """

    def __init__(self) -> None:
        """Creates the layer (provided); it has no parameters."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Applies ``max(x, 0)``.

        Args:
            x: Input of any shape.

        Returns:
            Array of the same shape.
        """
        # TODO: Task relu.
        raise NotImplementedError("Task relu: implement ReLU.forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Passes the gradient where the input was positive, zero elsewhere.

        Args:
            dout: Gradient w.r.t. the output, same shape as the input.

        Returns:
            Gradient w.r.t. the input: ``dout * (x > 0)``.

        Hint:
            Remember a boolean mask of the positive inputs in ``forward``.
        """
        # TODO: Task relu.
        raise NotImplementedError("Task relu: implement ReLU.backward")
