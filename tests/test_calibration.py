"""The reference's learning-curve bands: written by calibrate, read by the judge only while the recipe they were made with holds."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from grader.calibration import Band, band_of, reference_bands, write_bands
from grader.config import load_config


def test_a_band_is_the_lowest_and_highest_value_per_epoch():
    band = band_of([[[2.0, 0.1], [1.0, 0.6]], [[2.5, 0.2], [0.5, 0.5]], [[2.2, 0.3], [0.8, 0.7]]])
    assert band == Band(seeds=3, loss=((2.0, 2.5), (0.5, 1.0)), accuracy=((0.1, 0.3), (0.5, 0.7)))


def test_bands_are_read_back_for_their_dataset_and_recipe_only(tmp_path: Path):
    config = dataclasses.replace(load_config(), path=tmp_path / "config.toml")
    assert reference_bands(config) == {}  # not calibrated: nothing to draw
    band = band_of([[[2.0, 0.1]], [[1.0, 0.4]]])
    write_bands(config, {"twolayer": band})
    write_bands(dataclasses.replace(config, dataset="mnist"), {"scratch_cnn": band})  # another dataset's entry is kept beside it
    assert reference_bands(config) == {"twolayer": band}
    changed = dataclasses.replace(config, training={**config.training, "twolayer": {**config.training["twolayer"], "epochs": 9}})
    assert reference_bands(changed) == {}  # made under another recipe: stale, not drawn
    assert set(reference_bands(dataclasses.replace(config, dataset="mnist"))) == {"scratch_cnn"}


def test_an_unreadable_file_means_no_band(tmp_path: Path):
    config = dataclasses.replace(load_config(), path=tmp_path / "config.toml")
    (tmp_path / "calibration.json").write_text("{not json")
    assert reference_bands(config) == {}
