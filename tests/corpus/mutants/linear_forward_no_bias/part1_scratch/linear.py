"""Fully connected layer."""

from __future__ import annotations

import numpy as np


class Linear:
    """Affine map ``x @ weight.T + bias`` on each flattened sample, like ``torch.nn.Linear``.

    Attributes:
        weight: Shape ``(out_features, in_features)``.
        bias: Shape ``(out_features,)``.
        dw: Gradient of the loss w.r.t. ``weight`` after ``backward``.
        db: Gradient of the loss w.r.t. ``bias`` after ``backward``.
    """

    def __init__(
        self, in_features: int, out_features: int, *, rng: np.random.Generator | None = None
    ) -> None:
        """Creates the layer with torch's default initialisation.

        Args:
            in_features: Size of one flattened input sample.
            out_features: Number of outputs per sample.
            rng: Random generator for the initial parameters (a fresh,
                unseeded one when omitted).
        """
        self.in_features = in_features
        self.out_features = out_features
        rng = np.random.default_rng() if rng is None else rng
        # torch's default (Kaiming-uniform with a = sqrt(5)) is U(-b, b), b = 1/sqrt(fan_in).
        bound = 1.0 / np.sqrt(in_features)
        self.weight = rng.uniform(-bound, bound, (out_features, in_features))
        self.bias = rng.uniform(-bound, bound, out_features)
        self.dw = np.zeros_like(self.weight)
        self.db = np.zeros_like(self.bias)
        self._cache: tuple[tuple[int, ...], np.ndarray, np.ndarray] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Applies the affine map.

        Args:
            x: Input, shape ``(N, ...)`` with ``in_features`` values per sample
                (e.g. ``(N, C, H, W)`` feature maps).

        Returns:
            Output, shape ``(N, out_features)``, in the dtype of ``x``.
        """
        x_flat = x.reshape(x.shape[0], -1)
        # Compute in the input's dtype: float32 in gives float32 out.
        weight = self.weight.astype(x.dtype, copy=False)
        self._cache = (x.shape, x_flat, weight)
        return x_flat @ weight.T

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagates through the last ``forward`` call.

        Sets ``dw = dout.T @ x_flat`` and ``db = dout.sum(0)``.

        Args:
            dout: Gradient w.r.t. the output, shape ``(N, out_features)``.

        Returns:
            Gradient w.r.t. the input, in the input's original shape.
        """
        x_shape, x_flat, weight = self._cache
        self.dw = dout.T @ x_flat
        self.db = dout.sum(axis=0)
        return (dout @ weight).reshape(x_shape)
