"""Trains TwoLayerNet and VanillaCNN on scikit-learn's 8x8 digits with your loops.

Run from the folder that holds ``part2_pytorch/``::

    python -m part2_pytorch.train_demo
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from part2_pytorch.models import TwoLayerNet, VanillaCNN
from part2_pytorch.train import train_epoch, validate

SEED = 0
EPOCHS = 10
BATCH_SIZE = 64
LEARNING_RATE = 0.1
MOMENTUM = 0.9
CNN_IMAGE_SIZE = 16


def load_images() -> tuple[torch.Tensor, torch.Tensor]:
    """Returns the digits as ``(N, 1, 8, 8)`` float images in [0, 1] and ``(N,)`` labels."""
    digits = load_digits()
    images = torch.tensor(digits.images / 16.0, dtype=torch.float32).unsqueeze(1)
    return images, torch.tensor(digits.target)


def make_loaders(images: torch.Tensor, labels: torch.Tensor) -> tuple[DataLoader, DataLoader]:
    """Splits the data 75/25 (stratified, fixed seed) into shuffled train and test loaders."""
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=0.25, random_state=SEED, stratify=labels.numpy()
    )
    train_idx, test_idx = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    generator = torch.Generator().manual_seed(SEED)
    train_loader = DataLoader(
        TensorDataset(images[train_idx], labels[train_idx]),
        batch_size=BATCH_SIZE,
        shuffle=True,
        generator=generator,
    )
    test_loader = DataLoader(TensorDataset(images[test_idx], labels[test_idx]), batch_size=256)
    return train_loader, test_loader


def fit(name: str, model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
    """Trains ``model`` for ``EPOCHS`` epochs, printing loss and accuracy after each."""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    train_loader, test_loader = make_loaders(images, labels)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    criterion = nn.CrossEntropyLoss()
    print(name)
    for epoch in range(1, EPOCHS + 1):
        train_loss, train_acc = train_epoch(model, train_loader, optimizer, criterion, device)
        test_loss, test_acc = validate(model, test_loader, criterion, device)
        print(
            f"epoch {epoch:2d}  train loss {train_loss:.4f}  acc {train_acc:.3f}  "
            f"test loss {test_loss:.4f}  acc {test_acc:.3f}"
        )


def main() -> None:
    """Trains both models, each from the same seed."""
    images, labels = load_images()
    torch.manual_seed(SEED)
    fit("TwoLayerNet on flattened 8x8 digits", TwoLayerNet(64, 128, 10), images.flatten(1), labels)
    resized = F.interpolate(
        images, size=(CNN_IMAGE_SIZE, CNN_IMAGE_SIZE), mode="bilinear", align_corners=False
    )
    torch.manual_seed(SEED)
    model = VanillaCNN(in_channels=1, num_classes=10, image_size=CNN_IMAGE_SIZE)
    fit(f"VanillaCNN on digits resized to {CNN_IMAGE_SIZE}x{CNN_IMAGE_SIZE}", model, resized, labels)


if __name__ == "__main__":
    main()
