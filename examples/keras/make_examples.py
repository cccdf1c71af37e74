"""Writes the seed tutorial's two Keras models as .keras files next to this script (run it to rebuild them):

    KERAS_BACKEND=torch python examples/keras/make_examples.py
    modelmeter summary examples/keras/dense_2_5_1.keras     # 21 params
    modelmeter summary examples/keras/conv_3_to_16.keras    # 448 params, output (1, 222, 222, 16)

Seed 000 builds them as ``Sequential([Dense(5, input_shape=(2,)), Dense(1)])`` and ``Conv2D(16, kernel_size=3)`` on
224x224x3; the weights are Keras' random initialisation (only their count matters here).
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

HERE = Path(__file__).resolve().parent


def main() -> None:
    keras.utils.set_random_seed(0)
    dense = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(5, name="dense"), keras.layers.Dense(1, name="dense_1")],
        name="dense_2_5_1",
    )
    conv = keras.Sequential(
        [keras.Input((224, 224, 3)), keras.layers.Conv2D(16, 3, name="conv2d")], name="conv_3_to_16"
    )
    for model in (dense, conv):
        model.save(HERE / f"{model.name}.keras")


if __name__ == "__main__":
    main()
