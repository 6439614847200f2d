"""Conv2D with plain scalar Python loops, the way the lecture's formula reads."""
import numpy as np


class Conv2D:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.weight = np.random.randn(out_channels, in_channels, kernel_size, kernel_size) * 0.1
        self.bias = np.zeros(out_channels)
        self.dw = np.zeros_like(self.weight)
        self.db = np.zeros_like(self.bias)

    def forward(self, x):
        N, C, H, W = x.shape
        F, k, s, p = self.out_channels, self.kernel_size, self.stride, self.padding
        H_out = (H + 2 * p - k) // s + 1
        W_out = (W + 2 * p - k) // s + 1
        x_pad = np.zeros((N, C, H + 2 * p, W + 2 * p))
        x_pad[:, :, p:p + H, p:p + W] = x
        out = np.zeros((N, F, H_out, W_out))
        for n in range(N):
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        total = 0.0
                        for c in range(C):
                            total += self.bias[f]
                            for di in range(k):
                                for dj in range(k):
                                    total += self.weight[f, c, di, dj] * x_pad[n, c, i * s + di, j * s + dj]
                        out[n, f, i, j] = total
        self.cache = (x, x_pad)
        return out

    def backward(self, dout):
        x, x_pad = self.cache
        N, C, H, W = x.shape
        F, k, s, p = self.out_channels, self.kernel_size, self.stride, self.padding
        _, _, H_out, W_out = dout.shape
        dx_pad = np.zeros_like(x_pad)
        self.dw = np.zeros_like(self.weight)
        self.db = np.zeros_like(self.bias)
        for n in range(N):
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        g = dout[n, f, i, j]
                        self.db[f] += g
                        for c in range(C):
                            for di in range(k):
                                for dj in range(k):
                                    self.dw[f, c, di, dj] += g * x_pad[n, c, i * s + di, j * s + dj]
                                    dx_pad[n, c, i * s + di, j * s + dj] += g * self.weight[f, c, di, dj]
        return dx_pad[:, :, p:p + H, p:p + W]
