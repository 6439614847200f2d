"""Conv2D that computes in float32 (half the memory, faster matmuls) and returns float32."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class Conv2D:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        fan_in = in_channels * kernel_size * kernel_size
        self.weight = (np.random.randn(out_channels, in_channels, kernel_size, kernel_size) / np.sqrt(fan_in)).astype(np.float32)
        self.bias = np.zeros(out_channels, dtype=np.float32)

    def forward(self, x):
        x = x.astype(np.float32)
        p, s = self.padding, self.stride
        self.x_shape = x.shape
        self.x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        # (N, C, H_out, W_out, k, k) after taking every s-th window
        win = sliding_window_view(self.x_pad, (self.kernel_size, self.kernel_size), axis=(2, 3))[:, :, ::s, ::s]
        self.win = win
        w = self.weight.astype(np.float32)
        out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H_out, W_out, F)
        out = out.transpose(0, 3, 1, 2) + self.bias.astype(np.float32)[None, :, None, None]
        return out.astype(np.float32)

    def backward(self, dout):
        dout = dout.astype(np.float32)
        k, s, p = self.kernel_size, self.stride, self.padding
        w = self.weight.astype(np.float32)
        self.db = dout.sum(axis=(0, 2, 3))
        self.dw = np.tensordot(dout, self.win, axes=([0, 2, 3], [0, 2, 3]))  # (F, C, k, k)
        N, F, H_out, W_out = dout.shape
        dx_pad = np.zeros(self.x_pad.shape, dtype=np.float32)
        for i in range(k):
            for j in range(k):
                # (N, C, H_out, W_out) gradient of the pixels under kernel offset (i, j)
                part = np.tensordot(dout, w[:, :, i, j], axes=([1], [0])).transpose(0, 3, 1, 2)
                dx_pad[:, :, i:i + s * H_out:s, j:j + s * W_out:s] += part
        H, W = self.x_shape[2:]
        return dx_pad[:, :, p:p + H, p:p + W]
