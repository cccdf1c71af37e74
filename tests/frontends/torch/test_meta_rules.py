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
    # a promotion, a broadcast, another layout: declined (the kernel decides)
    assert RULES[func]((x, torch.empty(6, 1, 1, dtype=dtype, device="meta")), {}) is None
    assert RULES[func]((x, layouts["channels_last"]), {}) is None
    other = torch.float32 if dtype != torch.float32 else torch.float64
    assert RULES[func]((x, torch.empty(x.shape, dtype=other, device="meta")), {}) is None
    assert RULES[func]((x, 1j), {}) is None


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
