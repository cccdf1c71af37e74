"""Every figure the seed tutorials print, reproduced exactly from the bundled examples."""

import pytest

torch = pytest.importorskip("torch")

import seed_models  # noqa: E402  (examples/, put on sys.path by conftest)

import modelmeter  # noqa: E402


def run(cls):
    return modelmeter.summary(cls(), input_size=cls.input_size)


def test_lenet5_61706():
    r = run(seed_models.LeNet5)
    # (5*5*1+1)*6 + (5*5*6+1)*16 = 2,572 conv; (400*120+120) + (120*84+84) + (84*10+10) = 59,134 linear
    assert r.totals.params == 2_572 + 59_134 == 61_706
    assert r.totals.trainable_params == 61_706
    assert [r.layer(n).params for n in ("conv1", "conv2", "fc1", "fc2", "fc3")] == [156, 2_416, 48_120, 10_164, 850]
    # MACs: 5*5*1*6*28*28 + 5*5*6*16*10*10 + 400*120 + 120*84 + 84*10 = 117,600 + 240,000 + 48,000 + 10,080 + 840
    assert r.totals.macs == 416_520
    assert r.layer("conv1").output_shapes == ((1, 6, 28, 28),)
    assert r.layer("conv2").output_shapes == ((1, 16, 10, 10),)


def test_alexnet_variant_params_and_thop_macs():
    r = run(seed_models.AlexNetNoBias)
    # torchsummary in seed 001: 34,848 + 460,800 + 663,552 + 884,736 + 589,824 + 37,752,832 + 16,781,312 + 4,097,000
    assert r.totals.params == 61_264_904
    # thop in seed 001 prints 861301280: convs 96*55*55*3*11*11 + 192*27*27*96*5*5 + 384*13*13*192*9
    # + 256*13*13*384*9 + 256*13*13*256*9 = 802,679,328; linears 9216*4096 + 4096*4096 + 4096*1000 = 58,621,952
    assert r.totals.macs == 802_679_328 + 58_621_952 == 861_301_280
    assert r.layer("feature_extraction.0").params == 34_848  # 11*11*3*96, no bias
    assert r.layer("feature_extraction.0").output_shapes == ((1, 96, 55, 55),)
    assert r.layer("classifier.1").params == 37_752_832  # 9216*4096 + 4096


def test_batchnorm_cnn_136970():
    r = run(seed_models.BatchNormCNN)
    # 16*(3*3^2+1) + 16*2 + 32*(16*3^2+1) + 32*2 + (32*8*8+1)*64 + (64+1)*10
    assert r.totals.params == 448 + 32 + 4_640 + 64 + 131_136 + 650 == 136_970
    assert r.layer("bn1").params == 32  # gamma, beta
    # running_mean + running_var + num_batches_tracked: 16+16+1 and 32+32+1 buffer elements, not params
    assert r.totals.buffers == 33 + 65


def test_mnist_cnn():
    r = run(seed_models.MnistCNN)
    # (3*3*1+1)*32 + (3*3*32+1)*32 + (6272+1)*128 + (128+1)*10 = 320 + 9,248 + 802,944 + 1,290
    assert r.totals.params == 813_802
    assert r.layer("conv2").output_shapes == ((1, 32, 28, 28),)
    assert r.layer("fc1").input_shapes == ((1, 6272),)


def test_dense_2_5_1_is_21():
    assert run(seed_models.Dense215).totals.params == (5 * 2 + 5) + (1 * 5 + 1) == 21


def test_conv2d_3_to_16_is_448():
    r = run(seed_models.Conv3to16)
    assert r.totals.params == 3 * 3 * 3 * 16 + 16 == 448
    assert r.layer("conv2d").output_shapes == ((1, 16, 222, 222),)  # Keras prints (None, 222, 222, 16)
