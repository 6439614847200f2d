"""2-D convolution (cross-correlation) layer."""

from __future__ import annotations

import numpy as np

# BEGIN SOLUTION
# The layer works internally on images in batch-last ``(C, H, W, N)`` layout.
# There, the values that one kernel offset ``(i, j)`` meets along an output
# row lie next to each other in memory (``W_out * N`` of them for stride 1),
# so the im2col copy in ``forward`` and the scatter-add in ``backward`` are a
# few long memory passes instead of many short ones, and the convolution
# itself is one matrix product.
from numpy.lib.stride_tricks import as_strided


def _windows(x: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """Views every ``k x k`` window of a batch-last image stack, without copying.

    Args:
        x: Padded images in ``(C, H, W, N)`` layout.
        kernel_size: Window size ``k``.
        stride: Step between neighbouring windows.

    Returns:
        Read-only view of shape ``(C, k, k, H_out, W_out, N)`` whose entry
        ``[c, i, j, h, w, n]`` is ``x[c, h * stride + i, w * stride + j, n]``.
    """
    channels, height, width, batch = x.shape
    s_c, s_h, s_w, s_n = x.strides
    h_out = (height - kernel_size) // stride + 1
    w_out = (width - kernel_size) // stride + 1
    return as_strided(
        x,
        shape=(channels, kernel_size, kernel_size, h_out, w_out, batch),
        # Moving one window right is `stride` pixels; moving inside it is one.
        strides=(s_c, s_h, s_w, s_h * stride, s_w * stride, s_n),
        writeable=False,
    )
# END SOLUTION


class Conv2D:
    """Cross-correlation with zero padding, like ``torch.nn.functional.conv2d``.

    ``forward`` may store on ``self`` whatever ``backward`` needs.

    Attributes:
        weight: Kernels, shape ``(C_out, C_in, k, k)``.
        bias: One bias per output channel, shape ``(C_out,)``.
        dw: Gradient of the loss w.r.t. ``weight``; set by ``backward``.
        db: Gradient of the loss w.r.t. ``bias``; set by ``backward``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        *,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Creates the layer with torch's default initialisation (provided, not graded).

        Args:
            in_channels: Number of input channels ``C_in``.
            out_channels: Number of output channels ``C_out``.
            kernel_size: Side ``k`` of the square kernel.
            stride: Step between neighbouring windows.
            padding: Zeros added on every side of the input.
            rng: Random generator for the initial parameters (a fresh,
                unseeded one when omitted).
        """
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        rng = np.random.default_rng() if rng is None else rng
        # torch's default (Kaiming-uniform with a = sqrt(5)) is U(-b, b), b = 1/sqrt(fan_in).
        bound = 1.0 / np.sqrt(in_channels * kernel_size * kernel_size)
        self.weight = rng.uniform(-bound, bound, (out_channels, in_channels, kernel_size, kernel_size))
        self.bias = rng.uniform(-bound, bound, out_channels)
        self.dw = np.zeros_like(self.weight)
        self.db = np.zeros_like(self.bias)
        # BEGIN SOLUTION
        self._cache: tuple[tuple[int, ...], np.ndarray, np.ndarray] | None = None
        # END SOLUTION

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Convolves a batch of images.

        With ``x_pad`` the input with ``padding`` zeros on each side of H and W::

            out[n, o, h, w] = bias[o] + sum_{c, i, j} weight[o, c, i, j]
                                        * x_pad[n, c, h * stride + i, w * stride + j]

        Args:
            x: Images, shape ``(N, C_in, H, W)``.

        Returns:
            Feature maps, shape ``(N, C_out, H_out, W_out)`` with
            ``H_out = (H + 2 * padding - k) // stride + 1`` and
            ``W_out = (W + 2 * padding - k) // stride + 1``.

        Hint:
            Loops are allowed, but a vectorised version is much faster. Pad with
            ``np.pad``. ``np.lib.stride_tricks.as_strided`` then views all windows
            without copying: if ``x_pad.strides == (s_n, s_c, s_h, s_w)``, the
            view with shape ``(N, C_in, H_out, W_out, k, k)`` and strides
            ``(s_n, s_c, s_h * stride, s_w * stride, s_h, s_w)`` holds
            ``x_pad[n, c, h * stride + i, w * stride + j]`` at ``[n, c, h, w, i, j]``
            (pass ``writeable=False``). Contract its ``(c, i, j)`` axes with
            ``weight`` (``np.tensordot`` or ``np.einsum``) and add the bias by
            broadcasting, ``bias[:, None, None]``.
        """
        # BEGIN SOLUTION conv
        batch = x.shape[0]
        pad = self.padding
        # Compute in the input's dtype: float32 in gives float32 out.
        weight = self.weight.astype(x.dtype, copy=False)
        # One copy does both the batch-last transpose and the zero padding.
        x_t = np.pad(x.transpose(1, 2, 3, 0), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        windows = _windows(x_t, self.kernel_size, self.stride)
        h_out, w_out = windows.shape[3:5]
        # im2col: one row per (c, i, j), one column per (h, w, n). This copies.
        cols = windows.reshape(-1, h_out * w_out * batch)
        out = weight.reshape(self.out_channels, -1) @ cols
        out = out.reshape(self.out_channels, h_out, w_out, batch).transpose(3, 0, 1, 2)
        out = np.ascontiguousarray(out)
        out += self.bias[:, None, None]
        self._cache = (x.shape, cols, weight)
        return out
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagates through the last ``forward`` call and sets ``dw`` and ``db``.

        ::

            db[o]          = sum_{n, h, w} dout[n, o, h, w]
            dw[o, c, i, j] = sum_{n, h, w} dout[n, o, h, w] * x_pad[n, c, h * stride + i, w * stride + j]
            dx_pad[n, c, h * stride + i, w * stride + j] += sum_o dout[n, o, h, w] * weight[o, c, i, j]

        and ``dx`` is ``dx_pad`` without the padding.

        Args:
            dout: Gradient w.r.t. the output, shape ``(N, C_out, H_out, W_out)``.

        Returns:
            Gradient w.r.t. the input ``x``, shape ``(N, C_in, H, W)``.

        Hint:
            ``dw`` is a ``np.tensordot`` of ``dout`` with the window view from
            ``forward``. For ``dx``, loop over the ``k * k`` kernel offsets
            ``(i, j)`` and add each one's share into the strided slice
            ``dx_pad[:, :, i:i + stride * H_out:stride, j:j + stride * W_out:stride]``.
            Windows overlap when ``stride < k``, so accumulate with ``+=``.
        """
        # BEGIN SOLUTION conv
        x_shape, cols, weight = self._cache
        # Batch-last like `cols`: (C_out, H_out, W_out, N).
        dout_t = np.ascontiguousarray(dout.transpose(1, 2, 3, 0), dtype=cols.dtype)
        self.db = dout.sum(axis=(0, 2, 3))
        self.dw = (dout_t.reshape(self.out_channels, -1) @ cols.T).reshape(weight.shape)
        return self._input_gradient(dout_t, weight, x_shape)
        # END SOLUTION

    # BEGIN SOLUTION
    def _input_gradient(
        self, dout_t: np.ndarray, weight: np.ndarray, x_shape: tuple[int, ...]
    ) -> np.ndarray:
        """Computes ``dx`` (col2im): each window sends gradient back to its pixels.

        Args:
            dout_t: Output gradient in ``(C_out, H_out, W_out, N)`` layout.
            weight: The kernels the forward pass used.
            x_shape: Shape ``(N, C_in, H, W)`` of the forward input.

        Returns:
            Gradient w.r.t. the input, shape ``(N, C_in, H, W)``.
        """
        batch, channels, height, width = x_shape
        k, s, pad = self.kernel_size, self.stride, self.padding
        dx_t = np.zeros((channels, height + 2 * pad, width + 2 * pad, batch), dout_t.dtype)
        _, h_out, w_out, _ = dout_t.shape
        dout_flat = dout_t.reshape(self.out_channels, -1)
        # rows[i] maps output gradients to the (j, c) inputs of kernel row i.
        rows = weight.transpose(2, 3, 1, 0).reshape(k, k * channels, self.out_channels)
        # One kernel row at a time keeps the temporary k times smaller than the
        # full column gradient, so it stays in cache.
        for i in range(k):
            grad = (rows[i] @ dout_flat).reshape(k, channels, h_out, w_out, batch)
            for j in range(k):
                # Window element (i, j) of output (h, w) is pixel (h*s + i, w*s + j).
                # Overlapping windows hit the same pixel: += adds their shares.
                dx_t[:, i : i + s * h_out : s, j : j + s * w_out : s] += grad[j]
        dx_t = dx_t[:, pad : pad + height, pad : pad + width]
        return np.ascontiguousarray(dx_t.transpose(3, 0, 1, 2))
    # END SOLUTION
