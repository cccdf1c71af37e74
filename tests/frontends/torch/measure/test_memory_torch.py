"""Memory measured on meta against hand counts and against real CPU runs measured independently."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import modelmeter  # noqa: E402


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))  # 10*20+20 + 20*5+5 = 325 params


def small_cnn():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Dropout(0.1), nn.Linear(32, 10),
    )  # fmt: skip


def small_transformer():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


# -- hand counts -------------------------------------------------------------------------------------
def test_mlp_saved_activations_and_adam_fp32_is_16_bytes_per_param():
    r = modelmeter.summary(mlp(), input_size=(4, 10), train=True, optimizer="adam", precision="fp32")
    t = r.memory.training
    # autograd keeps: the input x for linear1's weight grad, 4*10*4 = 160 B, and relu's output (saved by
    # relu's backward and by linear2 for its weight grad: one storage), 4*20*4 = 320 B. Weights are not
    # activations (they are counted in params).
    assert t.activations == 160 + 320
    assert t.params == 4 * 325 and t.grads == 4 * 325 and t.optimizer_state == 8 * 325
    assert t.total == 16 * 325 + 480 == 5680


def test_mlp_bf16_mixed_adamw_states():
    t = modelmeter.summary(mlp(), input_size=(4, 10), train=True, optimizer="adamw", precision="bf16-mixed")
    t = t.memory.training
    # bf16 params 2Ψ + bf16 grads 2Ψ + fp32 master, exp_avg, exp_avg_sq 12Ψ (ZeRO's K = 12)
    assert (t.params, t.grads, t.optimizer_state) == (2 * 325, 2 * 325, 12 * 325)
    assert t.activations == (160 + 320) // 2  # the same tensors in bf16
    assert t.total == 16 * 325 + 240


def test_sgd_and_momentum_and_frozen_layers():
    model = mlp()
    model[0].requires_grad_(False)  # 220 frozen, 105 trainable
    t = modelmeter.summary(model, input_size=(4, 10), train=True, optimizer="sgd-momentum").memory.training
    assert t.params == 4 * 325  # frozen weights still sit in memory
    assert t.grads == 4 * 105 and t.optimizer_state == 4 * 105
    # linear1 needs no grad: x is not saved; relu saves its output, linear2 its input (same storage)
    assert t.activations == 320
    t = modelmeter.summary(mlp(), input_size=(4, 10), train=True, optimizer="sgd").memory.training
    assert t.optimizer_state == 0 and t.total == 8 * 325 + 480


def test_mlp_inference_peak_hand_count():
    r = modelmeter.summary(mlp(), input_size=(4, 10), memory=True)
    # linear1 out 4*20*4 = 320 B, then relu out 320 B while linear1's is alive: 640 B; linear2 out 80 B
    # comes after linear1's output died: 320 + 80 = 400 < 640.
    assert r.memory.activations_peak == 640
    assert dict(r.memory.layer_output_bytes) == {"": 80, "0": 320, "1": 320, "2": 80}


def test_weights_by_dtype_and_what_if():
    model = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 5).half())
    r = modelmeter.summary(model, input_size=(4, 10), memory=True)
    assert dict(r.memory.weights_by_dtype) == {"float32": 4 * 220, "float16": 2 * 105}
    r = modelmeter.summary(mlp(), input_size=(4, 10), weights_dtype="int4")
    # per tensor, packed two per byte and rounded up: 200 -> 100, 20 -> 10, 100 -> 50, 5 -> 3
    assert r.memory.weights == 163 and r.memory.weights_dtype == "int4"
    assert modelmeter.summary(mlp(), input_size=(4, 10), weights_dtype="bf16").memory.weights == 650


def test_tied_weights_once():
    emb = nn.Embedding(100, 16)
    head = nn.Linear(16, 100, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(emb, head)
    r = modelmeter.summary(model, input_data=torch.zeros(2, 5, dtype=torch.long), train=True, optimizer="adam")
    assert r.memory.weights == 4 * 1600
    assert r.memory.training.optimizer_state == 8 * 1600
    assert r.memory.training.tokens == 10 and r.memory.training.samples == 2


# -- against real CPU runs ---------------------------------------------------------------------------
def real_saved_bytes(model, *args, **kwargs):
    """What autograd saves in a real CPU training forward ``model(*args, **kwargs)``: unique storages, weights and
    buffers excluded."""
    excluded = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    kept = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in excluded:
            kept[s.data_ptr()] = s.nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(*args, **kwargs)
    return sum(kept.values())


@pytest.mark.parametrize(
    "make, shape", [(small_cnn, (4, 3, 32, 32)), (small_transformer, (2, 16, 64))], ids=["cnn", "transformer"]
)
def test_saved_activations_equal_a_real_cpu_run(make, shape):
    measured = modelmeter.summary(make(), input_size=shape, train=True).memory.training.activations
    real = real_saved_bytes(make(), torch.randn(*shape))
    assert real > 0 and measured == real


def profiled_peak(model, x):
    """Peak of CPU allocator bytes during a real forward, from torch.profiler's [memory] events."""
    model.eval()
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        y = model(x)
        del y
    events = sorted(
        (e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"), key=lambda e: e.start_ns()
    )
    live = peak = 0
    for e in events:
        live += e.nbytes()
        peak = max(peak, live)
    return peak


def resnet18():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    return torchvision.models.resnet18()


@pytest.mark.parametrize(
    "make, shape",
    [(small_cnn, (8, 3, 32, 32)), (mlp, (64, 10)), (resnet18, (2, 3, 224, 224))],
    ids=["cnn", "mlp", "resnet18"],
)
def test_inference_peak_within_10_percent_of_a_real_cpu_run(make, shape):
    measured = modelmeter.summary(make(), input_size=shape, memory=True).memory.activations_peak
    real = profiled_peak(make(), torch.randn(*shape))
    assert real > 0
    assert abs(measured - real) <= 0.10 * real, (measured, real)


@pytest.mark.parametrize(
    "make, shape", [(small_cnn, (4, 3, 32, 32)), (small_transformer, (2, 16, 64))], ids=["cnn", "transformer"]
)
def test_backward_macs_match_flop_counter_mode(make, shape):
    """torch's own FlopCounterMode counts the backward's conv/mm/bmm at 2 FLOPs per MAC, no bias adds."""
    t = modelmeter.summary(make(), input_size=shape, train=True).memory.training
    model, x = make().train(), torch.randn(*shape)
    with FlopCounterMode(display=False) as fwd:
        y = model(x)
    with FlopCounterMode(display=False) as both:
        y = model(x)
        torch.autograd.grad(y, [p for p in model.parameters()], torch.ones_like(y), allow_unused=True)
    backward_flops = both.get_total_flops() - fwd.get_total_flops()
    assert backward_flops > 0 and 2 * t.backward_macs == backward_flops
    assert t.backward_flops >= 2 * t.backward_macs  # plus grad-bias sums


def test_training_leaves_the_model_untouched():
    model = small_cnn().eval()
    model[4].requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = [m.training for m in model.modules()]
    flags = [p.requires_grad for p in model.parameters()]
    modelmeter.summary(model, input_size=(2, 3, 32, 32), train=True, precision="bf16-mixed")
    assert [m.training for m in model.modules()] == modes
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


class Branchy(nn.Module):
    """A data-dependent branch: cannot run on meta, so modelmeter falls back to real CPU tensors."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(10, 20), nn.Linear(20, 5)

    def forward(self, x):
        h = torch.relu(self.l1(x))
        return self.l2(h) if h.sum().item() >= 0 else h


def test_memory_on_the_cpu_fallback():
    model = Branchy()
    r = modelmeter.summary(model, input_size=(4, 10), train=True, optimizer="adam")
    assert r.device == "cpu"
    t = r.memory.training
    assert t.activations == 160 + 320  # x and the ReLU output, as for the MLP on meta
    assert t.total == 16 * 325 + 480
    # the peak adds the 4-byte scalar of h.sum() to the MLP's 640 B only if it is alive at the peak: it is not
    assert r.memory.activations_peak == 640
    assert all(p.grad is None for p in model.parameters())


def test_quantized_modules_as_stored():
    import warnings

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao quantization is deprecated, yet such models exist
        try:
            quantized = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
        except (RuntimeError, AttributeError) as exc:
            pytest.skip(f"torch.ao dynamic quantization unavailable: {exc}")
    from modelmeter.frontends.torch.measure.memory import weights

    total, by_dtype, _ = weights(quantized)
    # int8 weights, 1 byte each: 64*128 + 128*10 = 9,472; fp32 biases: (128 + 10) * 4 = 552
    assert by_dtype == {"qint8": 9_472, "float32": 552} and total == 10_024
