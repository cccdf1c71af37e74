"""The frontends ``summary`` chooses from: the first whose ``claims`` accepts the model analyses it.

Adding one (ONNX, Keras) = a folder ``frontends/NAME/`` whose ``frontend.py`` defines the class, plus one line
in ``FRONTENDS`` before the torch frontend (the fallback: it claims every reference string and object, and
its loaders name the known kinds when none fits).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from .base import Frontend
from .keras.frontend import KerasFrontend
from .onnx.frontend import OnnxFrontend
from .spec.frontend import SpecFrontend
from .torch.frontend import TorchFrontend

FRONTENDS: tuple[Frontend, ...] = (
    SpecFrontend(),
    OnnxFrontend(),
    KerasFrontend(),
    TorchFrontend(),  # last: the fallback
)


def frontend_for(model: object) -> Frontend:
    """The frontend that analyses ``model`` (a reference string, a path, a spec mapping, a model object)."""
    for frontend in FRONTENDS:
        if frontend.claims(model):
            return frontend
    return FRONTENDS[-1]


@contextmanager
def session() -> Iterator[None]:
    """Every frontend's ``session()`` (those that define one) open for the duration: several models analysed
    together (a compare) may share work, with the same results."""
    with ExitStack() as stack:
        for frontend in FRONTENDS:
            opened = getattr(frontend, "session", None)
            if opened is not None:
                stack.enter_context(opened())
        yield
