"""Conv2D as im2col + one matrix product; col2im with np.add.at."""
import numpy as np


def im2col_indices(C, H, W, k, s):
    """Row/column/channel index arrays of shape (C*k*k, H_out*W_out) into the padded image."""
    H_out = (H - k) // s + 1
    W_out = (W - k) // s + 1
    i0 = np.tile(np.repeat(np.arange(k), k), C)
    j0 = np.tile(np.arange(k), k * C)
    i1 = s * np.repeat(np.arange(H_out), W_out)
    j1 = s * np.tile(np.arange(W_out), H_out)
    rows = i0.reshape(-1, 1) + i1.reshape(1, -1)
    cols = j0.reshape(-1, 1) + j1.reshape(1, -1)
    chans = np.repeat(np.arange(C), k * k).reshape(-1, 1)
    return chans, rows, cols, H_out, W_out


class Conv2D:
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        scale = np.sqrt(2.0 / (in_channels * kernel_size * kernel_size))
        self.weight = np.random.randn(out_channels, in_channels, kernel_size, kernel_size) * scale
        self.bias = np.zeros(out_channels)
        self.dw = None
        self.db = None

    def forward(self, x):
        N, C, H, W = x.shape
        p = self.padding
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        chans, rows, cols, H_out, W_out = im2col_indices(C, H + 2 * p, W + 2 * p, self.kernel_size, self.stride)
        x_cols = x_pad[:, chans, rows, cols]  # (N, C*k*k, H_out*W_out)
        x_cols = x_cols.transpose(1, 2, 0).reshape(C * self.kernel_size ** 2, -1)  # (C*k*k, L*N)
        w_rows = self.weight.reshape(self.out_channels, -1)
        out = w_rows @ x_cols + self.bias.reshape(-1, 1)  # (F, L*N)
        out = out.reshape(self.out_channels, H_out, W_out, N).transpose(3, 0, 1, 2)
        self.cache = (x.shape, x_cols, (chans, rows, cols))
        return out

    def backward(self, dout):
        (N, C, H, W), x_cols, (chans, rows, cols) = self.cache
        p = self.padding
        F = self.out_channels
        self.db = np.sum(dout, axis=(0, 2, 3))
        dout_rows = dout.transpose(1, 2, 3, 0).reshape(F, -1)  # (F, L*N)
        self.dw = (dout_rows @ x_cols.T).reshape(self.weight.shape)
        dx_cols = self.weight.reshape(F, -1).T @ dout_rows  # (C*k*k, L*N)
        dx_cols = dx_cols.reshape(C * self.kernel_size ** 2, -1, N).transpose(2, 0, 1)
        dx_pad = np.zeros((N, C, H + 2 * p, W + 2 * p))
        np.add.at(dx_pad, (slice(None), chans, rows, cols), dx_cols)
        return dx_pad[:, :, p:-p, p:-p]
