"""The two PyTorch models of Part 2."""

from __future__ import annotations

import torch
from torch import nn


class TwoLayerNet(nn.Module):
    """Two fully connected layers with a sigmoid in between."""

    def __init__(self, input_dim: int, hidden_size: int, num_classes: int) -> None:
        """Creates the layers.

        Args:
            input_dim: Number of values in one flattened sample.
            hidden_size: Width of the hidden layer.
            num_classes: Number of output logits.
        """
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_size)
        self.fc2 = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps ``(N, ...)`` samples with ``input_dim`` values each to ``(N, num_classes)`` logits."""
        x = torch.flatten(x, start_dim=1)
        return self.fc2(torch.sigmoid(self.fc1(x)))


class VanillaCNN(nn.Module):
    """Conv(7x7, 32 channels) -> ReLU -> MaxPool(2) -> Linear."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> None:
        """Creates the layers.

        Args:
            in_channels: Channels of the input images.
            num_classes: Number of output logits.
            image_size: Side of the square input images.
        """
        super().__init__()
        self.conv = nn.Conv2d(3, 32, kernel_size=7, stride=1, padding=0)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        # A 7x7 kernel without padding trims 6 pixels; pooling then halves (rounding down).
        pooled_size = (image_size - 6) // 2
        self.fc = nn.Linear(32 * pooled_size * pooled_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps ``(N, in_channels, image_size, image_size)`` images to ``(N, num_classes)`` logits."""
        x = self.pool(self.relu(self.conv(x)))
        return self.fc(torch.flatten(x, start_dim=1))
