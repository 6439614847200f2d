"""SGD in the form v = mu * v - lr * g; p = p + v, reassigning the attributes."""
import numpy as np


class SGD:
    def __init__(self, layers, lr, momentum=0.0, weight_decay=0.0):
        self.layers = layers
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.v_w = [None] * len(layers)
        self.v_b = [None] * len(layers)

    def step(self):
        for i, layer in enumerate(self.layers):
            if not (hasattr(layer, "weight") and hasattr(layer, "bias")):
                continue
            gw = layer.dw + self.weight_decay * layer.weight
            gb = layer.db + self.weight_decay * layer.bias
            if self.v_w[i] is None:
                self.v_w[i] = np.zeros_like(layer.weight)
                self.v_b[i] = np.zeros_like(layer.bias)
            self.v_w[i] = self.momentum * self.v_w[i] - self.lr * gw
            self.v_b[i] = self.momentum * self.v_b[i] - self.lr * gb
            layer.weight = layer.weight + self.v_w[i]
            layer.bias = layer.bias + self.v_b[i]
