"""Trains a small from-scratch CNN on scikit-learn's 8x8 digits.

Run from the folder that holds ``part1_scratch/``::

    python -m part1_scratch.train_demo
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from part1_scratch.conv import Conv2D
from part1_scratch.linear import Linear
from part1_scratch.maxpool import MaxPool2D
from part1_scratch.network import Sequential, softmax_cross_entropy
from part1_scratch.relu import ReLU
from part1_scratch.sgd import SGD

SEED = 0
EPOCHS = 10
BATCH_SIZE = 32
LEARNING_RATE = 0.05
MOMENTUM = 0.9


def load_data() -> list[np.ndarray]:
    """Returns ``[x_train, x_test, y_train, y_test]``; images are ``(N, 1, 8, 8)`` in [0, 1]."""
    digits = load_digits()
    images = digits.images[:, None] / 16.0
    return train_test_split(
        images, digits.target, test_size=0.25, random_state=SEED, stratify=digits.target
    )


def build_model(rng: np.random.Generator) -> Sequential:
    """Conv(1->8, 3x3, pad 1) -> ReLU -> MaxPool(2) -> Linear(8*4*4 -> 10)."""
    return Sequential(
        [
            Conv2D(1, 8, 3, padding=1, rng=rng),
            ReLU(),
            MaxPool2D(2),
            Linear(8 * 4 * 4, 10, rng=rng),
        ]
    )


def train_epoch(
    model: Sequential, optimizer: SGD, x: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[float, float]:
    """Runs one epoch of minibatch SGD; returns the mean loss and accuracy seen while training."""
    order = rng.permutation(len(x))
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        logits = model.forward(x[batch])
        loss, dlogits = softmax_cross_entropy(logits, y[batch])
        model.backward(dlogits)
        optimizer.step()
        total_loss += loss * len(batch)
        correct += int((logits.argmax(axis=1) == y[batch]).sum())
    return total_loss / len(x), correct / len(x)


def evaluate(model: Sequential, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Returns the mean loss and accuracy of ``model`` on ``(x, y)``."""
    logits = model.forward(x)
    loss, _ = softmax_cross_entropy(logits, y)
    return loss, float((logits.argmax(axis=1) == y).mean())


def main() -> None:
    """Trains for ``EPOCHS`` epochs and prints loss and accuracy after each."""
    rng = np.random.default_rng(SEED)
    x_train, x_test, y_train, y_test = load_data()
    model = build_model(rng)
    optimizer = SGD(model.layers, lr=LEARNING_RATE, momentum=MOMENTUM)
    for epoch in range(1, EPOCHS + 1):
        train_loss, train_acc = train_epoch(model, optimizer, x_train, y_train, rng)
        test_loss, test_acc = evaluate(model, x_test, y_test)
        print(
            f"epoch {epoch:2d}  train loss {train_loss:.4f}  acc {train_acc:.3f}  "
            f"test loss {test_loss:.4f}  acc {test_acc:.3f}"
        )


if __name__ == "__main__":
    main()
