"""The config is the one place for policy: it loads, adds up, and names its errors."""
from __future__ import annotations

import pytest

from grader.config import ConfigError, load_config

from conftest import ROOT

DEFAULT = (ROOT / "grader/config.toml").read_text()


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_default_config_adds_up_to_100():
    config = load_config()
    assert config.total_points == 100
    assert sum(policy.points for policy in config.tests.values()) == pytest.approx(100)


def test_points_that_do_not_add_up_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="add up to 100, but total_points is 99"):
        load_config(write(tmp_path, DEFAULT.replace("total_points = 100", "total_points = 99")))


def test_unknown_visibility_is_refused_with_the_test_named(tmp_path):
    text = DEFAULT.replace('"test_relu.py::test_forward_matches_torch" = { points = 1 }', '"test_relu.py::test_forward_matches_torch" = { points = 1, visibility = "secret" }')
    with pytest.raises(ConfigError, match="test_relu.py::test_forward_matches_torch: visibility 'secret'"):
        load_config(write(tmp_path, text))


def test_dataset_without_its_table_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="dataset 'svhn' has no"):
        load_config(write(tmp_path, DEFAULT.replace('dataset = "digits"', 'dataset = "svhn"')))


def test_config_file_comes_from_the_environment(tmp_path, monkeypatch):
    path = write(tmp_path, DEFAULT.replace("default_timeout = 30", "default_timeout = 12"))
    monkeypatch.setenv("GRADER_CONFIG", str(path))
    assert load_config().path == path


def test_per_test_timeout_falls_back_to_the_default():
    config = load_config()
    assert config.policy("test_relu.py::test_forward_matches_torch").timeout == 30
    assert config.policy("test_scratch_training.py::test_scratch_cnn_learns_digits").timeout == 120
