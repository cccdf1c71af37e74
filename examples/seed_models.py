"""The networks of the seed tutorials (shared/seeds/), written out as PyTorch modules.

Each class carries ``input_size``, the input its tutorial used; ``modelmeter summary
examples/seed_models.py:LeNet5`` uses it when no ``--input`` is given. The hand counts are in each
docstring and are checked exactly in tests/frontends/torch/test_seeds.py.
"""

from torch import nn
from torch.nn import functional as F


class LeNet5(nn.Module):
    """Seed 004. conv 1->6 k5, conv 6->16 k5, fc 400->120->84->10.

    params = (5*5*1+1)*6 + (5*5*6+1)*16 + (400*120+120) + (120*84+84) + (84*10+10) = 61,706
    """

    input_size = (1, 1, 32, 32)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 6, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 16, 5, 5)
        x = x.flatten(1)  # (N, 400)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class AlexNetNoBias(nn.Module):
    """Seed 001: the AlexNet variant with a 96-channel first conv and no conv bias.

    torchsummary prints 61,264,904 params; thop prints 861,301,280 (multiply-accumulates) at 3x224x224.
    """

    input_size = (1, 3, 224, 224)

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.feature_extraction = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4, padding=2, bias=False),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=0),
            nn.Conv2d(96, 192, kernel_size=5, stride=1, padding=2, bias=False),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=0),
            nn.Conv2d(192, 384, kernel_size=3, stride=1, padding=1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, stride=1, padding=1, bias=False),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, stride=1, padding=1, bias=False),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=0),
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.feature_extraction(x)  # (N, 256, 6, 6)
        x = x.view(x.size(0), 256 * 6 * 6)
        return self.classifier(x)


class BatchNormCNN(nn.Module):
    """Seed 002: conv-BN-pool twice, then fc 2048->64->10, on 3x32x32 (its view(-1, 32*8*8) implies 32x32).

    params = 16*(3*3^2+1) + 16*2 + 32*(16*3^2+1) + 32*2 + (32*8*8+1)*64 + (64+1)*10 = 136,970
    """

    input_size = (1, 3, 32, 32)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, stride=1, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(32 * 8 * 8, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))  # (N, 16, 16, 16)
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))  # (N, 32, 8, 8)
        x = x.view(-1, 32 * 8 * 8)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class MnistCNN(nn.Module):
    """Seed 003: the MNIST CNN (conv 1->32 k3 p1, conv 32->32 k3 p1, pool, fc 6272->128->10)."""

    input_size = (1, 1, 28, 28)

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc1 = nn.Linear(14 * 14 * 32, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))  # (N, 32, 28, 28)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 32, 14, 14)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        return self.fc2(x)

    @staticmethod
    def num_flat_features(x):
        n = 1
        for d in x.size()[1:]:
            n *= d
        return n


class Dense215(nn.Module):
    """Seed 000: Keras Dense 2->5->1. params = (5*2+5) + (1*5+1) = 21."""

    input_size = (1, 2)

    def __init__(self) -> None:
        super().__init__()
        self.dense = nn.Linear(2, 5)
        self.dense_1 = nn.Linear(5, 1)

    def forward(self, x):
        return self.dense_1(self.dense(x))


class Conv3to16(nn.Module):
    """Seed 000: Keras Conv2D(16, kernel_size=3) on 224x224x3. params = 3*3*3*16 + 16 = 448."""

    input_size = (1, 3, 224, 224)

    def __init__(self) -> None:
        super().__init__()
        self.conv2d = nn.Conv2d(3, 16, kernel_size=3)

    def forward(self, x):
        return self.conv2d(x)  # (N, 16, 222, 222)
