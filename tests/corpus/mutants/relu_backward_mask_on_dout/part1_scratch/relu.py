"""Rectified linear unit."""

from __future__ import annotations

import numpy as np


class ReLU:
    """Elementwise ``max(x, 0)``."""

    def __init__(self) -> None:
        """Creates the layer; it has no parameters."""
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Applies ``max(x, 0)``.

        Args:
            x: Input of any shape.

        Returns:
            Array of the same shape and dtype.
        """
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Passes the gradient where the input was positive, zero elsewhere.

        Args:
            dout: Gradient w.r.t. the output, same shape as the input.

        Returns:
            Gradient w.r.t. the input.
        """
        return dout * (dout > 0)
