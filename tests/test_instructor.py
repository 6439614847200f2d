"""The instructor's commands: the rubric, threshold calibration, and real datasets from local files."""
from __future__ import annotations

import gzip
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.calibration import reference_bands
from grader.config import load_config
from grader.instructor.calibrate import suggested_threshold

from conftest import ROOT

CONFIG = ROOT / "grader/config.toml"


def grader_command(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def edited_config(tmp_path: Path, old: str, new: str) -> Path:
    text = CONFIG.read_text()
    assert old in text, old
    path = tmp_path / "config.toml"
    path.write_text(text.replace(old, new))
    return path


# --- rubric --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rubric() -> str:
    done = grader_command("rubric")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_rubric_lists_every_test_case_once(rubric):
    numbers = [line.split()[0] for line in rubric.splitlines() if line[:1].isdigit() and "." in line.split()[0]]
    assert len(numbers) == len(set(numbers)) == 116
    assert "TOTAL: 100 points in 116 tests (total_points = 100)" in rubric


def test_rubric_gives_number_name_component_points_visibility_and_time_limit(rubric):
    row = next(line for line in rubric.splitlines() if "scratch cnn learns digits" in line).split()
    assert row[0] == "1.82" and row[-5:] == ["sgd", "5", "visible", "120", "s"]
    hidden = next(line for line in rubric.splitlines() if "conv unusual shapes match torch [k3_s3_p1_wide]" in line)
    assert hidden.split()[-4:] == ["1", "after_published", "30", "s"]


def test_rubric_totals_each_part(rubric):
    assert "Part 1: CNN from scratch (NumPy): 56 points (3 not visible to students before grades are out)" in rubric
    assert "Part 2: CNN with PyTorch: 44 points\n" in rubric


def test_rubric_per_function_has_one_row_per_config_entry():
    done = grader_command("rubric", "--per-function")
    rows = [line for line in done.stdout.splitlines() if ".py::test_" in line]
    assert len(rows) == len(load_config().tests) == 47
    assert any(row.split()[:2] == ["1.1-1.6", "test_conv.py::test_forward_shape"] and "2 (6 cases)" in row for row in rows)


def test_rubric_refuses_points_that_do_not_add_up(tmp_path):
    done = grader_command("rubric", "--config", str(edited_config(tmp_path, "total_points = 100", "total_points = 98")))
    assert done.returncode == 1
    assert "add up to 100, but total_points is 98" in done.stdout


@pytest.mark.parametrize("entry", [
    '"test_relu.py::test_not_there" = { points = 0 }',
    '"test_hidden_part9.py::test_not_there" = { points = 0, visibility = "hidden" }',
], ids=["in-existing-suite", "in-missing-hidden-suite"])
def test_rubric_refuses_a_test_that_does_not_exist(tmp_path, entry):
    done = grader_command("rubric", "--config", str(edited_config(tmp_path, "[tests]\n", f"[tests]\n{entry}\n")))
    assert done.returncode == 1
    assert "test_not_there" in done.stdout and "not exist" in done.stdout


# --- calibrate -----------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "suggested"), [
    ([0.97, 0.975, 0.98], 0.90),  # worst 0.97 - 0.05 = 0.92, rounded down to 0.90
    ([0.90, 0.96, 0.99], 0.75),   # 3 std = 0.112 > 0.05: 0.90 - 0.112 = 0.788, rounded down to 0.75
    ([0.95, 0.95], 0.90),         # exactly on a step stays there
    ([0.05, 0.06], 0.0),          # never below zero
])
def test_suggested_threshold_leaves_slack_below_the_worst_seed(values, suggested):
    assert suggested_threshold(values) == pytest.approx(suggested)


def test_calibrate_prints_the_distribution_margin_and_suggestion_and_writes_the_band_beside_the_config(tmp_path):
    config = edited_config(tmp_path, "[data]", "[data]")  # a copy: the band goes next to it, not into grader/
    kept = (CONFIG.parent / "calibration.json").read_bytes()
    done = grader_command("calibrate", "--config", str(config), "--seeds", "2", "--tests", "twolayer")
    assert done.returncode == 0, done.stdout + done.stderr
    band = reference_bands(load_config(config))["twolayer"]
    epochs = load_config().training["twolayer"]["epochs"]
    assert band.seeds == 2 and len(band.loss) == len(band.accuracy) == epochs
    assert all(low <= high for low, high in band.loss + band.accuracy)
    assert (CONFIG.parent / "calibration.json").read_bytes() == kept
    row = next(line for line in done.stdout.splitlines() if line.startswith("twolayer "))
    threshold, worst, median, best, std, margin, suggested = (float(v) for v in row.split()[1:])
    assert threshold == load_config().thresholds["twolayer"] and worst <= median <= best
    assert margin == pytest.approx(worst - threshold, abs=1e-3) and suggested <= worst - 0.05
    assert "digits, 2 seeds" in done.stdout


def test_calibrate_refuses_an_unknown_accuracy_test():
    done = grader_command("calibrate", "--seeds", "1", "--tests", "speed")
    assert done.returncode == 1 and "unknown accuracy tests" in done.stdout


# --- real datasets, from torchvision's on-disk formats ------------------------------------

def learnable_images(n: int, channels: int, side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images whose class is where a bright square stands: easy to learn, like a real dataset."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.integers(0, 60, (n, channels, side, side)).astype(np.uint8)
    block = side // 5
    for image, label in zip(images, labels):
        row, column = divmod(int(label), 5)
        image[:, row * 2 * block + block // 2: row * 2 * block + block // 2 + block, column * block: column * block + block] = 255
    return images, labels.astype(np.uint8)


def write_mnist(root: Path, folder: str) -> None:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 400), ("t10k", 200)):
        images, labels = learnable_images(n, 1, 28, seed=len(split))
        for kind, array, magic in (("images-idx3", images[:, 0], 2051), ("labels-idx1", labels, 2049)):
            blob = struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes()
            (raw / f"{split}-{kind}-ubyte.gz").write_bytes(gzip.compress(blob))


def write_cifar10(root: Path) -> None:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for index, batch in enumerate([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]):
        images, labels = learnable_images(80 if batch != "test_batch" else 200, 3, 32, seed=index)
        with open(folder / batch, "wb") as handle:
            pickle.dump({b"data": images.reshape(len(images), -1), b"labels": labels.tolist()}, handle, protocol=2)


@pytest.mark.parametrize(("dataset", "recipes"), [
    ("mnist", ("twolayer", "end_to_end")),
    ("fashion_mnist", ("twolayer",)),  # the same reader as mnist, in another folder
    ("cifar10", ("twolayer", "end_to_end")),
])
def test_a_real_dataset_from_a_local_root_trains_with_its_thresholds(tmp_path, dataset, recipes):
    root = tmp_path / "data"
    if dataset == "cifar10":
        write_cifar10(root)
    else:
        write_mnist(root, {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}[dataset])
    config = edited_config(tmp_path, 'root = "../data"', f'root = "{root}"')
    done = grader_command("calibrate", "--config", str(config), "--dataset", dataset, "--seeds", "1", "--tests", ",".join(recipes))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"on {dataset} (root {root})" in done.stdout
    thresholds = load_config(config, dataset=dataset).thresholds
    for recipe in recipes:
        row = next(line for line in done.stdout.splitlines() if line.startswith(recipe + " ")).split()
        assert float(row[1]) == thresholds[recipe] and float(row[2]) > thresholds[recipe]
