"""An engine for tests/link: `python fake_engine.py [--fail-to-start] --link-fd N`.

Its services are small and deterministic; `later(on_done)` calls back from another
thread, as a print queue does, and `die()` ends the process mid-call, as a crash would.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.domain.errors import (
    AlreadyCheckedOut,
    AlreadyRated,
    ConfigError,
    RejectReason,
    TokenRejected,
)
from kiosk.engine_link import serve_engine


class Services:
    site_name = "Test Tower"
    after_hours = "open"
    idle_timeout_s = 60.0

    def __init__(self) -> None:
        self.languages = ["en", "zh_Hans"]
        self.common_purposes = ["visit_person", "delivery"]
        self.closed = False
        self.held: list[Callable[..., None]] = []

    def add(self, a: int, b: int = 0) -> int:
        return a + b

    def reject(self) -> None:
        raise TokenRejected(RejectReason.EXPIRED, "yesterday")

    def check_out_again(self) -> None:
        left = datetime(2026, 12, 7, 10, 42, tzinfo=ZoneInfo("Asia/Shanghai"))
        raise AlreadyCheckedOut("V-1", left)

    def rate_again(self) -> None:
        raise AlreadyRated("V-1", 5)

    def unpicklable(self) -> object:
        return threading.Lock()

    def later(self, on_done: Callable[[str], None], hold: bool = False) -> None:
        if hold:
            self.held.append(on_done)
        threading.Thread(target=on_done, args=("done",)).start()

    def let_go(self) -> None:
        self.held.clear()

    def pid(self) -> int:
        return os.getpid()

    def die(self) -> None:
        os._exit(3)

    def close(self) -> None:
        self.closed = True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fail-to-start", action="store_true")
    parser.add_argument("--link-fd", type=int, required=True)
    args = parser.parse_args()

    @contextlib.contextmanager
    def open_services() -> Iterator[Services]:
        if args.fail_to_start:
            raise ConfigError(["site.name: missing"], "kiosk.toml")
        services = Services()
        try:
            yield services
        finally:
            services.close()
            print("engine closed", file=sys.stderr)

    return serve_engine(args.link_fd, open_services)


if __name__ == "__main__":
    sys.exit(main())
