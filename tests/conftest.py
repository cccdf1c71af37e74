import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# the bundled examples are importable as plain modules in tests
sys.path.insert(0, str(EXAMPLES))
# Keras 3 runs on the torch backend in the tests (no TensorFlow needed); set before anything imports keras
import os  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "torch")
