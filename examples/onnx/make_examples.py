"""Writes the seed tutorial's LeNet-5 as an ONNX file next to this script (run it to rebuild it):

    python examples/onnx/make_examples.py
    modelmeter summary examples/onnx/lenet5.onnx    # 61,706 params, 416,520 MACs: the same as the PyTorch model

The model is ``examples/seed_models.py:LeNet5`` exported with ``torch.onnx.export`` (the TorchScript exporter,
``dynamo=False``) on a 1x1x32x32 input with a symbolic batch dim, so ``--dim batch=8`` or
``--input input=8,1,32,32`` re-binds it. Reading the file needs ``onnx``, not torch.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from seed_models import LeNet5  # noqa: E402


def main() -> None:
    torch.manual_seed(0)
    model = LeNet5().eval()
    torch.onnx.export(
        model,
        (torch.randn(1, 1, 32, 32),),
        str(HERE / "lenet5.onnx"),
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        dynamo=False,
    )


if __name__ == "__main__":
    main()
