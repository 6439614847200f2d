"""Data and trusted evaluation for the accuracy tests: the judge trains nothing, it only scores."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..config import GraderConfig
from ..data import load_dataset, resize
from ..worker.runtime import trusted


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def dataset_split(config: GraderConfig, image_size: int | None = None) -> Split:
    """The configured dataset, subsampled as configured, optionally resized (cached per process)."""
    options = config.dataset_options
    return _split(config.dataset, str(config.data_root), options.get("max_train"), options.get("max_val"), config.seed, image_size)


@functools.lru_cache(maxsize=4)
def _split(name: str, root: str, max_train: int | None, max_val: int | None, seed: int, image_size: int | None) -> Split:
    data = load_dataset(name, root, max_train=max_train, max_val=max_val, seed=seed)
    x_train, x_val = data.x_train, data.x_val
    if image_size and image_size != x_train.shape[-1]:
        x_train, x_val = resize(x_train, image_size), resize(x_val, image_size)
    return Split(x_train, data.y_train, x_val, data.y_val)


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def scratch_initial_weights(in_channels: int, channels: int, pooled_features: int, classes: int, seed: int) -> dict[str, np.ndarray]:
    """Kaiming-uniform weights like torch's defaults, seeded, in float64."""
    rng = np.random.default_rng(seed)

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape)

    return {
        "conv_weight": uniform((channels, in_channels, 3, 3), in_channels * 9),
        "conv_bias": uniform((channels,), in_channels * 9),
        "linear_weight": uniform((classes, pooled_features), pooled_features),
        "linear_bias": uniform((classes,), pooled_features),
    }


def scratch_logits(weights: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The scratch CNN (conv 3x3 pad 1 -> ReLU -> max-pool 2 -> linear) evaluated by torch."""
    w = {name: torch.from_numpy(np.asarray(value, dtype=np.float64)) for name, value in weights.items()}
    hidden = F.max_pool2d(F.relu(F.conv2d(torch.from_numpy(x.astype(np.float64)), w["conv_weight"], w["conv_bias"], padding=1)), 2)
    return F.linear(hidden.flatten(1), w["linear_weight"], w["linear_bias"]).numpy()


def model_init(component: str, config: GraderConfig, split: Split) -> dict[str, Any]:
    """Constructor arguments of the student's model for the configured dataset."""
    classes = int(split.y_train.max()) + 1
    if component == "twolayer":
        return {"input_dim": int(np.prod(split.x_train.shape[1:])), "hidden_size": config.training["twolayer"]["hidden_size"], "num_classes": classes}
    return {"in_channels": split.x_train.shape[1], "num_classes": classes, "image_size": split.x_train.shape[-1]}


def initial_layers(component: str, init: dict[str, Any], seed: int) -> list[trusted.LayerSpec]:
    """torch's default initialisation, seeded, from the grader's own model."""
    torch.manual_seed(seed)
    return trusted.extract_layers(trusted.GRADER_MODELS[component](**init))


def model_accuracy(component: str, init: dict[str, Any], layers: list[trusted.LayerSpec], x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the grader's own model loaded with the student's trained weights."""
    model = trusted.GRADER_MODELS[component](**init)
    trusted.assign_layers(model, layers)
    return accuracy(trusted.logits_of(model, x), y)
