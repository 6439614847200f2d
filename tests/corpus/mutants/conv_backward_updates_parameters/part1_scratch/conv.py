"""Conv2D with a loop over output positions; each position is one tensordot over (C_in, k, k)."""
import numpy as np


class Conv2D:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        bound = 1.0 / np.sqrt(in_channels * kernel_size * kernel_size)
        self.weight = np.random.uniform(-bound, bound, (out_channels, in_channels, kernel_size, kernel_size))
        self.bias = np.random.uniform(-bound, bound, out_channels)
        self.dw = np.zeros_like(self.weight)
        self.db = np.zeros_like(self.bias)
        self.x_pad = None

    def forward(self, x):
        N, C, H, W = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        H_out = (H + 2 * p - k) // s + 1
        W_out = (W + 2 * p - k) // s + 1
        self.x_shape = x.shape
        self.x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
        out = np.zeros((N, self.out_channels, H_out, W_out))
        for h in range(H_out):
            for w in range(W_out):
                window = self.x_pad[:, :, h * s:h * s + k, w * s:w * s + k]  # (N, C, k, k)
                out[:, :, h, w] = np.tensordot(window, self.weight, axes=([1, 2, 3], [1, 2, 3])) + self.bias
        return out

    def backward(self, dout):
        N, C, H, W = self.x_shape
        k, s, p = self.kernel_size, self.stride, self.padding
        _, _, H_out, W_out = dout.shape
        dx_pad = np.zeros_like(self.x_pad)
        self.dw = np.zeros_like(self.weight)
        self.db = dout.sum(axis=(0, 2, 3))
        for h in range(H_out):
            for w in range(W_out):
                window = self.x_pad[:, :, h * s:h * s + k, w * s:w * s + k]
                g = dout[:, :, h, w]  # (N, C_out)
                self.dw += np.tensordot(g, window, axes=([0], [0]))
                dx_pad[:, :, h * s:h * s + k, w * s:w * s + k] += np.tensordot(g, self.weight, axes=([1], [0]))
        self.weight -= self.dw
        self.bias -= self.db
        return dx_pad[:, :, p:p + H, p:p + W]
