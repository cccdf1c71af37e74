"""Where ``device="auto"`` runs the counting forward: real compute on the CPU or shapes only on meta.

Counts do not depend on the choice (tests/test_strategy.py runs both on several models and compares the
whole report); only the time does. On meta every op costs Python work (a meta kernel, or a lookup in
meta_cache.py) whatever its size; on the CPU an op costs its arithmetic, plus a copy of every weight. Since
meta ops are cached and the commonest are made directly (meta_rules.py), meta wins for every torchvision CNN
measured, MobileNet-v3-small included (33 ms against 36 ms); the CPU still wins for the smallest networks
(LeNet-5: 1.9 ms against 3.0 ms, the seeds' MNIST CNN 1.9 against 2.2: a few million MACs in all). The
threshold below sits between (the estimates: LeNet-5 2.7 M, the MNIST CNN 8.3 M, ShuffleNet-v2-x0.5 12 M,
MobileNet-v3-small 57 M).

The MACs are estimated before running, from the module tree alone: for an image CNN, each Conv2d's weight
times the positions its output has, assuming the spatial size shrinks by each conv / pool stride in the order
the modules are registered (the order they run in, for the CNNs this path is meant for). Anything else
(sequences, attention, recurrent layers, 3-D inputs, a memory measurement) runs on meta, as before.
"""

from __future__ import annotations

from math import prod
from typing import Any

import torch
from torch import nn

from .inputs import Inputs
from .module_tree import ModuleTree

MAX_MACS_ON_CPU = 10_000_000  # at most this many estimated MACs in all: run on the CPU
MAX_WEIGHT_BYTES_ON_CPU = 256 * 2**20  # the CPU run copies every weight

_META_ONLY = (nn.RNNBase, nn.RNNCellBase, nn.MultiheadAttention, nn.Transformer, nn.TransformerEncoderLayer)


def _pair(v: Any) -> int:
    return int(prod(v)) if isinstance(v, (tuple, list)) else int(v) ** 2


def estimated_macs(model: nn.Module, image: tuple[int, ...]) -> int | None:
    """MACs of an image CNN on an (N, C, H, W) input, estimated from its modules; None if not such a CNN."""
    if len(image) != 4:
        return None
    total = 0
    channels = image[1]

    def walk(module: nn.Module, positions: int, root: bool) -> int | None:
        nonlocal total, channels
        before_pool = None
        for m in module.children():
            if isinstance(m, _META_ONLY) or isinstance(m, (nn.Conv1d, nn.Conv3d, nn.ConvTranspose2d)):
                return None
            if isinstance(m, nn.Conv2d):
                positions = max(positions // _pair(m.stride), 1)
                total += m.weight.numel() * positions
                channels = m.out_channels
            elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
                positions = max(positions // _pair(m.stride if m.stride is not None else m.kernel_size), 1)
            elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
                before_pool = positions if before_pool is None else before_pool
                size = m.output_size
                positions = prod((s or 1) for s in size) if isinstance(size, tuple) else _pair(size or 1)
            elif isinstance(m, nn.Linear):
                # on the channels at every position (ConvNeXt's MLPs), or once on a flattened map (LeNet)
                total += m.weight.numel() * (positions if m.in_features == channels else 1)
            else:
                found = walk(m, positions, False)
                if found is None:
                    return None
                positions = found
        # a pool inside a block (squeeze-and-excitation) gates the block's input: its size goes on after it
        return before_pool if before_pool is not None and not root else positions

    return None if walk(model, image[2] * image[3], True) is None else total * image[0]


def _image_shape(inputs: Inputs) -> tuple[int, ...] | None:
    """The single floating-point input's shape, or None when there are several, or keyword inputs."""
    tensors = [t for t in inputs.args if isinstance(t, torch.Tensor)]
    if len(tensors) != 1 or len(inputs.args) != 1 or inputs.kwargs or not tensors[0].dtype.is_floating_point:
        return None
    return tuple(int(d) for d in tensors[0].shape)


def choose_device(model: nn.Module | ModuleTree, inputs: Inputs, memory: bool) -> str:
    """``"cpu"`` where real compute is estimated cheaper than meta for this model and input, else ``"meta"``."""
    if memory:  # memory is defined by the meta run (real devices' attention kernels allocate differently)
        return "meta"
    tree = model if isinstance(model, ModuleTree) else ModuleTree(model)
    tensors = [*tree.parameters, *tree.buffers]
    if any(t.device.type not in ("cpu", "meta") or t.is_quantized for t in tensors):
        return "meta"
    if sum(t.numel() * t.element_size() for t in tensors) > MAX_WEIGHT_BYTES_ON_CPU:
        return "meta"
    image = _image_shape(inputs)
    macs = estimated_macs(tree.model, image) if image is not None else None
    return "meta" if macs is None or macs > MAX_MACS_ON_CPU else "cpu"
