"""The torch cost tables: aten op / torch function -> adapter calling a formula of ``modelmeter.formulas``.

``forward.py`` holds the tables (``ATEN_COSTS``, ``FUNCTION_COSTS``) and the forward ops' adapters;
``backward.py``, ``quantized.py`` and ``entry_points.py`` (flash / varlen attention, col2im, nll_loss, group
norm backward) add theirs to the same tables. All of them are imported here, so the tables
are complete as soon as this package is imported, whatever was imported before (a forward that calls
``torch.autograd.grad`` counts its backward ops with or without ``--memory``).
"""

from . import backward, entry_points, forward, quantized, ssm

__all__ = ["backward", "entry_points", "forward", "quantized", "ssm"]
