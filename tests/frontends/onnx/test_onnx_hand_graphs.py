"""Graphs built node by node with onnx.helper, each against a hand count written next to it."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from modelmeter.errors import InputError  # noqa: E402
from modelmeter.frontends.onnx import analyze_onnx  # noqa: E402

F = TensorProto.FLOAT
RNG = np.random.default_rng(0)


def weight(name: str, *shape: int, dtype=np.float32) -> onnx.TensorProto:
    return numpy_helper.from_array(RNG.standard_normal(shape).astype(dtype), name)


def save(tmp_path, nodes, inputs, outputs, inits=(), opset=17, name="g.onnx", extra_opsets=()) -> str:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    opsets = [helper.make_opsetid("", opset), *extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 10
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def io(name: str, *shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, F, list(shape))


def test_gemm_trans_b(tmp_path):
    # y = x (4, 8) @ Wᵀ with W (16, 8) stored transposed (transB=1) + b (16)
    node = helper.make_node("Gemm", ["x", "W", "b"], ["y"], name="/fc/Gemm", transB=1)
    path = save(tmp_path, [node], [io("x", 4, 8)], [io("y", 4, 16)], [weight("W", 16, 8), weight("b", 16)])
    r = analyze_onnx(path)
    assert r.totals.params == 16 * 8 + 16 == 144
    assert r.totals.macs == 4 * 8 * 16 == 512
    assert r.totals.flops == 2 * 512 + 4 * 16  # + one bias add per output = 1,088
    row = r.layer("fc")
    assert row.attrs == {"in_features": 8, "out_features": 16, "bias": True}  # what explain reads
    assert row.output_shapes == ((4, 16),)


def test_gemm_trans_a_alpha(tmp_path):
    # A stored (K, M) = (8, 4) with transA=1, B (8, 16); alpha=0.5 multiplies every output once
    node = helper.make_node("Gemm", ["a", "B"], ["y"], transA=1, alpha=0.5)
    path = save(tmp_path, [node], [io("a", 8, 4)], [io("y", 4, 16)], [weight("B", 8, 16)])
    r = analyze_onnx(path)
    assert r.totals.macs == 4 * 8 * 16 == 512
    assert r.totals.flops == 2 * 512 + 4 * 16  # alpha: 64 multiplies


def test_grouped_conv(tmp_path):
    # Conv 8 -> 16 channels, 4 groups, k 3x3, pad 1, on (1, 8, 10, 10): each output element reads 8/4 = 2
    # input channels x 9 taps; params = 16 * 2 * 3 * 3 + 16 = 304; MACs = 16*10*10 outputs * 2*9 = 28,800
    node = helper.make_node("Conv", ["x", "W", "b"], ["y"], name="/conv/Conv", group=4, pads=[1, 1, 1, 1])
    path = save(
        tmp_path, [node], [io("x", 1, 8, 10, 10)], [io("y", 1, 16, 10, 10)], [weight("W", 16, 2, 3, 3), weight("b", 16)]
    )
    r = analyze_onnx(path)
    assert r.totals.params == 16 * 2 * 3 * 3 + 16 == 304
    assert r.totals.macs == 16 * 10 * 10 * 2 * 9 == 28_800
    assert r.totals.flops == 2 * 28_800 + 1600  # bias per output element
    assert r.layer("conv").output_shapes == ((1, 16, 10, 10),)
    assert r.layer("conv").attrs["groups"] == 4
    text = r.explain()  # the hand calculation works on an ONNX layer too
    assert "28,800" in text and "304" in text


def test_depthwise_conv_transpose(tmp_path):
    # ConvTranspose 4 -> 4, group 4, k 2, stride 2 on (1, 4, 5, 5): every input element scatters into
    # (C_out/g) * k*k = 1 * 4 outputs: 100 inputs * 4 = 400 MACs; params 4*1*2*2 = 16 (no bias)
    node = helper.make_node("ConvTranspose", ["x", "W"], ["y"], group=4, strides=[2, 2])
    path = save(tmp_path, [node], [io("x", 1, 4, 5, 5)], [io("y", 1, 4, 10, 10)], [weight("W", 4, 1, 2, 2)])
    r = analyze_onnx(path)
    assert (r.totals.params, r.totals.macs) == (16, 4 * 5 * 5 * 4)


def test_batched_3d_matmul(tmp_path):
    # (6, 3, 4) @ (6, 4, 5): 6 batches of 3*4*5 = 60 -> 360 MACs; no parameters (both inputs are activations)
    node = helper.make_node("MatMul", ["a", "b"], ["y"])
    path = save(tmp_path, [node], [io("a", 6, 3, 4), io("b", 6, 4, 5)], [io("y", 6, 3, 5)])
    r = analyze_onnx(path)
    assert r.totals.macs == 6 * 3 * 4 * 5 == 360
    assert r.totals.params == 0
    assert r.inputs[0].shape == (6, 3, 4)


def test_matmul_broadcast_and_1d(tmp_path):
    # (2, 1, 3, 4) @ (5, 4, 7) broadcasts to a (2, 5) batch: 10 * 3*4*7 = 840; then @ (7,) (1-D): 10*3*7 = 210
    nodes = [helper.make_node("MatMul", ["a", "b"], ["ab"]), helper.make_node("MatMul", ["ab", "v"], ["y"])]
    path = save(tmp_path, nodes, [io("a", 2, 1, 3, 4), io("b", 5, 4, 7)], [io("y", 2, 5, 3)], [weight("v", 7)])
    r = analyze_onnx(path)
    assert r.totals.macs == 10 * 3 * 4 * 7 + 10 * 3 * 7 == 1050
    assert r.totals.params == 7


def test_einsum(tmp_path):
    # "bhqd,bhkd->bhqk" on (2, 4, 8, 16) x (2, 4, 10, 16): 2*4 * 8*10*16 = 10,240 MACs
    node = helper.make_node("Einsum", ["q", "k"], ["s"], equation="bhqd,bhkd->bhqk")
    path = save(tmp_path, [node], [io("q", 2, 4, 8, 16), io("k", 2, 4, 10, 16)], [io("s", 2, 4, 8, 10)])
    assert analyze_onnx(path).totals.macs == 2 * 4 * 8 * 10 * 16 == 10_240


def test_bidirectional_lstm(tmp_path):
    # LSTM hidden 20, input 10, bidirectional, on 7 steps x batch 3 (seq, batch, input):
    # params per direction 4*20*(10 + 20) + 2*4*20 = 2,560; both directions 5,120
    # MACs: 2 directions * 21 rows * 4*20*(10+20) = 100,800
    # FLOPs: 2 * MACs + 2 * 21 * (2*80 bias adds + 13*20 gate steps) = 201,600 + 17,640 = 219,240
    node = helper.make_node("LSTM", ["x", "W", "R", "B"], ["y"], hidden_size=20, direction="bidirectional")
    inits = [weight("W", 2, 80, 10), weight("R", 2, 80, 20), weight("B", 2, 160)]
    path = save(tmp_path, [node], [io("x", 7, 3, 10)], [io("y", 7, 2, 3, 20)], inits)
    r = analyze_onnx(path)
    assert r.totals.params == 2 * (4 * 20 * (10 + 20) + 2 * 4 * 20) == 5_120
    assert r.totals.macs == 2 * 21 * 4 * 20 * 30 == 100_800
    assert r.totals.flops == 2 * 100_800 + 2 * 21 * (2 * 80 + 13 * 20) == 219_240


def test_gru_batch_first_layout(tmp_path):
    # GRU hidden 8, input 4, layout=1 (batch, seq, input) = (2, 5, 4): 10 rows * 3*8*(4+8) = 2,880 MACs
    node = helper.make_node("GRU", ["x", "W", "R"], ["y"], hidden_size=8, layout=1)
    path = save(
        tmp_path, [node], [io("x", 2, 5, 4)], [io("y", 2, 5, 1, 8)], [weight("W", 1, 24, 4), weight("R", 1, 24, 8)]
    )
    r = analyze_onnx(path)
    assert r.totals.macs == 10 * 3 * 8 * 12 == 2_880
    assert r.totals.params == 24 * 4 + 24 * 8 == 288


def test_attention_opset23(tmp_path):
    # ai.onnx Attention: Q (1, 4, 6, 8), K and V (1, 4, 10, 8) (B, heads, T, d), is_causal=1
    # scores Q Kᵀ: 4 heads * 6*10 pairs * 8 = 1,920 MACs; weighted values: the same 1,920 -> 3,840 MACs
    # FLOPs: 2*3,840 + per score (240 scores) 1 scale + 1 mask + 5 softmax = 7,680 + 1,680 = 9,360
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], is_causal=1)
    path = save(
        tmp_path, [node], [io("q", 1, 4, 6, 8), io("k", 1, 4, 10, 8), io("v", 1, 4, 10, 8)], [io("y", 1, 4, 6, 8)],
        opset=23,
    )  # fmt: skip
    r = analyze_onnx(path)
    assert r.totals.macs == 2 * 4 * 6 * 10 * 8 == 3_840
    assert r.totals.flops == 2 * 3_840 + 4 * 6 * 10 * (1 + 1 + 5) == 9_360
    # causal-aware: query i sees keys j <= i + (10 - 6) (bottom-right aligned): 5+6+7+8+9+10 = 45 pairs per head
    r = analyze_onnx(path, attention="causal-aware")
    assert r.totals.macs == 4 * 45 * (8 + 8) == 2_880


def test_attention_3d_gqa(tmp_path):
    # 3-D Attention with q_num_heads=4, kv_num_heads=2: Q (2, 5, 32) -> 4 heads of 8; K, V (2, 5, 16) -> 2 heads of 8
    # every query head attends to its group's keys: 2 batch * 4 heads * 5*5 pairs * (8 + 8) = 3,200 MACs
    node = helper.make_node("Attention", ["q", "k", "v"], ["y"], q_num_heads=4, kv_num_heads=2)
    path = save(
        tmp_path, [node], [io("q", 2, 5, 32), io("k", 2, 5, 16), io("v", 2, 5, 16)], [io("y", 2, 5, 32)], opset=23
    )
    assert analyze_onnx(path).totals.macs == 2 * 4 * 5 * 5 * 16 == 3_200


def test_microsoft_attention(tmp_path):
    # com.microsoft Attention: x (1, 6, 16) @ W (16, 48) + bias: 6*16*48 = 4,608 MACs; 2 heads of 8 over
    # 6x6 pairs: 2 * 36 * (8 + 8) = 1,152 MACs; total 5,760. Params 16*48 + 48 = 816
    node = helper.make_node("Attention", ["x", "W", "b"], ["y"], domain="com.microsoft", num_heads=2)
    relu = helper.make_node("Relu", ["y"], ["z"])  # after the contrib op: its output shape must be known
    path = save(
        tmp_path, [node, relu], [io("x", 1, 6, 16)], [io("z", 1, 6, 16)], [weight("W", 16, 48), weight("b", 48)],
        extra_opsets=[helper.make_opsetid("com.microsoft", 1)],
    )  # fmt: skip
    r = analyze_onnx(path)
    assert r.totals.macs == 6 * 16 * 48 + 2 * 36 * 16 == 5_760
    assert r.totals.params == 816
    assert r.by_op()[0].op == "com.microsoft.Attention"
    assert {o.op for o in r.by_op()} >= {"Relu"} and r.uncounted == {}


def _symbolic_model(tmp_path) -> str:
    # x (batch, 8) -> Gemm to 4 -> Relu; the batch dim is symbolic
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["y"])]
    x = helper.make_tensor_value_info("x", F, ["batch", 8])
    y = helper.make_tensor_value_info("y", F, ["batch", 4])
    return save(tmp_path, nodes, [x], [y], [weight("W", 4, 8), weight("b", 4)])


def test_symbolic_batch_dim(tmp_path):
    path = _symbolic_model(tmp_path)
    # batch 3: MACs 3*8*4 = 96; FLOPs 2*96 + 12 bias adds + 12 ReLU = 216
    for r in (
        analyze_onnx(path, dims={"batch": 3}),
        analyze_onnx(path, inputs={"x": (3, 8)}),
        analyze_onnx(path, inputs=[(3, 8)]),
    ):
        assert (r.totals.macs, r.totals.flops) == (96, 216)
        assert r.inputs[0].shape == (3, 8)
    assert analyze_onnx(path, dims={"batch": 5}).totals.macs == 5 * 8 * 4


def test_symbolic_dim_unbound_names_input_and_dim(tmp_path):
    path = _symbolic_model(tmp_path)
    with pytest.raises(InputError, match=r"input 'x' dim 0 \('batch'\) is unknown; give --dim batch=N"):
        analyze_onnx(path)
    with pytest.raises(InputError, match="dim 1 is 8 in the model, 9 was given"):
        analyze_onnx(path, inputs={"x": (1, 9)})
    with pytest.raises(InputError, match="no input named 'y'"):
        analyze_onnx(path, inputs={"y": (1, 8)})
    with pytest.raises(InputError, match="a dim must be between"):
        analyze_onnx(path, dims={"batch": 2**60})


def test_shared_weight_counted_once(tmp_path):
    # one W (8, 8) read by two MatMuls: 64 params, 2 * 1*8*8 MACs
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"], name="/a/MatMul"),
        helper.make_node("MatMul", ["h", "W"], ["y"], name="/b/MatMul"),
    ]
    path = save(tmp_path, nodes, [io("x", 1, 8)], [io("y", 1, 8)], [weight("W", 8, 8)])
    r = analyze_onnx(path)
    assert r.totals.params == 64
    assert r.totals.macs == 2 * 64
    assert r.layer("a").params == r.layer("b").params == 64  # a tied weight shows under both, as in PyTorch


def test_fp16_and_int8_bytes(tmp_path):
    # an fp16 weight (4, 8) and an int8 weight (8, 8) used by MatMulInteger: bytes as stored
    nodes = [
        helper.make_node("MatMul", ["x", "W16"], ["h"]),
        helper.make_node("MatMulInteger", ["q", "W8"], ["y"]),
    ]
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 4]),
        helper.make_tensor_value_info("q", TensorProto.INT8, [1, 8]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 8])]
    path = save(
        tmp_path, nodes, inputs, outputs, [weight("W16", 4, 8, dtype=np.float16), weight("W8", 8, 8, dtype=np.int8)]
    )
    r = analyze_onnx(path)
    assert r.totals.params == 32 + 64
    assert dict(r.totals.param_bytes_by_dtype) == {"float16": 32 * 2, "int8": 64}
    assert r.totals.macs == 1 * 4 * 8 + 1 * 8 * 8


def test_if_constant_condition_counts_taken_branch(tmp_path):
    # then: MatMul (1, 8) @ (8, 8) = 64 MACs; else: Relu only. The condition is a constant True.
    then_g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["t"])], "then", [], [io("t", 1, 8)])
    else_g = helper.make_graph([helper.make_node("Relu", ["x"], ["e"])], "else", [], [io("e", 1, 8)])
    cond = numpy_helper.from_array(np.array(True), "cond")
    node = helper.make_node("If", ["cond"], ["y"], name="/gate/If", then_branch=then_g, else_branch=else_g)
    path = save(tmp_path, [node], [io("x", 1, 8)], [io("y", 1, 8)], [cond, weight("W", 8, 8)])
    r = analyze_onnx(path)
    assert r.totals.macs == 64
    names = {row.name for row in r.layers}
    assert {"gate.If.then_branch", "gate.If.else_branch"} <= names  # both branches reported
    assert r.layer("gate.If.else_branch").macs == 0
    assert any("the then branch is counted" in n for n in r.notes)


def test_loop_trip_count(tmp_path):
    # a Loop with max trip count M = 5 whose body does x @ W (1, 8) @ (8, 8) = 64 MACs: 5 * 64 = 320
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("MatMul", ["h_in", "W"], ["h_out"])],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            io("h_in", 1, 8),
        ],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), io("h_out", 1, 8)],
    )
    node = helper.make_node("Loop", ["M", "", "x"], ["y"], name="/rnn/Loop", body=body)
    m = numpy_helper.from_array(np.array(5, dtype=np.int64), "M")
    path = save(tmp_path, [node], [io("x", 1, 8)], [io("y", 1, 8)], [m, weight("W", 8, 8)])
    r = analyze_onnx(path)
    assert r.totals.macs == 5 * 64
    assert r.layer("rnn.Loop.body").calls == 5
    # the trip count as an input: --dim names it
    node2 = helper.make_node("Loop", ["steps", "", "x"], ["y"], name="/rnn/Loop", body=body)
    steps = helper.make_tensor_value_info("steps", TensorProto.INT64, [])
    path2 = save(tmp_path, [node2], [steps, io("x", 1, 8)], [io("y", 1, 8)], [weight("W", 8, 8)], name="g2.onnx")
    with pytest.raises(InputError, match="trip count is not a constant; give --dim steps=N"):
        analyze_onnx(path2)
    assert analyze_onnx(path2, dims={"steps": 7}).totals.macs == 7 * 64


def test_unknown_op_is_uncounted(tmp_path):
    node = helper.make_node("MyOp", ["x"], ["y"], domain="my.domain")
    relu = helper.make_node("Relu", ["x"], ["z"])
    path = save(
        tmp_path,
        [node, relu],
        [io("x", 1, 8)],
        [io("y", 1, 8), io("z", 1, 8)],
        extra_opsets=[helper.make_opsetid("my.domain", 1)],
    )
    r = analyze_onnx(path)
    assert r.uncounted == {"my.domain.MyOp": 1}
    assert r.totals.flops == 8  # the Relu


def test_runtime_shape_arithmetic_is_folded(tmp_path):
    # x (batch, 8, 4) viewed as (batch, 8 // 2, 2*4) by Shape -> Gather -> Div -> Concat -> Reshape (what a traced
    # x.view(b, c // 2, -1) exports to; onnx's data propagation stops at Div), then @ W (8, 3):
    # batch 5: 5*4 rows * 8 * 3 = 480 MACs
    c = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)  # noqa: E731
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["b"], axis=0),
        helper.make_node("Gather", ["s", "i1"], ["ch"], axis=0),
        helper.make_node("Div", ["ch", "two"], ["half"]),
        helper.make_node("Unsqueeze", ["b", "ax"], ["b1"]),
        helper.make_node("Unsqueeze", ["half", "ax"], ["h1"]),
        helper.make_node("Concat", ["b1", "h1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["v"]),
        helper.make_node("MatMul", ["v", "W"], ["y"]),
    ]
    inits = [c("i0", 0), c("i1", 1), c("two", 2), c("ax", [0]), c("minus1", [-1]), weight("W", 8, 3)]
    x = helper.make_tensor_value_info("x", F, ["batch", 8, 4])
    path = save(tmp_path, nodes, [x], [helper.make_tensor_value_info("y", F, ["batch", 4, 3])], inits)
    r = analyze_onnx(path, dims={"batch": 5})
    assert r.totals.macs == 5 * 4 * 8 * 3 == 480
    assert r.uncounted == {}


def test_norms_softmax_pools_resize_reductions(tmp_path):
    # x (1, 4, 6, 6) = 144 elements
    nodes = [
        # LayerNormalization over the last axis with scale and bias: 144 * (5 + 1 + 1) = 1,008
        helper.make_node("LayerNormalization", ["x", "g", "b"], ["ln"], axis=-1),
        # Softmax: 5 per element = 720
        helper.make_node("Softmax", ["ln"], ["sm"], axis=-1),
        # MaxPool 2x2 stride 2 -> (1, 4, 3, 3): 36 outputs * 4 = 144
        helper.make_node("MaxPool", ["sm"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]),
        # Resize linear x2 -> (1, 4, 6, 6): 144 outputs * (2*4 - 1) = 1,008 (bilinear: 4 taps)
        helper.make_node("Resize", ["mp", "", "scales"], ["rs"], mode="linear"),
        # Resize nearest: a copy, 0
        helper.make_node("Resize", ["rs", "", "scales1"], ["rn"], mode="nearest"),
        # GlobalAveragePool -> (1, 4, 1, 1): 4 planes * 36 = 144
        helper.make_node("GlobalAveragePool", ["rn"], ["gp"]),
        # ReduceMean over axis 1 of gp (4 elements): 4
        helper.make_node("ReduceMean", ["gp", "axes"], ["y"], keepdims=1),
    ]
    inits = [
        weight("g", 6),
        weight("b", 6),
        numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
        numpy_helper.from_array(np.array([1, 1, 1, 1], np.float32), "scales1"),
        numpy_helper.from_array(np.array([1], np.int64), "axes"),
    ]
    path = save(tmp_path, nodes, [io("x", 1, 4, 6, 6)], [io("y", 1, 1, 1, 1)], inits, opset=18)
    r = analyze_onnx(path)
    ops = {o.op: o.flops for o in r.by_op()}
    assert ops["LayerNormalization"] == 144 * 7 == 1_008
    assert ops["Softmax"] == 144 * 5 == 720
    assert ops["MaxPool"] == 36 * 4 == 144
    assert ops["Resize"] == 144 * 7 == 1_008
    assert ops["GlobalAveragePool"] == 4 * 36 == 144
    assert ops["ReduceMean"] == 4
    assert r.totals.macs == 0 and r.totals.params == 12 and r.uncounted == {}


def test_matmul_nbits_4bit(tmp_path):
    # com.microsoft MatMulNBits: A (2, 64) @ W (K=64, N=16) stored 4-bit in uint8 blocks of 32: B (16, 2, 16)
    # logical params 64*16 = 1,024 (+ 32 fp32 scales, not parameters); stored bytes 16*2*16 = 512
    # MACs 2*64*16 = 2,048; FLOPs 2*2,048 + 2 per weight dequantized (2*1,024) = 6,144, + 32 for the Relu
    b = numpy_helper.from_array(np.arange(512, dtype=np.uint8).reshape(16, 2, 16), "B")
    scales = numpy_helper.from_array(np.full(32, 0.1, np.float32), "scales")
    node = helper.make_node(
        "MatMulNBits", ["a", "B", "scales"], ["y"], domain="com.microsoft", K=64, N=16, bits=4, block_size=32
    )
    relu = helper.make_node("Relu", ["y"], ["z"])
    path = save(
        tmp_path, [node, relu], [io("a", 2, 64)], [io("z", 2, 16)], [b, scales],
        extra_opsets=[helper.make_opsetid("com.microsoft", 1)],
    )  # fmt: skip
    r = analyze_onnx(path)
    assert r.totals.params == 64 * 16 == 1_024
    assert dict(r.totals.param_bytes_by_dtype) == {"uint8": 512}
    assert r.totals.macs == 2 * 64 * 16 == 2_048
    assert r.totals.flops == 2 * 2_048 + 2 * 1_024 + 2 * 16  # + the Relu on (2, 16)
    assert r.uncounted == {}
