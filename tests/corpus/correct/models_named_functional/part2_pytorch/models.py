"""Named layers, functional activations (torch.sigmoid, F.relu, F.max_pool2d), pooling before ReLU."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoLayerNet(nn.Module):
    def __init__(self, input_dim, hidden_size, num_classes):
        super(TwoLayerNet, self).__init__()
        self.input_dim = input_dim
        self.output_layer = nn.Linear(hidden_size, num_classes)  # created first: order is free
        self.hidden_layer = nn.Linear(input_dim, hidden_size)

    def forward(self, x):
        x = x.view(-1, self.input_dim)
        hidden = torch.sigmoid(self.hidden_layer(x))
        return self.output_layer(hidden)


class VanillaCNN(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, image_size=32):
        super(VanillaCNN, self).__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, 7)
        side = (image_size - 6) // 2
        self.fc1 = nn.Linear(32 * side * side, num_classes)

    def forward(self, x):
        # max-pooling and ReLU commute, so pooling first is the same function (and cheaper)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = x.view(x.size(0), -1)
        return self.fc1(x)
