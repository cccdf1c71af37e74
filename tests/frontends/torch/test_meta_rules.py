"""Every direct rule of meta_rules.py gives the meta kernel's outputs (shape, strides, dtype) or declines."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
aten = torch.ops.aten

from modelmeter.frontends.torch.meta_rules import RULES  # noqa: E402


def _layouts(dtype):
    base = torch.empty(2, 6, 5, 4, dtype=dtype, device="meta")
    return {
        "contiguous": base,
        "channels_last": base.contiguous(memory_format=torch.channels_last),
        "transposed": base.transpose(2, 3),
        "sliced": base[:, :3],  # not dense: the rules decline, the kernel runs
        "expanded": torch.empty(1, 6, 1, 1, dtype=dtype, device="meta").expand(2, 6, 5, 4),
        "2-D": torch.empty(3, 6, dtype=dtype, device="meta"),
    }


def _layout(out):
    outs = out if isinstance(out, tuple) else (out,)
    return [(tuple(t.shape), t.stride(), t.dtype) for t in outs]


DTYPES = [torch.float32, torch.float16, torch.bfloat16, torch.float64]
UNARY = [f for f, r in RULES.items() if r.__name__ in ("_unary", "_unary_")]
BINARY = [f for f, r in RULES.items() if r.__name__ in ("_binary", "_binary_")]
NORMS = [f for f, r in RULES.items() if r.__name__ == "_batch_norm"]


def _check(func, args, kwargs=None):
    kwargs = kwargs or {}
    made = RULES[func](args, kwargs)
    if made is None:
        return False
    inplace = func._schema.is_mutable
    expected = func(*args, **kwargs)
    assert _layout(made) == _layout(expected), f"{func} on {[getattr(a, 'shape', a) for a in args]}"
    if inplace:
        assert made is args[0]
    return True


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("func", UNARY, ids=str)
def test_unary_rules(func, dtype):
    answered = {name: _check(func, (x,)) for name, x in _layouts(dtype).items()}
    assert answered["contiguous"] and answered["channels_last"] and answered["transposed"]
    assert not answered["sliced"] and not answered["expanded"]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("func", BINARY, ids=str)
def test_binary_rules(func, dtype):
    layouts = _layouts(dtype)
    numbers = (2, 0.5, True) if func._overloadname == "Scalar" else (2, 0.5, True, None)
    for name, x in layouts.items():
        for other in numbers:
            if other is None:
                other = torch.empty_strided(x.shape, x.stride(), dtype=dtype, device="meta")
            answered = _check(func, (x, other))
            assert answered == (name not in ("sliced", "expanded")), (name, other)
    x = layouts["contiguous"]
    # a promotion, another layout: declined (the kernel decides)
    assert RULES[func]((x, layouts["channels_last"]), {}) is None
    other = torch.float32 if dtype != torch.float32 else torch.float64
    assert RULES[func]((x, torch.empty(x.shape, dtype=other, device="meta")), {}) is None
    assert RULES[func]((x, 1j), {}) is None


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("func", BINARY, ids=str)
def test_broadcast_binary_rules(func, dtype):
    """Contiguous operands, one broadcast into the other (either way round): the kernel's contiguous result;
    growing both sides, a non-contiguous operand, growing ``self`` in place: declined."""
    if func._overloadname == "Scalar":
        return

    def t(*shape):
        return torch.empty(shape, dtype=dtype, device="meta")

    inplace = func._schema.is_mutable
    full = [(2, 6, 5, 4), (1, 6, 5, 4), (1, 6, 1, 4), (3, 6)]
    small = {(2, 6, 5, 4): [(2, 6, 1, 1), (1, 6, 1, 1), (6, 1, 1), (4,), (1, 1, 1, 1), (5, 1), ()],
             (1, 6, 5, 4): [(1, 6, 1, 1), (6, 5, 1), (1,)],
             (1, 6, 1, 4): [(1, 6, 1, 1), (1, 1, 1, 4)],
             (3, 6): [(3, 1), (1, 6), (6,)]}  # fmt: skip
    for shape in full:
        for other in small[shape]:
            assert _check(func, (t(*shape), t(*other))), (shape, other)
            if inplace:  # ``small op= full`` would grow self: the kernel raises
                assert RULES[func]((t(*other), t(*shape)), {}) is None or other == shape
            else:
                assert _check(func, (t(*other), t(*shape))), (other, shape)
    # both sides grow, a mismatch, a channels-last or sliced operand: declined
    assert RULES[func]((t(2, 1, 5, 4), t(1, 6, 1, 1)), {}) is None
    assert RULES[func]((t(2, 6, 5, 4), t(3, 1, 1)), {}) is None
    channels_last = t(2, 6, 5, 4).contiguous(memory_format=torch.channels_last)
    assert RULES[func]((channels_last, t(2, 6, 1, 1)), {}) is None
    assert RULES[func]((t(2, 6, 5, 4)[:, :3], t(1, 3, 1, 1)), {}) is None


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_convolution_rule(dtype):
    """Conv 1-D/2-D/3-D with stride, padding, dilation, groups, depthwise, with and without bias: the kernel's
    output; a transposed conv, mismatched channels or dtypes, an empty output: declined."""
    conv = aten.convolution.default

    def t(*shape, dt=dtype):
        return torch.empty(*shape, dtype=dt, device="meta")

    cases = [  # (input, weight, bias?, stride, padding, dilation, groups)
        ((1, 3, 224, 224), (32, 3, 3, 3), False, [2, 2], [1, 1], [1, 1], 1),
        ((2, 16, 56, 56), (16, 1, 3, 3), True, [1, 1], [1, 1], [1, 1], 16),  # depthwise
        ((1, 8, 17, 19), (12, 4, 5, 3), True, [2, 3], [2, 0], [2, 1], 2),
        ((1, 4, 7, 7), (6, 4, 1, 1), True, [1, 1], [0, 0], [1, 1], 1),
        ((2, 4, 30), (8, 4, 5), True, [2], [1], [3], 1),  # 1-D
        ((1, 2, 5, 6, 7), (4, 2, 3, 3, 3), False, [1, 2, 1], [1, 1, 0], [1, 1, 2], 1),  # 3-D
    ]
    for x, w, bias, stride, padding, dilation, groups in cases:
        b = t(w[0]) if bias else None
        assert _check(conv, (t(*x), t(*w), b, stride, padding, dilation, False, [0] * len(stride), groups)), x
    x, w = t(1, 4, 8, 8), t(6, 4, 3, 3)
    declined = [
        (x, w, None, [1, 1], [0, 0], [1, 1], True, [0, 0], 1),  # transposed
        (x, t(6, 3, 3, 3), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),  # channels
        (x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 3),  # groups
        (x, w, t(5), [1, 1], [0, 0], [1, 1], False, [0, 0], 1),  # bias size
        (x, t(6, 4, 9, 9), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),  # kernel larger than the input
        (x, w, None, [1], [0], [1], False, [0], 1),  # too few strides
        (x, t(6, 4, 3, 3, dt=torch.float64 if dtype != torch.float64 else torch.float32), None, [1, 1], [0, 0],
         [1, 1], False, [0, 0], 1),  # dtypes
    ]  # fmt: skip
    for args in declined:
        assert RULES[conv](args, {}) is None, args


@pytest.mark.parametrize("dtype", [*DTYPES, torch.int64, torch.bool, None], ids=str)
def test_factory_rules(dtype):
    """zeros / ones / empty on meta: the kernel's contiguous tensor (the default dtype when none is given)."""
    for func in (aten.zeros.default, aten.ones.default, aten.empty.memory_format):
        for size in ([2, 3, 4], [5], [], [0, 3], (1, 1, 7)):
            kwargs = {"device": torch.device("meta"), "layout": torch.strided, "pin_memory": False}
            if dtype is not None:
                kwargs["dtype"] = dtype
            assert _check(func, (list(size),), kwargs), (func, size)
            assert _check(func, (list(size),), {"device": "meta", "dtype": dtype}), (func, size)
        # another device, a sparse layout, channels-last, pinned memory: declined (the kernel decides)
        assert RULES[func](([2, 3],), {"device": torch.device("cpu")}) is None
        assert RULES[func](([2, 3],), {"device": "meta", "layout": torch.sparse_coo}) is None
        assert RULES[func](([2, 3, 4, 5],), {"device": "meta", "memory_format": torch.channels_last}) is None
        assert RULES[func](([2, 3],), {"device": "meta", "pin_memory": True}) is None
        assert RULES[func](([2, -1],), {"device": "meta"}) is None


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_mean_dim_rule(dtype):
    mean = aten.mean.dim
    x = torch.empty(2, 6, 5, 4, dtype=dtype, device="meta")
    for dims in ([-1, -2], [2, 3], [1], [0], [0, 3], (3, 1, 2)):
        for keepdim in (False, True):
            assert _check(mean, (x, dims, keepdim)), (dims, keepdim)
            assert _check(mean, (x, dims), {"keepdim": keepdim}), (dims, keepdim)
    assert _check(mean, (torch.empty(1, 6, 1, 1, dtype=dtype, device="meta"), [2, 3], True))
    # all dims, a repeated or invalid dim, a dtype argument, a non-contiguous input: declined
    assert RULES[mean]((x, []), {}) is None
    assert RULES[mean]((x, [1, -3]), {}) is None
    assert RULES[mean]((x, [4]), {}) is None
    assert RULES[mean]((x, [1]), {"dtype": torch.float64}) is None
    assert RULES[mean]((x.transpose(1, 2), [1]), {}) is None


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("func", NORMS, ids=str)
def test_batch_norm_rules(func, dtype):
    stats = torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype
    w = torch.empty(6, dtype=stats, device="meta")
    for name, x in _layouts(dtype).items():
        if func is aten.native_batch_norm.default:
            for training in (False, True):
                running = (None, None) if training else (w, w)
                assert _check(func, (x, w, w, *running, training, 0.1, 1e-5)) == (name not in ("sliced", "expanded"))
        else:
            assert _check(func, (x, w, w, w, w, 0.1, 1e-5)) == (name not in ("sliced", "expanded"))


def _mat(*shape, dtype=torch.float32, t=False):
    m = torch.empty(*shape, dtype=dtype, device="meta")
    return m.transpose(-1, -2).contiguous().transpose(-1, -2) if t else m  # same shape, column-major


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_matrix_product_rules(dtype):
    for ta in (False, True):
        for tb in (False, True):
            a, b = _mat(5, 3, dtype=dtype, t=ta), _mat(3, 4, dtype=dtype, t=tb)
            assert _check(aten.mm.default, (a, b))
            assert _check(aten.bmm.default, (_mat(2, 5, 3, dtype=dtype, t=ta), _mat(2, 3, 4, dtype=dtype, t=tb)))
            for bias in (_mat(4, dtype=dtype), _mat(1, 4, dtype=dtype), _mat(5, 4, dtype=dtype)):
                assert _check(aten.addmm.default, (bias, a, b))
                assert _check(aten.addmm.default, (bias, a, b), {"beta": 0.5, "alpha": 2})
    a, b = _mat(5, 3, dtype=dtype), _mat(3, 4, dtype=dtype)
    # a column-major (M, N) bias, other dtypes, mismatched inner dims: declined (the kernel decides)
    assert RULES[aten.addmm.default]((_mat(5, 4, dtype=dtype, t=True), a, b), {}) is None
    other = torch.float32 if dtype != torch.float32 else torch.float64
    assert RULES[aten.mm.default]((a, _mat(3, 4, dtype=other)), {}) is None
    assert RULES[aten.mm.default]((a, _mat(4, 4, dtype=dtype)), {}) is None
    assert RULES[aten.bmm.default]((_mat(2, 5, 3, dtype=dtype), _mat(3, 3, 4, dtype=dtype)), {}) is None


def test_meta_like_lays_out_as_empty_like():
    from modelmeter.frontends.torch.tensors import meta_like

    for dtype in DTYPES:
        for name, t in _layouts(dtype).items():
            for source in (t, torch.empty_strided(t.shape, t.stride(), dtype=dtype)):  # on meta and on the CPU
                made, expected = meta_like(source), torch.empty_like(source, device="meta")
                assert _layout(made) == _layout(expected), name
                assert made.untyped_storage().nbytes() == expected.untyped_storage().nbytes(), name
