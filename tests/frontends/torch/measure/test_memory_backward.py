"""Backward FLOPs: the gradient formulas in closed form, and whole backward passes against hand counts."""

import pytest

from modelmeter.formulas import formula


def test_gradient_formulas_closed_form():
    assert formula("gradient")("silu_backward", 1 * 112 * 112 * 32).other_flops == 401_408 * 6 == 2_408_448
    assert formula("gradient")("threshold_backward", 80).other_flops == 80
    assert formula("gradient")("slice_backward", 1000).other_flops == 0
    # LayerNorm(768) with weight and bias on (1, 197, 768): input grad 9 + 1, weight grad 2, bias grad 1
    ln = formula("norm_backward")(197 * 768, stats=True, weight=True, input_grad=True, weight_grad=True, bias_grad=True)
    assert ln.other_flops == 151_296 * 13 == 1_966_848
    # BatchNorm in eval (running statistics), input gradient only: g * w / sigma = 2 per element
    assert formula("norm_backward")(100, stats=False, weight=True).other_flops == 200


torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import modelmeter  # noqa: E402


def test_mlp_backward_hand_count():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    t = modelmeter.summary(model, input_size=(4, 10), train=True).memory.training
    # linear2: grad input (4x5)@(5x20) = 400 MACs, grad weight (5x4)@(4x20) = 400 MACs, grad bias: sum of 4x5 = 20
    # relu: g where x > 0 over 4x20 = 80
    # linear1: grad weight (20x4)@(4x10) = 800 MACs, grad bias: sum of 4x20 = 80; no grad of the model's input
    assert t.backward_macs == 400 + 400 + 800
    assert t.backward_flops == 2 * 1600 + 20 + 80 + 80 == 3380
    assert t.backward_uncounted_ops == ()


@pytest.mark.parametrize("ref", ["torchvision:resnet18", "torchvision:mobilenet_v3_small", "torchvision:vit_b_16"])
def test_zoo_backward_has_no_uncounted_ops(ref):
    t = modelmeter.summary(ref, train=True).memory.training
    assert t.backward_uncounted_ops == ()
    # backward does about twice the forward's MACs, less the first layer's missing input gradient
    assert 1.8 * t.forward_macs < t.backward_macs <= 2 * t.forward_macs
