"""Closed-form checks of the formulas themselves: no framework, the arithmetic next to each expected value."""

from modelmeter.formulas import Cost, formula
from modelmeter.formulas.attention import visible_pairs


def test_matmul_broadcasts_batch_dims():
    # (4, 1, 5, 6) @ (3, 6, 7) -> batch (4, 3): 4·3 · 5·6·7 = 2,520
    assert formula("matmul")((4, 1, 5, 6), (3, 6, 7)) == Cost(macs=2_520)
    # vector @ matrix: (6,) @ (6, 7) = 6·7 = 42; dot product 6
    assert formula("matmul")((6,), (6, 7)).macs == 42
    assert formula("matmul")((6,), (6,)).macs == 6


def test_elementwise_one_flop_per_output_element_per_step():
    assert formula("elementwise")("gelu", 197 * 3072) == Cost(other_flops=605_184)  # 197·3072
    assert formula("elementwise")("add", 10).other_flops == 10
    assert formula("elementwise")("lerp", 1_000).other_flops == 3_000  # a + w·(b - a): 3 steps
    assert formula("elementwise")("glu", 50).other_flops == 100  # a · σ(b): 2 steps per output


def test_softmax_and_reductions():
    assert formula("softmax")(197 * 197) == Cost(other_flops=194_045)  # 197·197·5
    assert formula("reduction")("mean", 768 * 7 * 7).other_flops == 37_632  # one add per input element
    assert formula("reduction")("var", 1_000).other_flops == 4_000  # mean, subtract, square, sum


def test_norms_inference_and_training_forms():
    # LayerNorm(768) with weight and bias on (1, 197, 768): 151,296 · (5 + 2)
    assert formula("norm")(197 * 768, "stats", weight=True, bias=True).other_flops == 1_059_072
    # BatchNorm2d(64) in eval on (1, 64, 112, 112): 802,816 · (2 + 2); in training 802,816 · (5 + 2)
    assert formula("norm")(64 * 112 * 112, "inference", True, True).other_flops == 3_211_264
    assert formula("norm")(64 * 112 * 112, "stats", True, True).other_flops == 5_619_712
    # RMSNorm(4096) with weight on 128 tokens: 524,288 · (3 + 1)
    assert formula("norm")(128 * 4096, "rms", weight=True).other_flops == 2_097_152


def test_pooling_windows():
    # MaxPool2d(3, stride 2): (1, 64, 56, 56) outputs · 9
    assert formula("pool")(64 * 56 * 56, (3, 3)).other_flops == 1_806_336
    # global average pooling of (1, 2048, 7, 7): 2048 · 49
    assert formula("adaptive_pool")(2048, (7, 7), (1, 1)).other_flops == 100_352
    # 7 -> 3: windows [0, 3), [2, 5), [4, 7) = 9 per plane; in 2-D 9·9 = 81
    assert formula("adaptive_pool")(1, (7,), (3,)).other_flops == 9
    assert formula("adaptive_pool")(2, (7, 7), (3, 3)).other_flops == 162
    # 5 -> 3: [0, 2), [1, 4), [3, 5) = 2 + 3 + 2 = 7
    assert formula("adaptive_pool")(1, (5,), (3,)).other_flops == 7


def test_interpolation_taps():
    # bilinear to (1, 21, 520, 520): 4 taps -> 4 multiplies + 3 adds = 7 per output
    assert formula("interpolate")(21 * 520 * 520, 4).other_flops == 39_748_800
    assert formula("interpolate")(10, 16).other_flops == 310  # bicubic: 16 + 15


def test_attention_full_masked_and_causal():
    q = (2, 12, 1024, 64)
    full = formula("attention")(q, q, q)
    # 2·12 · 1024·1024 · (64 + 64) MACs; FLOPs: 2·MACs + (1 scale + 5 softmax) per score
    assert full.macs == 3_221_225_472
    assert full.other_flops == 2 * 12 * 1024 * 1024 * 6
    masked = formula("attention")(q, q, q, masked=True)
    assert masked.macs == full.macs and masked.other_flops == 2 * 12 * 1024 * 1024 * 7
    # causal-aware: T (T + 1) / 2 = 524,800 pairs per head, no mask FLOPs
    causal = formula("attention")(q, q, q, masked=True, pairs=visible_pairs(1024, 1024))
    assert causal.macs == 2 * 12 * 524_800 * 128
    assert causal.other_flops == 2 * 12 * 524_800 * 6


def test_visible_pairs():
    assert visible_pairs(4, 4) == 1 + 2 + 3 + 4
    assert visible_pairs(4, 4, window=2) == 1 + 2 + 2 + 2
    # top-left alignment (PyTorch's is_causal): query i sees keys 0..i even when T_k > T_q
    assert visible_pairs(2, 5) == 1 + 2
    # bottom-right (a KV cache): the 2 new queries see 4 and 5 keys
    assert visible_pairs(2, 5, offset=3) == 4 + 5
    assert visible_pairs(1024, 1024) == 1024 * 1025 // 2


def test_multi_head_attention():
    # batch 1, T = 10, E = 16, 4 heads of 4, self-attention with biases:
    # in 3·(10·16·16) + attention 4·10·10·(4 + 4) + out 10·16·16 = 7,680 + 3,200 + 2,560
    cost = formula("multi_head_attention")(1, 10, 10, (16, 16, 16), 16, 4)
    assert cost.macs == 13_440
    # bias adds 4·(10·16) + attention 4·10·10·(1 + 5)
    assert cost.other_flops == 640 + 2_400


def test_rnn_lstm_gru():
    # nn.LSTM(10, 20) on 5 steps of batch 3: 15 rows · 4·20·(10 + 20) = 36,000 MACs;
    # other FLOPs 15 · (bias adds 2·80 + 13·20 elementwise) = 6,300
    lstm = formula("rnn")("lstm", 15, [[(80, 10), (80, 20)]])
    assert lstm == Cost(macs=36_000, other_flops=6_300)
    # with proj_size 8: W_hh (80, 8), W_hr (8, 20): 15 · (800 + 640 + 160) MACs
    assert formula("rnn")("lstm", 15, [[(80, 10), (80, 8), (8, 20)]]).macs == 24_000
    # nn.GRU(10, 20), no bias: 15 · 3·20·(10 + 20) MACs, 15 · 10·20 elementwise
    assert formula("rnn")("gru", 15, [[(60, 10), (60, 20)]], bias=False) == Cost(macs=27_000, other_flops=3_000)
    # nn.RNN(10, 20): 15 · 20·30 MACs; 15 · (2·20 + 2·20)
    assert formula("rnn")("rnn", 15, [[(20, 10), (20, 20)]]) == Cost(macs=9_000, other_flops=1_200)
