"""peewee fields shared by the kiosk's and the office's models."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from peewee import BigIntegerField

log = logging.getLogger(__name__)


class UtcTimestampField(BigIntegerField):
    """An aware UTC datetime stored as integer milliseconds since the epoch."""

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC timestamp field")
            return int(value.timestamp() * 1000)
        return value

    def python_value(self, value: Any) -> Any:
        if value is None:
            return None
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            # SQLite keeps whatever was written to a column (text, a float, a number past
            # year 9999). Such a time is unknown, not a reason to fail every page and list
            # (the roll call above all) that shows the row.
            log.warning("%s: unreadable time %r, shown as unknown", self.name, value)
            return None
