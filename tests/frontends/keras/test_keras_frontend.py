"""The Keras 3 frontend: parameters as Keras counts them, costs per layer call from configs and Keras' own shapes.

Keras runs on the torch backend here (KERAS_BACKEND=torch; no TensorFlow needed). Hand counts are written next
to each number.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

import keras_nets  # noqa: E402  (tests/: the Keras twins of the seed networks)

from modelmeter.errors import InputError, ModelRefError, UncountedOpsError  # noqa: E402
from modelmeter.frontends.keras import analyze_keras  # noqa: E402

L = keras.layers


def test_seed_dense_2_5_1_is_21():
    model = keras_nets.dense_2_5_1()
    r = analyze_keras(model)
    # (2*5 + 5) + (5*1 + 1) = 15 + 6 = 21, as model.summary() in seed 000 prints
    assert r.totals.params == 21 == model.count_params()
    assert [row.params for row in r.layers[1:]] == [15, 6]
    assert r.totals.macs == 2 * 5 + 5 * 1  # batch 1
    assert r.totals.flops == 2 * 15 + 5 + 1  # 2 x MACs + the bias adds
    assert r.layers[1].output_shapes == ((1, 5),)


def test_seed_conv2d_16_3_on_224_is_448():
    model = keras_nets.conv_3_to_16()
    r = analyze_keras(model)
    conv = model.layers[0]
    assert tuple(conv.output.shape) == (None, 222, 222, 16)  # Keras' own output shape, batch None
    assert r.totals.params == (3 * 3 * 3 + 1) * 16 == 448 == model.count_params()
    row = r.layer("conv2d")
    assert row.output_shapes == ((1, 222, 222, 16),)  # the same shape, batch 1
    assert row.macs == 3 * 3 * 3 * 222 * 222 * 16 == 21_290_688
    assert any("batch dimension is None" in n for n in r.notes)


def test_mobilenet_v2_params_match_keras_and_macs_the_published_300m():
    model = keras.applications.MobileNetV2(weights=None)
    r = analyze_keras(model)
    keras_count = model.count_params()
    assert keras_count == 3_538_984
    # modelmeter's view: the 34,112 moving-mean/variance elements (2 per channel of each BatchNormalization)
    # are buffers, as PyTorch keeps them; Keras' view counts them as non-trainable params. Both are in the report.
    bn_channels = sum(layer.get_config()["axis"] and layer.moving_mean.shape[0] for layer in model.layers
                      if type(layer).__name__ == "BatchNormalization")  # fmt: skip
    assert r.totals.buffers == 2 * bn_channels == 34_112
    assert r.totals.params + r.totals.buffers == keras_count
    assert r.totals.trainable_params == sum(int(v.numpy().size) for v in model.trainable_weights) == 3_504_872
    pub = dict(r.published)
    assert pub["keras_total_params"] == keras_count
    assert pub["keras_non_trainable_params"] == 34_112
    assert pub["keras_trainable_params"] == 3_504_872
    assert any("Keras counts 3,538,984 params" in n and "buffers" in n for n in r.notes)
    # the MobileNetV2 paper (Table 3 / Figure 5) gives 300 M multiply-adds at 224x224, width 1.0
    assert abs(r.totals.macs - 300e6) / 300e6 < 0.01
    assert r.totals.macs == 300_774_272
    assert r.uncounted == {}
    assert r.layer("predictions").macs == 1280 * 1000


def test_mobilenet_v2_equals_torchvision():
    """The same network from two frameworks: Keras' MobileNetV2 and torchvision's mobilenet_v2 (built on meta)."""
    pytest.importorskip("torchvision")
    import modelmeter

    rk = analyze_keras(keras.applications.MobileNetV2(weights=None))
    rt = modelmeter.summary("torchvision:mobilenet_v2")
    assert rk.totals.params == rt.totals.params == 3_504_872
    # Keras pads the stride-2 convs with ZeroPadding2D then convolves "valid", torchvision pads inside the
    # conv: the same output sizes, so the same MACs.
    assert rk.totals.macs == rt.totals.macs
    # buffers: PyTorch also keeps num_batches_tracked, one per BatchNorm (52 of them)
    bns = sum(1 for row in rt.layers if row.type == "BatchNorm2d")
    assert rt.totals.buffers == rk.totals.buffers + bns


@pytest.mark.parametrize(
    ("keras_name", "torchvision_name"),
    [
        ("MobileNetV3Small", "mobilenet_v3_small"),
        ("EfficientNetB0", "efficientnet_b0"),
        ("ConvNeXtTiny", "convnext_tiny"),
    ],
)
def test_keras_applications_equal_torchvision(keras_name, torchvision_name):
    """Networks nobody here wrote, from both frameworks: keras.applications against torchvision on meta.
    torchvision publishes 0.057, 0.386 and 4.456 GFLOPs (its _ops, in MACs) for these."""
    pytest.importorskip("torchvision")
    import modelmeter

    model = getattr(keras.applications, keras_name)(weights=None, input_shape=(224, 224, 3))
    rk = analyze_keras(model)
    rt = modelmeter.summary(f"torchvision:{torchvision_name}")
    assert rk.totals.params == rt.totals.params
    assert rk.totals.macs == rt.totals.macs
    assert abs(rk.totals.macs / 1e9 - dict(rt.published)["_ops"]) < 0.001
    assert rk.uncounted == {}  # Keras' preprocessing layers and ConvNeXt's LayerScale have formulas
    assert rk.totals.params + rk.totals.buffers == model.count_params()


def test_shared_layer_counted_once_for_params_every_call_for_macs_and_nesting():
    inner = keras.Sequential([keras.Input((8,)), L.Dense(8, name="proj")], name="inner")
    shared = L.Dense(8, name="shared")
    inp = keras.Input((8,))
    x = shared(inp)
    x = shared(x)  # the same weights, called twice
    out = inner(x)
    model = keras.Model(inp, out, name="outer")
    r = analyze_keras(model)
    assert r.totals.params == 2 * (8 * 8 + 8) == model.count_params() == 144
    row = r.layer("shared")
    assert row.calls == 2 and row.params == 72
    assert row.macs == 2 * 8 * 8  # every call
    assert r.layer("inner").params == 72 and r.layer("inner.proj").macs == 64
    assert r.layer("inner.proj").depth == 2
    assert r.totals.macs == 3 * 64


def test_subclassed_model_and_custom_call_note():
    class TwoLayer(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = L.Dense(16, activation="relu")
            self.out = L.Dense(4)

        def call(self, x):
            return self.out(self.hidden(x)) * 2.0  # the multiply is outside any layer

    model = TwoLayer()
    with pytest.raises(InputError, match="declares no input shape"):
        analyze_keras(model)
    r = analyze_keras(model, input_size=(3, 10))
    # (10*16 + 16) + (16*4 + 4) = 176 + 68 = 244; MACs 3 rows * (10*16 + 16*4) = 672
    assert r.totals.params == 244 == sum(int(v.numpy().size) for v in model.weights)
    assert r.totals.macs == 3 * (10 * 16 + 16 * 4) == 672
    assert r.layer(model.hidden.name).output_shapes == ((3, 16),)  # rows carry Keras' layer names
    assert any("call()" in n for n in r.notes)


def test_unknown_layer_is_listed_uncounted_and_strict_raises():
    class Square(L.Layer):
        def call(self, x):
            return x * x

    inp = keras.Input((4,))
    model = keras.Model(inp, L.Dense(2)(Square()(inp)))
    r = analyze_keras(model)
    assert r.uncounted == {"Square": 1}
    assert r.totals.macs == 4 * 2
    with pytest.raises(UncountedOpsError, match="Square"):
        analyze_keras(model, strict=True)

    def cube(x):
        return x * x * x

    model = keras.Model(inp, L.Dense(3, activation=cube)(inp))
    r = analyze_keras(model)
    assert r.totals.macs == 4 * 3  # the kernel is counted
    assert r.uncounted == {"activation cube": 1}  # the custom activation is listed, not guessed


def test_layer_formulas_by_hand():
    inp = keras.Input((16, 16, 8))
    dw = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(inp)
    sep = L.SeparableConv2D(4, 3, padding="same", name="sep")(dw)
    tr = L.Conv2DTranspose(2, 3, strides=2, name="tr")(sep)
    grp = L.Conv2D(4, 1, groups=2, name="grp")(tr)
    model = keras.Model(inp, grp)
    r = analyze_keras(model)
    # depthwise: 3*3*1*16 weights + 16 biases = 160; MACs 16*16*16 outputs * 9
    assert r.layer("dw").params == 160 and r.layer("dw").macs == 16 * 16 * 16 * 9
    # separable: depthwise 3*3*16 + pointwise 16*4 + 4 biases = 212; MACs 16*16*16*9 + 16*16*4*16
    assert r.layer("sep").params == 144 + 64 + 4 == 212
    assert r.layer("sep").macs == 16 * 16 * 16 * 9 + 16 * 16 * 4 * 16
    # transposed: (16-1)*2 + 3 = 33; every input element (16*16*4) meets 2*3*3 weights
    assert r.layer("tr").output_shapes == ((1, 33, 33, 2),)
    assert r.layer("tr").params == 4 * 2 * 9 + 2 and r.layer("tr").macs == 16 * 16 * 4 * 2 * 9
    # grouped 1x1: 2 groups of 1 input channel -> 2 outputs: 4 weights... (1*1*2/2)*4 + 4 = 8
    assert r.layer("grp").params == 8 and r.layer("grp").macs == 33 * 33 * 4 * 1
    assert r.totals.params == model.count_params()


def test_recurrent_and_attention_by_hand():
    inp = keras.Input((5, 10))
    lstm = L.LSTM(20, return_sequences=True, name="lstm")(inp)
    gru = L.GRU(8, return_sequences=True, name="gru")(lstm)
    rnn = L.SimpleRNN(6, return_sequences=True, name="rnn")(gru)
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")(rnn, rnn)
    model = keras.Model(inp, mha)
    r = analyze_keras(model, input_size=(3, 5, 10))
    rows = 3 * 5  # batch x time steps
    # Keras' LSTM keeps one bias vector: 4*20*(10 + 20) + 4*20 = 2,480 (PyTorch's nn.LSTM: 2,560)
    assert r.layer("lstm").params == 2_480
    assert r.layer("lstm").macs == rows * 4 * 20 * (10 + 20)
    # GRU with reset_after keeps two: 3*8*(20 + 8) + 2*3*8 = 720
    assert r.layer("gru").params == 720 and r.layer("gru").macs == rows * 3 * 8 * (20 + 8)
    assert r.layer("rnn").params == 6 * (8 + 6) + 6 and r.layer("rnn").macs == rows * 6 * (8 + 6)
    # MHA: Q, K, V projections 6 -> 2x3 (with bias) and output 6 -> 6: 4 * (6*6 + 6) = 168
    assert r.layer("mha").params == 168
    # projections 3*5*6*6 * 4 = 2,160; scores and values 3*2 heads * 5*5 * (3 + 3) = 900
    assert r.layer("mha").macs == 2_160 + 900
    assert r.totals.params == model.count_params()
    assert r.uncounted == {}


def test_frozen_layer_is_a_non_trainable_param_not_a_buffer():
    model = keras_nets.batchnorm_cnn()
    model.layers[0].trainable = False  # the first conv: (3*3*3 + 1)*16 = 448 frozen
    r = analyze_keras(model)
    assert r.totals.non_trainable_params == 448
    assert r.totals.buffers == 2 * 16 + 2 * 32  # moving mean and variance
    pub = dict(r.published)
    assert (
        pub["keras_non_trainable_params"] == 448 + 96 == sum(int(v.numpy().size) for v in model.non_trainable_weights)
    )
    assert pub["keras_trainable_params"] == r.totals.trainable_params


def test_explain_fills_keras_numbers():
    r = analyze_keras(keras_nets.batchnorm_cnn())
    text = r.explain()
    assert "(3·3·3 + 1)·16 = 448" in text
    assert "3·3·3 · 32·32·16 = 442,368" in text  # channels-last: H_out·W_out·C_out
    assert "buffers = 2·C = 2·16 = 32" in text  # no num_batches_tracked in Keras
    assert "the engine counted" not in text  # every explained number is the one the report holds


def test_input_size_and_errors():
    model = keras_nets.conv_3_to_16()
    r = analyze_keras(model, input_size=(2, 64, 64, 3))
    assert r.layers[1].output_shapes == ((2, 62, 62, 16),)
    with pytest.raises(InputError, match="rank"):
        analyze_keras(model, input_size=(64, 64, 3))
    inp = keras.Input((None, 3))  # a variable-length axis needs a size
    with pytest.raises(InputError, match="unknown dimension"):
        analyze_keras(keras.Model(inp, L.Dense(2)(inp)))
    with pytest.raises(InputError, match="Keras model"):
        analyze_keras(object())


def test_saved_file_round_trip(tmp_path):
    model = keras_nets.batchnorm_cnn()
    path = tmp_path / "net.keras"
    model.save(path)
    r = analyze_keras(str(path))
    direct = analyze_keras(model)
    assert r.model == "net.keras"
    assert (r.totals.params, r.totals.buffers, r.totals.macs, r.totals.flops) == (
        direct.totals.params,
        direct.totals.buffers,
        direct.totals.macs,
        direct.totals.flops,
    )


@pytest.mark.parametrize("kind", ["garbage", "truncated", "text", "no_config", "missing"])
def test_bad_files_give_one_clear_error(tmp_path, kind):
    import zipfile

    path = tmp_path / "bad.keras"
    if kind == "garbage":
        path.write_bytes(os.urandom(2048))
    elif kind == "truncated":
        keras_nets.dense_2_5_1().save(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "text":
        path.write_text("model = 'not a zip'\n")
    elif kind == "no_config":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("metadata.json", "{}")
    with pytest.raises(ModelRefError) as info:
        analyze_keras(str(path))
    message = str(info.value)
    assert "bad.keras" in message and "\n" not in message
    assert ("truncated" in message) == (kind == "truncated")


def test_lambda_layer_is_refused_in_safe_mode(tmp_path):
    inp = keras.Input((4,))
    model = keras.Model(inp, L.Lambda(lambda x: x + 1)(inp))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelRefError, match="safe mode|unsafe|Lambda") as info:
        analyze_keras(str(path))
    assert "\n" not in str(info.value)


def test_no_side_effects_on_the_model():
    import numpy as np

    model = keras_nets.batchnorm_cnn()
    before = [np.array(v.numpy()) for v in model.weights]
    layers = list(model._flatten_layers(include_self=True, recursive=True))
    analyze_keras(model)
    assert all("call" not in vars(layer) for layer in layers)  # the per-call wrappers are gone
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, model.weights, strict=True))

    class Boom(L.Layer):
        def call(self, x):
            raise RuntimeError("boom")

    inp = keras.Input((4,))
    broken = keras.Model(inp, L.Dense(2)(inp))
    broken.layers[-1].call = Boom().call  # a layer whose call fails during the count
    from modelmeter.errors import ForwardError

    with pytest.raises(ForwardError, match="boom"):
        analyze_keras(broken)
    assert "call" in vars(broken.layers[-1])  # the user's own instance attribute is put back, not removed


def test_batch_option_sets_keras_none_batch():
    r = analyze_keras(keras_nets.dense_2_5_1(), batch=4)
    assert r.inputs[0].shape == (4, 2)
    assert r.totals.macs == 4 * (2 * 5 + 5 * 1)
    assert not any("batch dimension is None" in n for n in r.notes)
    with pytest.raises(InputError, match="not both"):
        analyze_keras(keras_nets.dense_2_5_1(), batch=4, input_size=(4, 2))


def test_json_of_a_keras_report_matches_the_schema():
    import json
    from pathlib import Path

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parents[3] / "docs" / "modelmeter-1.schema.json").read_text())
    r = analyze_keras(keras_nets.batchnorm_cnn())
    doc = json.loads(r.to_json())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    assert doc["published"]["keras_total_params"] == 136_970 + 96
    from modelmeter import Report

    assert Report.from_dict(doc).explain() == r.explain()  # a saved document explains the same


def test_shared_nested_model_and_time_distributed():
    b_in = keras.Input((8,))
    hidden = L.Dense(16, activation="relu", name="hid")(b_in)
    backbone = keras.Model(b_in, L.Dense(4, name="emb")(hidden), name="backbone")
    a, b = keras.Input((8,)), keras.Input((8,))
    model = keras.Model([a, b], L.Dense(1, name="head")(L.Concatenate()([backbone(a), backbone(b)])))
    r = analyze_keras(model, input_size=[(3, 8), (3, 8)])
    # backbone (8*16 + 16) + (16*4 + 4) = 212 once; head 8 + 1
    assert r.totals.params == 212 + 9 == model.count_params()
    assert r.layer("backbone").calls == 2 and r.layer("backbone.hid").calls == 2
    # each of the 2 calls on 3 rows: 3*(8*16 + 16*4); the head 3*8
    assert r.layer("backbone").macs == 2 * 3 * (128 + 64)
    assert r.totals.macs == 2 * 3 * (128 + 64) + 3 * 8

    inp = keras.Input((5, 8))
    r = analyze_keras(keras.Model(inp, L.TimeDistributed(L.Dense(4, name="per_step"), name="td")(inp)))
    assert r.layer("td.per_step").calls == 5  # once per time step
    assert r.totals.macs == 5 * 8 * 4


def test_a_single_unbuilt_layer():
    r = analyze_keras(L.LSTM(3), input_size=(2, 5, 4))
    assert [row.type for row in r.layers] == ["LSTM"]  # costed whole: its cell is not a row
    # 4*3*(4 + 3) + 4*3 = 96 params; 2 sequences * 5 steps * 4*3*(4 + 3) = 840 MACs
    assert (r.totals.params, r.totals.macs) == (96, 840)


def test_modelmeter_summary_takes_a_keras_model():
    import modelmeter

    model = keras_nets.lenet5()
    r = modelmeter.summary(model, input_size=(2, 32, 32, 1))
    # (5*5*1 + 1)*6 + (5*5*6 + 1)*16 + (400*120 + 120) + (120*84 + 84) + (84*10 + 10) = 61,706, as seed 004
    assert r.totals.params == 61_706
    assert r.totals.macs == 2 * 416_520  # LeNet-5's 416,520 per image (tests/frontends/torch/test_seeds.py)
    assert r.layer("conv1").output_shapes == ((2, 28, 28, 6),)
    with pytest.raises(InputError, match="input_data"):
        modelmeter.summary(model, input_data=object())


def test_densenet121_equals_torchvision_flops_gap_is_the_softmax():
    pytest.importorskip("torchvision")
    import modelmeter

    rk = analyze_keras(keras.applications.DenseNet121(weights=None))
    rt = modelmeter.summary("torchvision:densenet121")
    assert rk.totals.params == rt.totals.params == 7_978_856
    assert rk.totals.macs == rt.totals.macs == 2_834_161_664  # torchvision publishes 2.834 GFLOPs (_ops, MACs)
    # keras.applications ends in softmax (classifier_activation), torchvision in logits: 5 FLOPs x 1000 classes
    assert rk.totals.flops - rt.totals.flops == 5 * 1000
