"""`python -m benchmarks.soak`: the soak (benchmarks/soak/harness.py)."""

import logging
import sys

from benchmarks.soak.harness import main

logging.basicConfig(level=logging.ERROR)
sys.exit(main())
