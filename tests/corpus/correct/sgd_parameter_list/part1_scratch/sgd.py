"""SGD that collects (layer, name) pairs up front, torch-style, and keeps velocities keyed by them."""


class SGD:
    def __init__(self, layers, lr, momentum=0.0, weight_decay=0.0):
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.params = []
        for layer in layers:
            if hasattr(layer, "weight") and hasattr(layer, "bias"):
                self.params.append((layer, "weight", "dw"))
                self.params.append((layer, "bias", "db"))
        self.buffers = {}

    def step(self):
        for layer, name, grad_name in self.params:
            p = getattr(layer, name)
            d_p = getattr(layer, grad_name)
            if self.weight_decay != 0:
                d_p = d_p + self.weight_decay * p
            if self.momentum != 0:
                key = (id(layer), name)
                if key not in self.buffers:
                    buf = d_p.copy()
                else:
                    buf = self.buffers[key] * self.momentum + d_p
                self.buffers[key] = buf
                d_p = buf
            setattr(layer, name, p - self.lr * d_p)
