"""MaxPool2D in float32: loops over output positions, argmax per window."""
import numpy as np


class MaxPool2D:
    def __init__(self, kernel_size, stride=None):
        self.k = kernel_size
        self.s = kernel_size if stride is None else stride

    def forward(self, x):
        x = x.astype(np.float32)
        N, C, H, W = x.shape
        k, s = self.k, self.s
        H_out, W_out = (H - k) // s + 1, (W - k) // s + 1
        out = np.empty((N, C, H_out, W_out), dtype=np.float32)
        self.idx = np.empty((N, C, H_out, W_out), dtype=np.int64)
        for i in range(H_out):
            for j in range(W_out):
                window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(N, C, -1)
                self.idx[:, :, i, j] = window.argmax(axis=2)
                out[:, :, i, j] = window.max(axis=2)
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        N, C, H_out, W_out = dout.shape
        k, s = self.k, self.s
        dx = np.zeros(self.x_shape, dtype=np.float32)
        n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
        for i in range(H_out):
            for j in range(W_out):
                r, q = np.divmod(self.idx[:, :, i, j], k)
                dx[n_idx, c_idx, i * s + r, j * s + q] += dout[:, :, i, j].astype(np.float32)
        return dx
