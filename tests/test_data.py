from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from grader.data import DATASETS, Dataset, load_dataset, resize

N_DIGITS = 1797


# --- digits ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits")


def test_digits_shapes_and_dtypes(digits: Dataset) -> None:
    assert digits.x_train.shape[1:] == digits.x_val.shape[1:] == (1, 8, 8)
    assert digits.x_train.dtype == digits.x_val.dtype == np.float32
    assert digits.y_train.dtype == digits.y_val.dtype == np.int64
    assert len(digits.x_train) == len(digits.y_train) and len(digits.x_val) == len(digits.y_val)
    assert digits.num_classes == 10


def test_digits_scaled_to_unit_range(digits: Dataset) -> None:
    x = np.concatenate([digits.x_train, digits.x_val])
    assert x.min() == 0.0 and x.max() == 1.0


def test_digits_split_is_a_partition_of_the_bundled_images(digits: Dataset) -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    ours = np.concatenate([digits.x_train, digits.x_val]).reshape(N_DIGITS, -1) * 16
    ours = np.column_stack([ours, np.concatenate([digits.y_train, digits.y_val])])
    theirs = np.column_stack([bunch.images.reshape(N_DIGITS, -1), bunch.target])
    assert np.array_equal(np.unique(ours, axis=0), np.unique(theirs, axis=0))
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("val_fraction", [0.1, 0.25, 0.5])
def test_digits_val_size_follows_val_fraction(val_fraction: float) -> None:
    ds = load_dataset("digits", val_fraction=val_fraction)
    assert len(ds.y_val) == round(N_DIGITS * val_fraction)
    assert len(ds.y_train) + len(ds.y_val) == N_DIGITS


@pytest.mark.parametrize("val_fraction", [0.1, 0.25, 0.5])
def test_digits_split_is_stratified(val_fraction: float) -> None:
    ds = load_dataset("digits", val_fraction=val_fraction)
    per_class = np.bincount(ds.y_train, minlength=10) + np.bincount(ds.y_val, minlength=10)
    share = np.bincount(ds.y_val, minlength=10) / per_class
    assert np.all(np.abs(share - val_fraction) <= 1 / per_class.min())


@pytest.mark.parametrize("seed", [0, 1, 123])
def test_digits_same_seed_same_split(seed: int) -> None:
    a, b = load_dataset("digits", seed=seed), load_dataset("digits", seed=seed)
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(a, field), getattr(b, field))


def test_digits_other_seed_other_split() -> None:
    a, b = load_dataset("digits", seed=0), load_dataset("digits", seed=1)
    assert not np.array_equal(a.x_val, b.x_val)
    assert not np.array_equal(a.y_train, b.y_train)


@pytest.mark.parametrize("val_fraction", [0.0, 1.0, 1e-6])
def test_digits_val_fraction_leaving_an_empty_split_is_rejected(val_fraction: float) -> None:
    with pytest.raises(ValueError, match="val_fraction"):
        load_dataset("digits", val_fraction=val_fraction)


@pytest.mark.parametrize(("max_train", "max_val", "n_train", "n_val"),
                         [(100, 30, 100, 30), (None, 7, 1348, 7), (10_000, None, 1348, 449)])
def test_digits_max_train_and_max_val_cap_sizes(max_train, max_val, n_train, n_val) -> None:
    ds = load_dataset("digits", max_train=max_train, max_val=max_val)
    assert (len(ds.x_train), len(ds.y_train), len(ds.x_val), len(ds.y_val)) == (
        n_train, n_train, n_val, n_val)


def test_digits_subsample_is_drawn_from_the_same_split() -> None:
    full, small = load_dataset("digits", seed=3), load_dataset("digits", seed=3, max_train=50)
    full_rows = {(r.tobytes(), int(y)) for r, y in zip(full.x_train, full.y_train)}
    assert all((r.tobytes(), int(y)) in full_rows for r, y in zip(small.x_train, small.y_train))


def test_digits_raw_arrays_are_cached_and_safe_to_mutate() -> None:
    from grader import data

    first = load_dataset("digits")
    first.x_train[:] = -1  # a student model mutating its inputs must not poison the cache
    hits = data._digits_raw.cache_info().hits
    second = load_dataset("digits")
    assert data._digits_raw.cache_info().hits == hits + 1
    assert second.x_train.min() == 0.0


def test_repr_is_short_and_names_name_shapes_classes(digits: Dataset) -> None:
    text = repr(digits)
    assert "'digits'" in text and "(1348, 1, 8, 8)" in text and "(449, 1, 8, 8)" in text
    assert "classes=10" in text and len(text) < 120


# --- name and root validation -----------------------------------------------------------

def test_unknown_name_raises_value_error_listing_datasets() -> None:
    with pytest.raises(ValueError) as info:
        load_dataset("imagenet")
    assert all(name in str(info.value) for name in DATASETS)


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10"])
def test_file_datasets_require_root(name: str) -> None:
    with pytest.raises(ValueError, match="root"):
        load_dataset(name)


@pytest.mark.parametrize(("name", "folder", "cls"), [
    ("mnist", "MNIST/raw", "MNIST"),
    ("fashion_mnist", "FashionMNIST/raw", "FashionMNIST"),
    ("cifar10", "cifar-10-batches-py", "CIFAR10"),
])
def test_missing_folder_raises_helpful_file_not_found(tmp_path: Path, name, folder, cls) -> None:
    with pytest.raises(FileNotFoundError) as info:
        load_dataset(name, tmp_path)
    message = str(info.value)
    assert str(tmp_path / folder) in message and repr(name) in message
    assert f"torchvision.datasets.{cls}(" in message and "download=True" in message


# --- resize ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("hw", "size"), [(8, 8), (8, 16), (8, 28), (28, 14), (32, 7), (5, 12)])
def test_resize_output_shape_and_dtype(hw: int, size: int) -> None:
    out = resize(np.zeros((3, 2, hw, hw), np.float64), size)
    assert out.shape == (3, 2, size, size) and out.dtype == np.float32


@pytest.mark.parametrize("size", [4, 8, 13, 32])
def test_resize_preserves_a_constant_image(size: int) -> None:
    out = resize(np.full((2, 3, 8, 8), 0.37, np.float32), size)
    np.testing.assert_allclose(out, 0.37, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("hw", "size"), [(8, 16), (8, 28), (28, 14), (32, 7), (5, 12), (9, 9)])
def test_resize_matches_torch_bilinear(hw: int, size: int) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(hw * 100 + size).random((2, 3, hw, hw), dtype=np.float32)
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(x), size=(size, size), mode="bilinear", align_corners=False).numpy()
    np.testing.assert_allclose(resize(x, size), expected, rtol=0, atol=1e-5)


def test_resize_rejects_non_nchw_input() -> None:
    with pytest.raises(ValueError):
        resize(np.zeros((8, 8)), 4)


# --- MNIST / Fashion-MNIST in torchvision's raw IDX layout -------------------------------------

MNIST_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


def _write_idx(path: Path, array: np.ndarray, magic: int, gz: bool) -> None:
    blob = struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
    path.write_bytes(gzip.compress(blob) if gz else blob)


def _fake_mnist(root: Path, name: str, gz: bool) -> dict[str, np.ndarray]:
    raw = root / MNIST_FOLDERS[name] / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {"train_x": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "train_y": np.array([3, 1, 4, 1, 5, 9], np.uint8),
              "t10k_x": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "t10k_y": np.array([2, 7, 1, 8], np.uint8)}
    arrays["train_x"][0, 0, :3] = [0, 255, 128]  # known corner pixels
    for split in ("train", "t10k"):
        _write_idx(raw / f"{split}-images-idx3-ubyte", arrays[f"{split}_x"], 2051, gz)
        _write_idx(raw / f"{split}-labels-idx1-ubyte", arrays[f"{split}_y"], 2049, gz)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_like_reads_exact_pixels_and_labels(tmp_path: Path, name: str, gz: bool) -> None:
    arrays = _fake_mnist(tmp_path, name, gz)
    ds = load_dataset(name, tmp_path)
    assert ds.name == name and ds.num_classes == 10
    assert ds.x_train.shape == (6, 1, 28, 28) and ds.x_val.shape == (4, 1, 28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train[0, 0, 0, :3].tolist() == [0.0, 1.0, np.float32(128) / np.float32(255)]  # float32 under NumPy 1's promotion too
    np.testing.assert_array_equal(ds.x_train[:, 0], arrays["train_x"].astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.x_val[:, 0], arrays["t10k_x"].astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.y_train, arrays["train_y"])
    np.testing.assert_array_equal(ds.y_val, arrays["t10k_y"])


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist"])
def test_mnist_like_max_train_keeps_distinct_matching_pairs(tmp_path: Path, name: str) -> None:
    arrays = _fake_mnist(tmp_path, name, gz=False)
    ds = load_dataset(name, tmp_path, max_train=3, max_val=2, seed=5)
    assert ds.x_train.shape == (3, 1, 28, 28) and ds.x_val.shape == (2, 1, 28, 28)
    pixels = (ds.x_train[:, 0] * 255).round().astype(np.uint8)
    # each kept image is a distinct original and keeps its own label
    index = [next(i for i, im in enumerate(arrays["train_x"]) if np.array_equal(im, p)) for p in pixels]
    assert len(set(index)) == 3
    np.testing.assert_array_equal(ds.y_train, arrays["train_y"][index])
    again = load_dataset(name, tmp_path, max_train=3, max_val=2, seed=5)
    np.testing.assert_array_equal(again.x_train, ds.x_train)


def test_mnist_missing_file_names_it(tmp_path: Path) -> None:
    _fake_mnist(tmp_path, "mnist", gz=False)
    (tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_dataset("mnist", tmp_path)


def test_mnist_bad_magic_number_is_rejected(tmp_path: Path) -> None:
    _fake_mnist(tmp_path, "mnist", gz=False)
    path = tmp_path / "MNIST/raw/train-images-idx3-ubyte"
    path.write_bytes(struct.pack(">I", 2049) + path.read_bytes()[4:])
    with pytest.raises(ValueError, match="2051"):
        load_dataset("mnist", tmp_path)


# --- CIFAR-10 in torchvision's pickled-batch layout ---------------------------------------------

def _fake_cifar(root: Path) -> dict[str, list]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    written: dict[str, list] = {"data": [], "labels": []}
    for batch in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        n = 3 if batch == "test_batch" else 2
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        with open(folder / batch, "wb") as f:
            pickle.dump({b"batch_label": batch.encode(), b"labels": labels, b"data": data,
                         b"filenames": [b"x.png"] * n}, f, protocol=2)
        written["data"].append(data)
        written["labels"].append(labels)
    return written


def test_cifar10_reads_exact_pixels_labels_and_channel_layout(tmp_path: Path) -> None:
    written = _fake_cifar(tmp_path)
    ds = load_dataset("cifar10", tmp_path)
    assert ds.x_train.shape == (10, 3, 32, 32) and ds.x_val.shape == (3, 3, 32, 32)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    train = np.concatenate(written["data"][:5])
    # row layout is 1024 red, 1024 green, 1024 blue values, each 32x32 row-major
    assert ds.x_train[7, 1, 2, 5] == np.float32(train[7, 1024 + 2 * 32 + 5]) / np.float32(255)
    np.testing.assert_array_equal(ds.x_train.reshape(10, -1), train.astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.x_val.reshape(3, -1), written["data"][5].astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.y_train, sum(written["labels"][:5], []))
    np.testing.assert_array_equal(ds.y_val, written["labels"][5])


def test_cifar10_max_train_and_max_val_subsample(tmp_path: Path) -> None:
    written = _fake_cifar(tmp_path)
    ds = load_dataset("cifar10", tmp_path, max_train=4, max_val=1)
    assert ds.x_train.shape == (4, 3, 32, 32) and ds.x_val.shape == (1, 3, 32, 32)
    train_rows = {row.tobytes() for row in np.concatenate(written["data"][:5])}
    kept = {(x * 255).round().astype(np.uint8).tobytes() for x in ds.x_train}
    assert len(kept) == 4 and kept <= train_rows


def test_cifar10_missing_batch_names_it(tmp_path: Path) -> None:
    _fake_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-py/data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_dataset("cifar10", tmp_path)
