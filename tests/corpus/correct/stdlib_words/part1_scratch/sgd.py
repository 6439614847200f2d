"""SGD with momentum and weight decay, state kept in dataclasses."""
from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List

import numpy as np

PARAMETERS = (("weight", "dw"), ("bias", "db"))


@dataclass
class Settings:
    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0


@dataclass
class SGD:
    layers: List[Any]
    lr: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    velocities: Dict[tuple, np.ndarray] = field(default_factory=dict)
    steps: Dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.layers = list(self.layers)

    @functools.cached_property
    def settings(self) -> Settings:
        return Settings(self.lr, self.momentum, self.weight_decay)

    def _trainable(self) -> Iterable[tuple[int, Any]]:
        return ((i, layer) for i, layer in enumerate(self.layers) if hasattr(layer, "weight") and hasattr(layer, "bias"))

    def step(self) -> None:
        settings = self.settings
        for (index, layer), (name, grad_name) in itertools.product(list(self._trainable()), PARAMETERS):
            param = getattr(layer, name)
            g = getattr(layer, grad_name) + settings.weight_decay * param
            if settings.momentum:
                key = (index, name)
                if key in self.velocities:
                    g = settings.momentum * self.velocities[key] + g
                self.velocities[key] = g
            setattr(layer, name, param - settings.lr * g)
        self.steps["step"] += 1
