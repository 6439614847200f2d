"""Linear in float32."""
import numpy as np


class Linear:
    def __init__(self, in_features, out_features):
        self.weight = (np.random.randn(out_features, in_features) * np.sqrt(1.0 / in_features)).astype(np.float32)
        self.bias = np.zeros(out_features, dtype=np.float32)

    def forward(self, x):
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1).astype(np.float32)
        return self.x @ self.weight.astype(np.float32).T + self.bias.astype(np.float32)

    def backward(self, dout):
        dout = dout.astype(np.float32)
        self.dw = dout.T @ self.x
        self.db = dout.sum(axis=0)
        dx = dout @ self.weight.astype(np.float32)
        return dx.reshape(self.x_shape)
