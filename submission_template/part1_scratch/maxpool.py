"""2-D max pooling layer."""

from __future__ import annotations

import numpy as np


class MaxPool2D:
    """Max pooling without padding, like ``torch.nn.functional.max_pool2d``.

    ``forward`` may store on ``self`` whatever ``backward`` needs.
    """

    def __init__(self, kernel_size: int, stride: int | None = None) -> None:
        """Creates the layer (provided).

        Args:
            kernel_size: Side ``k`` of the square window.
            stride: Step between windows; defaults to ``kernel_size``.
        """
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Takes the maximum of every window.

        ``out[n, c, h, w] = max_{i, j} x[n, c, h * stride + i, w * stride + j]``
        for ``0 <= i, j < k``.

        Args:
            x: Images, shape ``(N, C, H, W)``.

        Returns:
            Maxima, shape ``(N, C, H_out, W_out)`` with
            ``H_out = (H - k) // stride + 1`` and ``W_out = (W - k) // stride + 1``.

        Hint:
            View the windows with ``np.lib.stride_tricks.as_strided`` as in
            ``Conv2D`` (shape ``(N, C, H_out, W_out, k, k)``), reshape them to
            ``(..., k * k)`` and keep ``argmax`` over the last axis for
            ``backward``; ``np.unravel_index(argmax, (k, k))`` turns it into the
            row and column ``(i, j)`` inside the window.
        """
        # TODO: Task maxpool.
        raise NotImplementedError("Task maxpool: implement MaxPool2D.forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Routes each window's gradient to the element that was its maximum.

        Args:
            dout: Gradient w.r.t. the output, shape ``(N, C, H_out, W_out)``.

        Returns:
            Gradient w.r.t. the input, shape ``(N, C, H, W)``; elements that
            were never a maximum get zero.

        Hint:
            The maximum of window ``(h, w)`` sits at input position
            ``(h * stride + i, w * stride + j)``. When ``stride < kernel_size``
            windows overlap and one element can be the maximum of several
            windows: its gradients must add up. Plain fancy-index assignment
            keeps only one of them; ``np.add.at`` accumulates.
        """
        # TODO: Task maxpool.
        raise NotImplementedError("Task maxpool: implement MaxPool2D.backward")
