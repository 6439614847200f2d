"""Rectified linear unit."""

from __future__ import annotations

import numpy as np


class ReLU:
    """Elementwise ``max(x, 0)``.

    ``forward`` may store on ``self`` whatever ``backward`` needs.
    """

    def __init__(self) -> None:
        """Creates the layer (provided); it has no parameters."""
        # BEGIN SOLUTION
        self._mask: np.ndarray | None = None
        # END SOLUTION

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Applies ``max(x, 0)``.

        Args:
            x: Input of any shape.

        Returns:
            Array of the same shape.
        """
        # BEGIN SOLUTION relu
        self._mask = x > 0
        return np.maximum(x, 0)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Passes the gradient where the input was positive, zero elsewhere.

        Args:
            dout: Gradient w.r.t. the output, same shape as the input.

        Returns:
            Gradient w.r.t. the input: ``dout * (x > 0)``.

        Hint:
            Remember a boolean mask of the positive inputs in ``forward``.
        """
        # BEGIN SOLUTION relu
        return dout * self._mask
        # END SOLUTION
