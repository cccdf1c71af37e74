"""The same network from Keras and from PyTorch gives the same numbers; and on the torch backend, modelmeter's
PyTorch engine counting the Keras model's own forward agrees with the config-based count.

Known, stated differences (docs/keras.md):
- buffers: PyTorch's BatchNorm also keeps ``num_batches_tracked`` (1 element per BatchNorm);
- LSTM / SimpleRNN: Keras keeps one bias vector per gate block, PyTorch two (b_ih, b_hh): 4·H (LSTM), H (RNN)
  more params in PyTorch and one more add per gate unit and step.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

import keras_nets  # noqa: E402
import seed_models  # noqa: E402

import modelmeter  # noqa: E402
from modelmeter.frontends.keras import analyze_keras  # noqa: E402

L = keras.layers


def _bn_count(report: modelmeter.Report) -> int:
    return sum(1 for row in report.layers if row.type in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"))


@pytest.mark.parametrize("name", sorted(keras_nets.SEED_TWINS))
def test_seed_networks_equal_in_both_frameworks(name):
    cls = getattr(seed_models, name)
    rt = modelmeter.summary(cls().eval(), input_size=cls.input_size)  # inference, as Keras counts it
    rk = analyze_keras(keras_nets.SEED_TWINS[name]())
    assert rk.totals.params == rt.totals.params
    assert rk.totals.trainable_params == rt.totals.trainable_params
    assert rk.totals.macs == rt.totals.macs
    assert rk.totals.flops == rt.totals.flops  # the same formulas, bias adds, activations and pooling
    assert rk.totals.buffers == rt.totals.buffers - _bn_count(rt)  # num_batches_tracked
    assert rk.uncounted == rt.uncounted == {}


def test_small_resnet_equal_in_both_frameworks():
    rt = modelmeter.summary(keras_nets.torch_twins()["small_resnet"]().eval(), input_size=(1, 3, 32, 32))
    rk = analyze_keras(keras_nets.small_resnet())
    # stem 3*3*3*16 + bn 32; block1 2*(3*3*16*16 + 32); block2 3*3*16*32 + 64 + 3*3*32*32 + 64 + 16*32 + 64;
    # fc 32*10 + 10
    hand = (432 + 32) + 2 * (2304 + 32) + (4608 + 64 + 9216 + 64 + 512 + 64) + 330
    assert rk.totals.params == rt.totals.params == hand == 19_994
    assert rk.totals.macs == rt.totals.macs
    assert rk.totals.flops == rt.totals.flops
    assert rk.totals.buffers == rt.totals.buffers - _bn_count(rt) == 2 * (16 + 16 + 16 + 32 + 32 + 32)


@pytest.mark.parametrize("bias", [False, True])
def test_lstm_network_in_both_frameworks(bias):
    ids = torch.zeros((1, 12), dtype=torch.long)
    rt = modelmeter.summary(keras_nets.torch_twins()["lstm_net"](bias).eval(), input_data=ids)
    rk = analyze_keras(keras_nets.lstm_net(bias))
    h, steps = 32, 12
    # embedding 100*16 + LSTM 4*32*(16 + 32) [+ biases] + fc 32*5 + 5
    base = 1_600 + 4 * h * (16 + h) + 165
    assert rk.totals.params == base + (4 * h if bias else 0)  # Keras: one bias vector per gate block
    assert rt.totals.params == base + (8 * h if bias else 0)  # PyTorch: b_ih and b_hh
    # MACs: 12 steps * 4*32*(16 + 32) + 32*5: the same in both
    assert rk.totals.macs == rt.totals.macs == steps * 4 * h * (16 + h) + 160
    # FLOPs: PyTorch's second bias vector is one more add per gate unit and step
    assert rt.totals.flops - rk.totals.flops == (steps * 4 * h if bias else 0)


# -- the PyTorch engine on the Keras model itself (torch backend) ------------------------------------------


def _engine(model, shape, dtype=torch.float32):
    """modelmeter's aten-level count of the Keras model's forward: with the torch backend it is an nn.Module."""
    from modelmeter.frontends.torch.analyze import analyze_module
    from modelmeter.frontends.torch.inputs import Inputs

    # Keras moves inputs to its own device, so the run is on real (zero) CPU tensors, not meta
    return analyze_module(model, Inputs(input_data=torch.zeros(shape, dtype=dtype)), device="cpu")


needs_torch_backend = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the PyTorch engine runs Keras models on the torch backend only"
)


@needs_torch_backend
def test_engine_agrees_on_a_cnn_with_every_conv_kind():
    inp = keras.Input((32, 32, 3))
    x = L.Conv2D(16, 3, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    y = L.Activation("relu")(L.Conv2D(16, 3, padding="same")(x))
    x = L.Add()([x, y])
    x = L.DepthwiseConv2D(3, strides=2)(x)
    x = L.SeparableConv2D(8, 3, padding="same")(x)
    x = L.Conv2DTranspose(4, 3, strides=2)(x)
    x = L.MaxPooling2D()(x)
    x = L.AveragePooling2D(2)(x)
    x = L.UpSampling2D(interpolation="bilinear")(x)
    x = L.GlobalAveragePooling2D()(x)
    model = keras.Model(inp, L.Dense(10, activation="softmax")(x))
    rk, rt = analyze_keras(model), _engine(model, (1, 32, 32, 3))
    assert rk.totals.macs == rt.totals.macs == 2_960_104
    assert rt.uncounted == rk.uncounted == {}
    # The one FLOP gap: Keras' batch_normalization kernel folds γ into 1/σ per channel, so it does 3 ops per
    # element (subtract, multiply, add) + 3 per channel (add ε, rsqrt, multiply by γ); the registry's inference
    # formula counts 4 per element (subtract, 1/σ, γ, β). One BatchNormalization of 32x32x16, C = 16:
    numel, c = 32 * 32 * 16, 16
    assert rk.totals.flops - rt.totals.flops == (4 * numel) - (3 * numel + 3 * c)


@needs_torch_backend
def test_engine_agrees_on_mobilenet_v2():
    model = keras.applications.MobileNetV2(weights=None)
    rk, rt = analyze_keras(model), _engine(model, (1, 224, 224, 3))
    assert rk.totals.macs == rt.totals.macs == 300_774_272
    assert rt.uncounted == {}


@needs_torch_backend
def test_engine_agrees_on_recurrent_and_attention_layers():
    def net(layer):
        inp = keras.Input((7,), dtype="int32")
        return keras.Model(inp, L.Dense(3)(layer(L.Embedding(50, 8)(inp))))

    steps, h, d = 7, 16, 8
    # FLOPs: Keras' Embedding on the torch backend wraps negative ids (id < 0, id + V, select): 3 ops per id,
    # which the registry counts as a lookup (0); Keras' GRU update z·h + (1 − z)·n takes one step more per unit
    # than the formula's n + z·(h − n) (formulas/rnn.py)
    for kind, gates, extra_per_unit in (("LSTM", 4, 0), ("GRU", 3, 1)):
        model = net(getattr(L, kind)(h))
        rk, rt = analyze_keras(model), _engine(model, (1, steps), torch.int32)
        assert rk.totals.macs == rt.totals.macs == steps * gates * h * (d + h) + h * 3
        assert rt.totals.flops - rk.totals.flops == 3 * steps + extra_per_unit * steps * h
    # SimpleRNN runs through Keras' generic loop, which on the torch backend computes step 0 once more to learn
    # the output shape: the engine sees 8 steps of work for 7 steps of model.
    model = net(L.SimpleRNN(h))
    rk, rt = analyze_keras(model), _engine(model, (1, steps), torch.int32)
    assert rk.totals.macs == steps * h * (d + h) + h * 3
    assert rt.totals.macs - rk.totals.macs == h * (d + h)

    inp = keras.Input((10, 16))
    x = L.MultiHeadAttention(num_heads=4, key_dim=4)(inp, inp)
    x = L.LayerNormalization()(x)
    x = L.Bidirectional(L.LSTM(8, return_sequences=True), merge_mode="sum")(x)
    model = keras.Model(inp, x)
    rk, rt = analyze_keras(model), _engine(model, (1, 10, 16))
    # MHA as nn.MultiheadAttention(16, 4): 13,440 MACs (formulas/attention.py's example);
    # bidirectional LSTM: 2 directions * 10 steps * 4*8*(16 + 8)
    assert rk.totals.macs == rt.totals.macs == 13_440 + 2 * 10 * 4 * 8 * 24
    assert rk.totals.flops == rt.totals.flops
