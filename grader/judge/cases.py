"""Test inputs: seeded, small enough for plain-loop submissions, and free of ties.

Pooling inputs hold distinct values at least 0.05 apart and ReLU inputs stay at
least 0.1 away from zero, so finite differences never cross a kink.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..worker.runtime import assignment


@dataclass(frozen=True)
class LayerCase:
    """One configuration of one layer: constructor arguments and input shape."""

    id: str
    component: str
    x_shape: tuple[int, ...]
    init: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.id

    @property
    def key(self) -> str:
        """Hashable identity, for caching the worker's replies."""
        return f"{self.component}/{self.id}"

    @property
    def call(self) -> str:
        arguments = ", ".join(f"{k}={v}" for k, v in self.init.items())
        return f"{assignment.component(self.component).object}({arguments}) with x of shape {self.x_shape}"

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        i = self.init
        if self.component == "conv":
            k = i["kernel_size"]
            return {"weight": (i["out_channels"], i["in_channels"], k, k), "bias": (i["out_channels"],)}
        if self.component == "linear":
            return {"weight": (i["out_features"], i["in_features"]), "bias": (i["out_features"],)}
        return {}

    @property
    def out_shape(self) -> tuple[int, ...]:
        n, *rest = self.x_shape
        i = self.init
        if self.component == "conv":
            size = [(d + 2 * i.get("padding", 0) - i["kernel_size"]) // i.get("stride", 1) + 1 for d in rest[1:]]
            return (n, i["out_channels"], *size)
        if self.component == "maxpool":
            stride = i.get("stride") or i["kernel_size"]
            return (n, rest[0], *[(d - i["kernel_size"]) // stride + 1 for d in rest[1:]])
        if self.component == "linear":
            return (n, i["out_features"])
        return self.x_shape

    def axes(self, quantity: str) -> tuple[str, ...]:
        """Names of the axes of ``quantity`` ("out", "dx", "dw", "db"), for saying where values are wrong."""
        images = ("sample", "channel", "row", "column")
        if quantity in ("out", "dx"):
            if self.component in ("conv", "maxpool"):
                return images
            return ("sample", "output") if self.component == "linear" and quantity == "out" else ("sample",)
        if self.component == "conv":
            return ("output channel", "input channel", "kernel row", "kernel column")[: 4 if quantity == "dw" else 1]
        return ("output", "input")[: 2 if quantity == "dw" else 1]

    @property
    def step(self) -> float:
        """Finite-difference step: exact for linear maps, below the gaps for kinks."""
        return 0.1 if self.component in ("conv", "linear") else 0.01

    def rng(self, salt: str = "") -> np.random.Generator:
        return np.random.default_rng(zlib.crc32(f"{self.component}/{self.id}/{salt}".encode()))

    def inputs(self) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """x, parameters and dout, the same on every run."""
        rng = self.rng()
        x = rng.standard_normal(self.x_shape)
        if self.component == "maxpool":
            x = (rng.permutation(x.size).reshape(self.x_shape) - x.size / 2) * 0.05
        elif self.component == "relu":
            x = np.sign(x) * (0.1 + np.abs(x))
        params = {name: rng.standard_normal(shape) * 0.5 for name, shape in self.param_shapes.items()}
        return x, params, rng.standard_normal(self.out_shape)

    def probes(self, per_tensor: int = 6) -> list[list[Any]]:
        """[tensor, flat index] pairs for the finite-difference check."""
        rng = self.rng("probes")
        sizes = {"x": int(np.prod(self.x_shape)), **{k: int(np.prod(s)) for k, s in self.param_shapes.items()}}
        return [[name, int(i)] for name, size in sizes.items() for i in sorted(rng.choice(size, min(per_tensor, size), replace=False))]


def conv(id: str, x_shape: tuple[int, ...], out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0) -> LayerCase:
    init = {"in_channels": x_shape[1], "out_channels": out_channels, "kernel_size": kernel_size, "stride": stride, "padding": padding}
    return LayerCase(id, "conv", x_shape, init)


def maxpool(id: str, x_shape: tuple[int, ...], kernel_size: int, stride: int | None = None) -> LayerCase:
    init = {"kernel_size": kernel_size} if stride is None else {"kernel_size": kernel_size, "stride": stride}
    return LayerCase(id, "maxpool", x_shape, init)


def linear(id: str, x_shape: tuple[int, ...], out_features: int) -> LayerCase:
    return LayerCase(id, "linear", x_shape, {"in_features": int(np.prod(x_shape[1:])), "out_features": out_features})


def relu(id: str, x_shape: tuple[int, ...]) -> LayerCase:
    return LayerCase(id, "relu", x_shape)
