"""The two PyTorch models of Part 2, with lazy layers and functional calls."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TwoLayerNet(nn.Module):
    """Two fully connected layers with a sigmoid in between, as one nn.Sequential."""

    def __init__(self, input_dim: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(),
            nn.Linear(input_dim, hidden_size),
            nn.Sigmoid(),
            nn.Linear(hidden_size, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class VanillaCNN(nn.Module):
    """Conv(7x7, 32 channels) -> ReLU -> MaxPool(2) -> Linear; the input sizes are left to the first forward."""

    def __init__(self, in_channels: int = 3, num_classes: int = 10, image_size: int = 32) -> None:
        super().__init__()
        # Lazy layers read their input size from the first batch, so
        # in_channels and image_size are not needed here.
        self.conv = nn.LazyConv2d(32, kernel_size=7)
        self.fc = nn.LazyLinear(num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.view(x.size(0), -1))
