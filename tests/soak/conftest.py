"""The soak lives in benchmarks/soak (it is run by `make soak`, not installed with the
package): its tests import it from the repository's root."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
