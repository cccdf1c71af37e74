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


def build_on_meta(factory: Callable[[], Any]) -> Any:
    """Call ``factory`` so that the parameters it creates live on meta (no memory, no init cost)."""
    try:
        with torch.device("meta"):
            return factory()
    except Exception:  # noqa: BLE001 - a constructor that needs real tensors; retry the slower way
        with _params_to_meta():
            return factory()
