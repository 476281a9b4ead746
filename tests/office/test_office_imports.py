"""The office imports no kiosk engine code: after `import kiosk.office.api`, none of the
kiosk's check-in services, devices, notifier or storage is loaded (issue 18). What both
sides need lives below them (kiosk.domain, kiosk.dbkit, kiosk.notify.kinds)."""

from __future__ import annotations

import subprocess
import sys

#: The kiosk's engine: the office must not load any module under these.
KIOSK_ENGINE_PREFIXES = (
    "kiosk.services.",
    "kiosk.devices.",
    "kiosk.notify.notifier",
    "kiosk.storage.",
)

PROBE = """
import sys
import kiosk.office.api
prefixes = tuple(sys.argv[1:])
for name in sorted(sys.modules):
    if name.startswith(prefixes) or name + "." in prefixes or name in prefixes:
        print(name)
"""


def test_importing_the_office_api_loads_no_kiosk_engine_module() -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE, *KIOSK_ENGINE_PREFIXES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert found == []
