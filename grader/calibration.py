"""The reference's learning curves over the calibration seeds: data that ``calibrate`` writes and the report draws.

``python -m grader calibrate`` trains the reference once per seed with the recipes
of the accuracy tests and writes, next to the config file, ``calibration.json``::

    {"digits": {"twolayer": {"seeds": 20, "recipe": {...}, "loss": [[min, max], ...], "accuracy": [[min, max], ...]}}}

one ``[min, max]`` pair per epoch of the training loss and training accuracy. The
judge reads the band of the configured dataset for the HTML report's learning-curve
figure; a band whose recipe (training table and dataset sizes) differs from the
configuration's is stale and not drawn. It never changes a score.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import GraderConfig

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Band:
    """Per epoch, the lowest and highest training loss and accuracy of the reference over ``seeds`` seeds."""

    seeds: int
    loss: tuple[tuple[float, float], ...]
    accuracy: tuple[tuple[float, float], ...]

    def as_dict(self) -> dict[str, Any]:
        return {"seeds": self.seeds, "loss": [list(pair) for pair in self.loss], "accuracy": [list(pair) for pair in self.accuracy]}


def band_of(histories: Sequence[Sequence[Sequence[float]]]) -> Band:
    """The band of several runs' histories (each a list of ``[loss, accuracy]`` per epoch)."""
    epochs = list(zip(*histories))
    return Band(
        seeds=len(histories),
        loss=tuple(_range(e[0] for e in epoch) for epoch in epochs),
        accuracy=tuple(_range(e[1] for e in epoch) for epoch in epochs),
    )


def _range(values: Iterable[float]) -> tuple[float, float]:
    """Lowest and highest, to 4 decimals: a figure's precision, and a file an instructor can read."""
    kept = [float(value) for value in values]
    return round(min(kept), 4), round(max(kept), 4)


def recipe_of(config: GraderConfig, recipe: str) -> dict[str, Any]:
    """What shapes a recipe's curves: its training table and the dataset's sizes (a band made under others is stale)."""
    sizes = {key: config.dataset_options.get(key) for key in ("max_train", "max_val", "image_size")}
    return {"training": config.training[recipe], "dataset": sizes}


def calibration_path(config: GraderConfig) -> Path:
    return config.path.parent / CALIBRATION_FILE


def reference_bands(config: GraderConfig) -> dict[str, Band]:
    """The configured dataset's bands whose recipe matches the configuration; none when the file is missing or unreadable."""
    path = calibration_path(config)
    try:
        entries = json.loads(path.read_text()).get(config.dataset, {})
        return {recipe: Band(int(entry["seeds"]), tuple(map(tuple, entry["loss"])), tuple(map(tuple, entry["accuracy"])))
                for recipe, entry in entries.items() if recipe in config.training and entry.get("recipe") == recipe_of(config, recipe)}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def write_bands(config: GraderConfig, bands: dict[str, Band]) -> Path:
    """Store ``bands`` for the configured dataset, keeping the other datasets' entries."""
    path = calibration_path(config)
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        document = {}
    entries = document.setdefault(config.dataset, {})
    entries.update({recipe: {**band.as_dict(), "recipe": recipe_of(config, recipe)} for recipe, band in bands.items()})
    path.write_text(json.dumps(document, indent=1).replace("\n    ", " ").replace("\n   ]", "]") + "\n")
    return path
