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
    with pytest.raises(ConfigError, match=r'`visibility` in \[tests."test_relu.py::test_forward_matches_torch"\]: \'secret\' is not one of'):
        load_config(write(tmp_path, text))


def test_unknown_dataset_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"`dataset` in \[data\]: 'svhn' is not one of"):
        load_config(write(tmp_path, DEFAULT.replace('dataset = "digits"', 'dataset = "svhn"')))


def test_dataset_without_its_table_is_refused(tmp_path):
    text = DEFAULT.replace('dataset = "digits"', 'dataset = "mnist"').replace("[datasets.mnist]", "[datasets.mnist_old]")
    with pytest.raises(ConfigError, match="dataset 'mnist' has no"):
        load_config(write(tmp_path, text))


@pytest.mark.parametrize(("typo", "message"), [
    (("default_timeout = 30", "default_timout = 30"), "unknown key `default_timout` in the top level; did you mean `default_timeout`?"),
    (('"test_relu.py::test_forward_matches_torch" = { points = 1 }', '"test_relu.py::test_forward_matches_torch" = { points = 1, timout = 60 }'),
     'unknown key `timout` in [tests."test_relu.py::test_forward_matches_torch"]; did you mean `timeout`?'),
    (("memory_mb = 6144", "memory_mib = 6144"), "unknown key `memory_mib` in [limits]; did you mean `memory_mb`?"),
    (("hidden_size = 64", "hidden_sizes = 64"), "unknown key `hidden_sizes` in [training.twolayer]; did you mean `hidden_size`?"),
])
def test_a_typo_is_refused_with_the_keys_path_and_the_nearest_name(tmp_path, typo, message):
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, DEFAULT.replace(*typo)))
    assert message in str(refused.value)


def test_a_missing_training_entry_is_refused(tmp_path):
    text = DEFAULT.replace("lr = 0.5\n", "", 1)
    with pytest.raises(ConfigError, match=r"\[training.twolayer\]: 'lr' is a required property"):
        load_config(write(tmp_path, text))


def test_a_wrong_type_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"`default_timeout` in the top level: '30' is not of type 'number'"):
        load_config(write(tmp_path, DEFAULT.replace("default_timeout = 30", 'default_timeout = "30"')))


def test_every_key_of_the_schema_is_described():
    from grader.config_schema import descriptions

    rows = descriptions()
    assert {"grading_budget_seconds", "tests.<name>.timeout", "training.twolayer.hidden_size"} <= {key for key, _ in rows}
    assert all(text for _, text in rows)


def test_config_file_comes_from_the_environment(tmp_path, monkeypatch):
    path = write(tmp_path, DEFAULT.replace("default_timeout = 30", "default_timeout = 12"))
    monkeypatch.setenv("GRADER_CONFIG", str(path))
    assert load_config().path == path


def test_per_test_timeout_falls_back_to_the_default():
    config = load_config()
    assert config.policy("test_relu.py::test_forward_matches_torch").timeout == 30
    assert config.policy("test_scratch_training.py::test_scratch_cnn_learns_digits").timeout == 120
