"""Keras 3 builds of the seed networks and of small ResNet-style and LSTM networks, each the twin of a PyTorch
module (examples/seed_models.py or :func:`torch_twins`), for the cross-frontend tests.

Keras is channels-last: a twin takes (N, H, W, C) where the PyTorch module takes (N, C, H, W); PyTorch's
``padding=p`` on a stride-1 odd kernel is Keras' ``"same"``, other paddings are a ZeroPadding2D before a
``"valid"`` conv.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

L = keras.layers


def lenet5() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            L.Conv2D(6, 5, activation="relu", name="conv1"),
            L.MaxPooling2D(2),
            L.Conv2D(16, 5, activation="relu", name="conv2"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(120, activation="relu", name="fc1"),
            L.Dense(84, activation="relu", name="fc2"),
            L.Dense(10, name="fc3"),
        ],
        name="lenet5",
    )


def alexnet_no_bias() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((224, 224, 3)),
            L.ZeroPadding2D(2),
            L.Conv2D(96, 11, strides=4, use_bias=False, activation="relu"),
            L.MaxPooling2D(3, strides=2),
            L.Conv2D(192, 5, padding="same", use_bias=False, activation="relu"),
            L.MaxPooling2D(3, strides=2),
            L.Conv2D(384, 3, padding="same", use_bias=False, activation="relu"),
            L.Conv2D(256, 3, padding="same", use_bias=False, activation="relu"),
            L.Conv2D(256, 3, padding="same", use_bias=False, activation="relu"),
            L.MaxPooling2D(3, strides=2),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(4096, activation="relu"),
            L.Dropout(0.5),
            L.Dense(4096, activation="relu"),
            L.Dense(1000),
        ],
        name="alexnet_no_bias",
    )


def batchnorm_cnn() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            L.Conv2D(16, 3, padding="same"),
            L.BatchNormalization(),
            L.ReLU(),
            L.MaxPooling2D(2),
            L.Conv2D(32, 3, padding="same"),
            L.BatchNormalization(),
            L.ReLU(),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(64, activation="relu"),
            L.Dense(10),
        ],
        name="batchnorm_cnn",
    )


def mnist_cnn() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.Conv2D(32, 3, padding="same", activation="relu"),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dense(10),
        ],
        name="mnist_cnn",
    )


def dense_2_5_1() -> keras.Model:
    """Seed 000: ``Sequential([Dense(5, input_shape=(2,)), Dense(1)])``."""
    return keras.Sequential([keras.Input((2,)), L.Dense(5), L.Dense(1)], name="dense_2_5_1")


def conv_3_to_16() -> keras.Model:
    """Seed 000: ``Conv2D(16, kernel_size=3)`` on 224x224x3."""
    return keras.Sequential([keras.Input((224, 224, 3)), L.Conv2D(16, 3, name="conv2d")], name="conv_3_to_16")


# seed model class in examples/seed_models.py -> its Keras twin
SEED_TWINS = {
    "LeNet5": lenet5,
    "AlexNetNoBias": alexnet_no_bias,
    "BatchNormCNN": batchnorm_cnn,
    "MnistCNN": mnist_cnn,
    "Dense215": dense_2_5_1,
    "Conv3to16": conv_3_to_16,
}


def _block(x: keras.KerasTensor, channels: int, stride: int) -> keras.KerasTensor:
    """A ResNet basic block: conv-bn-relu-conv-bn plus the shortcut (1x1 conv-bn when the shape changes)."""
    y = L.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False)(x)
    y = L.BatchNormalization()(y)
    y = L.ReLU()(y)
    y = L.Conv2D(channels, 3, padding="same", use_bias=False)(y)
    y = L.BatchNormalization()(y)
    if stride != 1 or x.shape[-1] != channels:
        x = L.Conv2D(channels, 1, strides=stride, use_bias=False)(x)
        x = L.BatchNormalization()(x)
    return L.ReLU()(L.Add()([x, y]))


def small_resnet() -> keras.Model:
    inp = keras.Input((32, 32, 3))
    x = L.Conv2D(16, 3, padding="same", use_bias=False)(inp)
    x = L.ReLU()(L.BatchNormalization()(x))
    x = _block(x, 16, 1)
    x = _block(x, 32, 2)
    x = L.GlobalAveragePooling2D()(x)
    return keras.Model(inp, L.Dense(10)(x), name="small_resnet")


def lstm_net(bias: bool) -> keras.Model:
    inp = keras.Input((12,), dtype="int32")
    x = L.Embedding(100, 16)(inp)
    x = L.LSTM(32, use_bias=bias)(x)
    return keras.Model(inp, L.Dense(5)(x), name="lstm_net")


def torch_twins() -> dict[str, object]:
    """The PyTorch modules of :func:`small_resnet` and :func:`lstm_net` (built here so torch stays optional)."""
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c_in: int, c: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(c_in, c, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)
            self.relu = nn.ReLU()
            self.down = None
            if stride != 1 or c_in != c:
                self.down = nn.Sequential(nn.Conv2d(c_in, c, 1, stride, bias=False), nn.BatchNorm2d(c))

        def forward(self, x):
            y = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu((self.down(x) if self.down is not None else x) + y)

    class SmallResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
            self.layer1 = Block(16, 16, 1)
            self.layer2 = Block(16, 32, 2)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(32, 10)

        def forward(self, x):
            return self.fc(self.pool(self.layer2(self.layer1(self.stem(x)))).flatten(1))

    class LSTMNet(nn.Module):
        def __init__(self, bias: bool) -> None:
            super().__init__()
            self.embedding = nn.Embedding(100, 16)
            self.lstm = nn.LSTM(16, 32, batch_first=True, bias=bias)
            self.fc = nn.Linear(32, 5)

        def forward(self, ids):
            out, _ = self.lstm(self.embedding(ids))
            return self.fc(out[:, -1])

    return {"small_resnet": SmallResNet, "lstm_net": LSTMNet}
