"""A small nested network for the renderer golden files: a stem with BatchNorm (buffers), one block
called twice (calls x2, parameters once) and a head. Hand counts at input (1, 3, 16, 16):

    stem.0  Conv2d(3->8, k3, pad 1, no bias): params 8*3*3*3 = 216;   MACs 8*16*16 * 3*3*3 = 55,296
    stem.1  BatchNorm2d(8): params 2*8 = 16; buffers 8 + 8 + 1 = 17
    block.conv Conv2d(8->8, k3, pad 1, no bias): params 8*8*3*3 = 576; MACs 8*16*16 * 8*3*3 = 147,456 per call, x2
    block.bn  BatchNorm2d(8): params 16; buffers 17
    head.2  Linear(8->10): params 8*10 + 10 = 90; MACs 80
    total   params 216 + 16 + 576 + 16 + 90 = 914; MACs 55,296 + 2*147,456 + 80 = 350,288
"""

from torch import nn


class Block(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class NestedNet(nn.Module):
    input_size = (1, 3, 16, 16)

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.block = Block(8)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def forward(self, x):
        x = self.stem(x)
        x = self.block(x)  # (1, 8, 16, 16)
        x = self.block(x)  # the same block again: its MACs twice, its parameters once
        return self.head(x)
