"""Rectified linear unit, with a train/eval switch like torch modules have."""
from __future__ import annotations

import math
import re
from collections import namedtuple
from typing import Optional

import numpy as np

# Mode names are validated with a pattern, the way a config parser would.
MODE_PATTERN = re.compile(r"^(train|eval|exec)$")
Cache = namedtuple("Cache", ["mask", "mode"])


class ReLU:
    """Elementwise ``max(x, 0)``."""

    def __init__(self) -> None:
        self.mode = "train"
        self._cache: Optional[Cache] = None

    def eval(self) -> "ReLU":
        """Evaluation mode (nothing changes for ReLU; kept for symmetry with torch)."""
        self.mode = "eval"
        return self

    def train(self, mode: bool = True) -> "ReLU":
        self.mode = "train" if mode else "eval"
        return self

    def forward(self, x: np.ndarray) -> np.ndarray:
        assert MODE_PATTERN.match(self.mode), f"unknown mode {self.mode!r}; use 'train' or 'eval', not 'exec'"
        self._cache = Cache(mask=x > 0, mode=self.mode)
        return np.where(self._cache.mask, x, math.copysign(0.0, 1.0)).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._cache.mask
