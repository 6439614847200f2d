"""SGD in the CS231n form v = mu * v - lr * g; p += v, updating the arrays in place."""
import numpy as np


class SGD:
    def __init__(self, layers, lr, momentum=0.0, weight_decay=0.0):
        self.layers = layers
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {}

    def step(self):
        for idx, layer in enumerate(self.layers):
            if not hasattr(layer, "weight") or not hasattr(layer, "bias"):
                continue
            for param_name, grad_name in (("weight", "dw"), ("bias", "db")):
                param = getattr(layer, param_name)
                grad = getattr(layer, grad_name) + self.weight_decay * param
                key = (idx, param_name)
                if key not in self.velocity:
                    self.velocity[key] = np.zeros_like(param)
                v = self.velocity[key]
                v *= self.momentum
                v -= self.lr * grad
                param += v
