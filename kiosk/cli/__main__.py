"""`python -m kiosk.cli`: the `kiosk` command, as `python -m kiosk` is."""

import sys

from kiosk.cli import main

sys.exit(main())
