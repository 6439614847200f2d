"""Both models as nn.Sequential, with nn.Sigmoid / nn.ReLU modules and nn.Flatten."""
import torch.nn as nn


class TwoLayerNet(nn.Module):
    def __init__(self, input_dim, hidden_size, num_classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(input_dim, hidden_size),
            nn.Sigmoid(),
            nn.Linear(hidden_size, num_classes),
        )

    def forward(self, x):
        return self.net(x)


class VanillaCNN(nn.Module):
    def __init__(self, in_channels=3, num_classes=10, image_size=32):
        super().__init__()
        out_size = (image_size - 7 + 1) // 2
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, kernel_size=7, stride=1, padding=0),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(32 * out_size * out_size, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
