"""The base of modelmeter's dispatch modes: a ``TorchDispatchMode`` that pays for Dynamo only where it is used.

PyTorch wraps every ``TorchDispatchMode`` subclass's ``__torch_dispatch__`` in ``torch._disable_dynamo`` so that a
``torch.compile`` running under the mode does not trace into it. The wrapper imports ``torch._dynamo`` on its
first call (about 1 s, on the first op of every process: the whole cost of a first ``modelmeter summary`` of a
small CNN) and adds two Python frames to every op. A compile can only be running if ``torch._dynamo`` has been
imported; until then there is nothing to guard against. So :class:`DispatchMode` opts out of the wrapper, and
an instance made once Dynamo is loaded (a compiled model, or transformers, which imports it) is made of a
subclass that has the wrapper, as PyTorch would have built it.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

_GUARDED: dict[type, type] = {}  # a DispatchMode subclass -> its twin with the Dynamo guard


class DispatchMode(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # no wrapper at class creation; __new__ picks the guarded twin where Dynamo is loaded

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if "torch._dynamo" in sys.modules and hasattr(torch, "_disable_dynamo"):
            cls = _guarded(cls)
        return super().__new__(cls)


def _guarded(cls: type) -> type:
    twin = _GUARDED.get(cls)
    if twin is None:
        guarded = torch._disable_dynamo(cls.__torch_dispatch__, recursive=True)  # type: ignore[attr-defined]
        twin = type(cls.__name__, (cls,), {"__torch_dispatch__": guarded, "__module__": cls.__module__})
        _GUARDED[cls] = twin
    return twin
