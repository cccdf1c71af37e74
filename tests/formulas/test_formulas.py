"""Closed-form checks of the formula registry; no framework needed."""

import pytest

from modelmeter.formulas import FORMULAS, Cost, formula, register


def test_flops_are_two_per_mac_plus_other():
    assert Cost(macs=10, other_flops=3).flops == 23  # 2*10 + 3
    assert (Cost(1, 2) + Cost(3, 4)) == Cost(4, 6)
    assert Cost(2, 1) * 3 == Cost(6, 3)


def test_registry_refuses_duplicates():
    with pytest.raises(ValueError, match="registered twice"):
        register("conv")(lambda: Cost())
    assert "conv" in FORMULAS


def test_conv2d_lenet_conv1():
    # Conv2d(1, 6, 5) on (1, 1, 32, 32) -> (1, 6, 28, 28): 5*5*1 * 6*28*28 = 117,600 MACs; 6*28*28 = 4,704 bias adds
    c = formula("conv")((1, 1, 32, 32), (6, 1, 5, 5), (1, 6, 28, 28), bias=True)
    assert c == Cost(macs=117_600, other_flops=4_704)


def test_grouped_and_depthwise_conv():
    # groups=4: weight (16, 8/4, 3, 3); 2*16*14*14 outputs * 2*3*3 = 112,896
    assert formula("conv")((2, 8, 14, 14), (16, 2, 3, 3), (2, 16, 14, 14)).macs == 112_896
    # depthwise 8 channels: 8*14*14 outputs * 1*3*3 = 14,112
    assert formula("conv")((1, 8, 14, 14), (8, 1, 3, 3), (1, 8, 14, 14)).macs == 14_112


def test_transposed_conv_scatters_each_input():
    # ConvTranspose2d(4, 8, 3, stride=2): weight (4, 8, 3, 3); 4*5*5 inputs * 8*3*3 = 7,200
    assert formula("conv")((1, 4, 5, 5), (4, 8, 3, 3), (1, 8, 11, 11), transposed=True).macs == 7_200


def test_conv1d_and_3d():
    # Conv1d(3, 4, 5) on (1, 3, 20) -> (1, 4, 16): 4*16 * 3*5 = 960
    assert formula("conv")((1, 3, 20), (4, 3, 5), (1, 4, 16)).macs == 960
    # Conv3d(2, 4, 3) on (1, 2, 6, 6, 6) -> (1, 4, 4, 4, 4): 4*64 * 2*27 = 13,824
    assert formula("conv")((1, 2, 6, 6, 6), (4, 2, 3, 3, 3), (1, 4, 4, 4, 4)).macs == 13_824


def test_matmul_broadcasting_and_vectors():
    assert formula("matmul")((3, 4), (4, 5)).macs == 60  # 3*4*5
    assert formula("matmul")((2, 1, 3, 4), (5, 4, 6)).macs == 720  # batch (2,5): 2*5*3*4*6
    assert formula("matmul")((7,), (7,)).macs == 7  # dot
    assert formula("matmul")((3, 7), (7,)).macs == 21  # mv
    assert formula("matmul")((7,), (7, 2)).macs == 14  # vm


def test_linear_and_addmm():
    # Linear(16, 32) on (2, 10, 16): 20 rows * 16*32 = 10,240 MACs; 20*32 = 640 bias adds
    assert formula("linear")((2, 10, 16), 32, bias=True) == Cost(10_240, 640)
    assert formula("addmm")((20, 16), (16, 32)) == Cost(10_240, 640)


def test_attention():
    # q (1,2,8,16), k (1,2,10,16), v (1,2,10,32): 2 heads * 8*10*(16+32) = 7,680
    assert formula("attention")((1, 2, 8, 16), (1, 2, 10, 16), (1, 2, 10, 32)).macs == 7_680
