"""2-D max pooling layer."""

from __future__ import annotations

import numpy as np

# BEGIN SOLUTION
# Instead of looping over the windows, the layer loops over the ``k * k``
# positions inside a window and handles all windows of the batch at once.
# Windows overlap when ``stride < kernel_size``; their gradients then add up.
from numpy.lib.stride_tricks import as_strided


def _window_offsets(x: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """Views a batch as its pooling windows, window offsets first, without copying.

    Args:
        x: Images, shape ``(N, C, H, W)``.
        kernel_size: Window size ``k``.
        stride: Step between neighbouring windows.

    Returns:
        View of shape ``(k, k, N, C, H_out, W_out)`` whose entry
        ``[i, j, n, c, h, w]`` is ``x[n, c, h * stride + i, w * stride + j]``:
        ``view[i, j]`` holds element ``(i, j)`` of every window at once. It is
        writeable when ``x`` is; each ``view[i, j]`` touches distinct elements.
    """
    batch, channels, height, width = x.shape
    s_n, s_c, s_h, s_w = x.strides
    h_out = (height - kernel_size) // stride + 1
    w_out = (width - kernel_size) // stride + 1
    return as_strided(
        x,
        shape=(kernel_size, kernel_size, batch, channels, h_out, w_out),
        strides=(s_h, s_w, s_n, s_c, s_h * stride, s_w * stride),
    )
# END SOLUTION


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
        # BEGIN SOLUTION
        self._cache: tuple[tuple[int, ...], np.ndarray] | None = None
        # END SOLUTION

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
        # BEGIN SOLUTION maxpool
        k = self.kernel_size
        windows = _window_offsets(x, k, self.stride)
        out = windows[0, 0].copy()
        # argmax[n, c, h, w] is the flat offset i * k + j of the window's maximum.
        # int16 keeps the passes cheap and holds offsets of windows up to 181 x 181.
        argmax = np.zeros(out.shape, dtype=np.int16)
        for offset in range(1, k * k):
            # Element (i, j) of every window, copied to contiguous memory once:
            # the passes below run several times faster than on the strided view.
            candidate = np.ascontiguousarray(windows[np.unravel_index(offset, (k, k))])
            # Strict '>' keeps the first maximum on ties, as torch does.
            better = candidate > out
            np.maximum(out, candidate, out=out)
            # Branch-free "argmax[better] = offset", several times faster.
            argmax += better * (offset - argmax)
        self._cache = (x.shape, argmax)
        return out
        # END SOLUTION

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
        # BEGIN SOLUTION maxpool
        x_shape, argmax = self._cache
        k = self.kernel_size
        dx = np.zeros(x_shape, dtype=dout.dtype)
        dx_windows = _window_offsets(dx, k, self.stride)
        for offset in range(k * k):
            # This offset's share: dout where it held the maximum, 0 elsewhere.
            grad = dout * (argmax == offset)
            i, j = np.unravel_index(offset, (k, k))
            if self.stride >= k:
                # Disjoint windows: each input element gets at most one gradient.
                dx_windows[i, j] = grad
            else:
                # Overlapping windows: an element that is the maximum of several
                # windows collects all their gradients.
                dx_windows[i, j] += grad
        return dx
        # END SOLUTION
