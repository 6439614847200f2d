"""ReLU with np.where, caching the input."""
import numpy as np


class ReLU:
    def __init__(self):
        self.x = None

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, 0.0)

    def backward(self, dout):
        return np.where(self.x > 0, dout, 0.0)
