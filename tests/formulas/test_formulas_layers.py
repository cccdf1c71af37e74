"""Parameter formulas and module costs, against hand counts written out next to them (no framework)."""

from __future__ import annotations

from modelmeter.formulas import formula
from modelmeter.formulas.layers import ParamCount


def test_conv_params() -> None:
    f = formula("conv_params")
    assert f(1, 6, (5, 5)) == ParamCount((5 * 5 * 1 + 1) * 6) == ParamCount(156)  # seed 004
    assert f(3, 16, (3, 3)).params == 3 * 3 * 3 * 16 + 16 == 448  # seed 000
    assert f(3, 96, (11, 11), bias=False).params == 11 * 11 * 3 * 96 == 34_848  # seed 001, first conv
    assert f(32, 32, (3, 3), groups=32, bias=False).params == 3 * 3 * 1 * 32 == 288  # depthwise
    assert f(8, 12, (3,), groups=4).params == 3 * (8 // 4) * 12 + 12 == 84  # grouped conv1d
    assert f(2, 4, (2, 2, 2)).params == 2 * 2 * 2 * 2 * 4 + 4 == 68  # conv3d


def test_linear_params() -> None:
    f = formula("linear_params")
    assert [f(400, 120).params, f(120, 84).params, f(84, 10).params] == [48_120, 10_164, 850]  # seed 004
    assert f(2, 5).params + f(5, 1).params == (5 * 2 + 5) + (1 * 5 + 1) == 21  # seed 000
    assert f(4096, 1000, bias=False).params == 4_096_000


def test_norm_and_embedding_params() -> None:
    assert formula("batchnorm_params")(16) == ParamCount(2 * 16, 2 * 16 + 1)  # gamma, beta; mean, var, counter
    assert formula("batchnorm_params")(16, affine=False, track_running_stats=False) == ParamCount(0, 0)
    assert formula("layernorm_params")((768,)).params == 2 * 768
    assert formula("layernorm_params")((4, 5), bias=False).params == 4 * 5
    assert formula("layernorm_params")((4,), elementwise_affine=False).params == 0
    assert formula("groupnorm_params")(32, 256).params == 2 * 256
    assert formula("embedding_params")(50_257, 768).params == 50_257 * 768 == 38_597_376  # GPT-2's wte


def test_rnn_params() -> None:
    f = formula("rnn_params")
    # nn.LSTM(10, 20): 4*20*(10 + 20) + 2*4*20 = 2400 + 160
    assert f("LSTM", 10, 20).params == 2_560
    # 2 layers, bidirectional: layer 0 gets 10 inputs, layer 1 gets 2*20 = 40; two directions each
    assert f("LSTM", 10, 20, 2, bidirectional=True).params == 2 * (4 * 20 * 30 + 160) + 2 * (4 * 20 * 60 + 160)
    assert f("GRU", 10, 20, bias=False).params == 3 * 20 * (10 + 20) == 1_800
    assert f("RNN", 10, 20).params == 20 * (10 + 20) + 2 * 20 == 640
    # proj_size 5: W_hh is 4H x P, plus W_hr P x H
    assert f("LSTM", 10, 20, proj_size=5).params == 4 * 20 * (10 + 5) + 2 * 4 * 20 + 5 * 20 == 1_460


def test_mha_params() -> None:
    f = formula("mha_params")
    # BERT-base self-attention + output projection: 4*(768*768 + 768)
    assert f(768, 12).params == 4 * (768 * 768 + 768) == 2_362_368
    assert f(16, 4, bias=False, add_bias_kv=True).params == 4 * 16 * 16 + 2 * 16


def test_rnn_weight_shapes() -> None:
    from modelmeter.formulas.layers import rnn_weight_shapes

    # LSTM 10 -> 20, 2 layers, bidirectional: W_ih (80, 10) then (80, 40); W_hh (80, 20); two directions each
    assert (
        rnn_weight_shapes("LSTM", 10, 20, 2, bidirectional=True)
        == [[(80, 10), (80, 20)]] * 2 + [[(80, 40), (80, 20)]] * 2
    )
    # proj_size 5: W_hh (80, 5) and W_hr (5, 20)
    assert rnn_weight_shapes("LSTM", 10, 20, proj_size=5) == [[(80, 10), (80, 5), (5, 20)]]
    # N=3 sequences of T=7 steps: 3*7*2*(4*20*(10 + 20)) + 3*7*2*(4*20*(40 + 20)) = 100,800 + 201,600 MACs
    assert formula("rnn")("lstm", 21, rnn_weight_shapes("LSTM", 10, 20, 2, bidirectional=True)).macs == 302_400
