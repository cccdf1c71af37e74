"""Hardware profiles (peak dense FLOP/s per dtype, memory bandwidth) and the probe that measures this CPU.

The built-in table with its datasheet sources is ``profiles.py`` (docs/hardware.md); user profiles come
from a TOML or YAML file (``user.py``); ``"cpu"`` is measured on the spot (``probe.py``, needs torch).
"""

from .profiles import BUILTIN, DTYPE_KEYS, HardwareProfile, dtype_key
from .user import find, load_file, profiles, save_efficiency

__all__ = [
    "BUILTIN", "DTYPE_KEYS", "HardwareProfile", "dtype_key", "find", "load_file", "profiles", "save_efficiency",
]  # fmt: skip
