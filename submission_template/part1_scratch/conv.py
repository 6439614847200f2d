"""2-D convolution (cross-correlation) layer."""

from __future__ import annotations

import numpy as np


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
        # TODO: Task conv.
        raise NotImplementedError("Task conv: implement Conv2D.forward")

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
        # TODO: Task conv.
        raise NotImplementedError("Task conv: implement Conv2D.backward")
