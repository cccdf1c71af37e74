"""Building models without allocating weights: on the meta device, whatever the constructor does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


@contextmanager
def _params_to_meta() -> Iterator[None]:
    """Move every parameter and buffer to meta as it is registered (for constructors that do real tensor
    arithmetic, e.g. torchvision's RegNet widths, and so cannot run under a meta device context)."""
    register_parameter = torch.nn.Module.register_parameter
    register_buffer = torch.nn.Module.register_buffer

    def meta_parameter(self: torch.nn.Module, name: str, param: Any) -> None:
        register_parameter(self, name, param)
        if param is not None:
            self._parameters[name] = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)

    def meta_buffer(self: torch.nn.Module, name: str, tensor: Any, persistent: bool = True) -> None:
        register_buffer(self, name, None if tensor is None else tensor.to("meta"), persistent)

    torch.nn.Module.register_parameter = meta_parameter  # type: ignore[method-assign]
    torch.nn.Module.register_buffer = meta_buffer  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.nn.Module.register_parameter = register_parameter  # type: ignore[method-assign]
        torch.nn.Module.register_buffer = register_buffer  # type: ignore[method-assign]


@contextmanager
def _no_init() -> Iterator[None]:
    """``torch.nn.init``'s in-place initializers (``kaiming_normal_``, ``trunc_normal_``, ...) return their
    tensor untouched: the weights end on meta, where values do not exist, so initializing them is wasted work
    (2.6 s of the 4.4 s it took to build the torchvision zoo on meta here; on the fallback path below, real
    arithmetic on weights about to be dropped). Restored on exit, error or not."""
    import torch.nn.init as init

    saved = {
        name: fn for name, fn in vars(init).items() if name.endswith("_") and not name.startswith("_") and callable(fn)
    }

    def untouched(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        return tensor

    for name in saved:
        setattr(init, name, untouched)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def build_on_meta(factory: Callable[[], Any]) -> Any:
    """Call ``factory`` so that the parameters it creates live on meta (no memory, no init cost)."""
    try:
        with torch.device("meta"), _no_init():
            return factory()
    except Exception:  # noqa: BLE001 - a constructor that needs real tensors; retry the slower way
        with _params_to_meta(), _no_init():
            return factory()
