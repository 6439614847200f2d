"""MaxPool2D with plain scalar Python loops."""
import numpy as np


class MaxPool2D:
    def __init__(self, kernel_size, stride=None):
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size

    def forward(self, x):
        N, C, H, W = x.shape
        k, s = self.kernel_size, self.stride
        H_out = (H - k) // s + 1
        W_out = (W - k) // s + 1
        out = np.zeros((N, C, W_out, H_out))
        self.argmax = np.zeros((N, C, H_out, W_out, 2), dtype=int)
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        best, best_r, best_c = -np.inf, 0, 0
                        for di in range(k):
                            for dj in range(k):
                                value = x[n, c, i * s + di, j * s + dj]
                                if value > best:
                                    best, best_r, best_c = value, i * s + di, j * s + dj
                        out[n, c, i, j] = best
                        self.argmax[n, c, i, j] = (best_r, best_c)
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        N, C, H_out, W_out = dout.shape
        dx = np.zeros(self.x_shape)
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        r, col = self.argmax[n, c, i, j]
                        dx[n, c, r, col] += dout[n, c, i, j]
        return dx
