import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# the bundled examples are importable as plain modules in tests
sys.path.insert(0, str(EXAMPLES))
