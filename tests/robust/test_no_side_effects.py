"""After a success, an error or a Ctrl-C in the middle of the forward, nothing is left behind: no hooks on any
module, no active dispatch or function mode, no patched torch function, global settings and random state as
they were, and the model's state dict (bytes), devices, dtypes, modes and requires_grad flags unchanged.

(The basic checks after success and a raising forward live in tests/frontends/torch/test_side_effects.py; these
add Ctrl-C, global flags a forward flips, in-place writes to weights, and the dispatch-mode stacks.)"""

from __future__ import annotations

from typing import Any

import pytest
import robust_models as rm
import torch
from torch import nn
from torch.overrides import _get_current_function_mode_stack
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

import modelmeter
from conftest import MODELS
from modelmeter.errors import ForwardError

HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
              "_state_dict_hooks", "_load_state_dict_pre_hooks")  # fmt: skip


def global_state() -> dict[str, Any]:
    from torch.nn.modules import module as module_mod

    return {
        "default_dtype": torch.get_default_dtype(),
        "grad": torch.is_grad_enabled(),
        "inference": torch.is_inference_mode_enabled(),
        "deterministic": (torch.are_deterministic_algorithms_enabled(),
                          torch.is_deterministic_algorithms_warn_only_enabled()),
        "anomaly": torch.is_anomaly_enabled(),
        "matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn": (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic),
        "rng": torch.random.get_rng_state().tolist(),
        "dispatch_modes": len(_get_current_dispatch_mode_stack()),
        "function_modes": len(_get_current_function_mode_stack()),
        "patched": (nn.Module.register_parameter, nn.Module.register_buffer, nn.Module.load_state_dict,
                    nn.Module.__call__),
        "global_hooks": [len(getattr(module_mod, n)) for n in dir(module_mod) if n.startswith("_global_") and
                         isinstance(getattr(module_mod, n), dict)],
    }  # fmt: skip


def model_state(model: nn.Module) -> dict[str, Any]:
    return {
        "state": {k: (v.dtype, v.device, v.shape, v.clone()) for k, v in model.state_dict(keep_vars=True).items()},
        "objects": [(n, id(t)) for n, t in [*model.named_parameters(), *model.named_buffers()]],
        "requires_grad": [(n, p.requires_grad) for n, p in model.named_parameters()],
        "training": [(n, m.training) for n, m in model.named_modules()],
        "hooks": [(n, h, len(getattr(m, h))) for n, m in model.named_modules() for h in HOOK_DICTS],
    }


def assert_same(model: nn.Module, before: dict[str, Any], globals_before: dict[str, Any]) -> None:
    after = model_state(model)
    for key in ("objects", "requires_grad", "training", "hooks"):
        assert after[key] == before[key], key
    assert after["state"].keys() == before["state"].keys()
    for name, (dtype, device, shape, value) in before["state"].items():
        dtype2, device2, shape2, value2 = after["state"][name]
        assert (dtype2, device2, shape2) == (dtype, device, shape), name
        assert torch.equal(value2, value), f"{name} changed"
    assert global_state() == globals_before


def frozen_eval(model: nn.Module) -> nn.Module:
    """Not the defaults: eval mode and one frozen parameter, so a reset to defaults would show."""
    model.eval()
    next(model.parameters()).requires_grad_(False)
    return model


CASES = [
    ("success on meta", lambda: rm.Net(), rm.Net.input_size, None),
    ("success on the CPU fallback", lambda: rm.NeedsCpu(), (2, 16), None),
    ("a forward that flips global flags and writes weights", lambda: rm.Vandal(), (2, 4), None),
    ("the same, then raising", lambda: rm.Vandal(fail=True), (2, 4), ForwardError),
    ("a shape error deep inside", lambda: rm.ShapeBug(), (1, 4), ForwardError),
    ("Ctrl-C on meta", lambda: rm.Interrupted("meta"), (2, 4), KeyboardInterrupt),
    ("Ctrl-C on the CPU fallback", lambda: rm.Interrupted("cpu"), (2, 4), KeyboardInterrupt),
]


@pytest.mark.parametrize(("make", "size", "raises"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", ["train", "eval-frozen"])
def test_nothing_left_behind(make, size, raises, mode: str) -> None:
    model = make() if mode == "train" else frozen_eval(make())
    before, globals_before = model_state(model), global_state()
    if raises is None:
        modelmeter.summary(model, input_size=size)
    else:
        with pytest.raises(raises):
            modelmeter.summary(model, input_size=size)
    assert_same(model, before, globals_before)


def test_partial_leaves_nothing_behind() -> None:
    model = rm.Vandal(fail=True)
    before, globals_before = model_state(model), global_state()
    report = modelmeter.summary(model, input_size=(2, 4), partial=True)
    assert report.partial
    assert_same(model, before, globals_before)


def test_caller_settings_are_kept_not_reset() -> None:
    """Called under no_grad with float64 as default dtype: both still hold afterwards."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            modelmeter.summary(rm.NeedsCpu(), input_size=(2, 16), dtypes=["float64"])
            assert not torch.is_grad_enabled()
            assert torch.get_default_dtype() == torch.float64
    finally:
        torch.set_default_dtype(old)


def test_the_model_still_works_the_same_afterwards() -> None:
    torch.manual_seed(0)
    model = rm.Net().eval()
    x = torch.randn(*rm.Net.input_size)
    expected = model(x)
    for _ in range(2):
        modelmeter.summary(model, input_size=rm.Net.input_size)
        with pytest.raises(ForwardError):
            modelmeter.summary(model, input_size=(1, 5, 8, 8))
    assert torch.equal(model(x), expected)


def test_ctrl_c_at_the_cli_exits_130(cli) -> None:
    before = global_state()
    result = cli("summary", f"{MODELS}:Interrupted", "--input", "2,4")
    assert (result.code, result.err) == (130, "error: interrupted\n")
    assert global_state() == before
