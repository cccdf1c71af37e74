"""The layer spec frontend's public face: a network written as YAML or JSON, costed without any framework.

    >>> report = modelmeter.summary("examples/specs/lenet5.yaml")     # no torch needed
    >>> model = modelmeter.spec.to_torch("examples/specs/lenet5.yaml")  # the same network as an nn.Module

The implementation lives in :mod:`modelmeter.frontends.spec`; the format is documented in docs/spec.md.
"""

from .frontends.spec import Spec, analyze, is_spec_path, load, to_torch

__all__ = ["Spec", "analyze", "is_spec_path", "load", "to_torch"]
