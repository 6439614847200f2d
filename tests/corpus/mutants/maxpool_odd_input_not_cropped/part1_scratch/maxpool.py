"""MaxPool2D: the reshape trick for non-overlapping windows, a loop over window positions otherwise."""
import numpy as np


class MaxPool2D:
    def __init__(self, kernel_size, stride=None):
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        N, C, H, W = x.shape
        k, s = self.kernel_size, self.stride
        H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
        self.x = x
        self.fast = s == k
        if self.fast:
            # Drop the rows/columns no window covers, then split each axis into (window, offset).
            x_blocks = x.reshape(N, C, H_out, k, W_out, k)
            out = x_blocks.max(axis=(3, 5))
            self.mask = x_blocks == out[:, :, :, None, :, None]
            return out
        out = np.zeros((N, C, H_out, W_out))
        for i in range(H_out):
            for j in range(W_out):
                out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
        self.out = out
        return out

    def backward(self, dout):
        N, C, H, W = self.x.shape
        k, s = self.kernel_size, self.stride
        H_out, W_out = dout.shape[2:]
        dx = np.zeros_like(self.x)
        if self.fast:
            d_blocks = self.mask * dout[:, :, :, None, :, None]
            dx[:, :, :H_out * k, :W_out * k] = d_blocks.reshape(N, C, H_out * k, W_out * k)
            return dx
        for i in range(H_out):
            for j in range(W_out):
                window = self.x[:, :, i * s:i * s + k, j * s:j * s + k]
                mask = window == self.out[:, :, i, j][:, :, None, None]
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dout[:, :, i, j][:, :, None, None]
        return dx
