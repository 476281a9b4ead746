"""Constants shared by test modules (conftest fixtures cannot be imported by name)."""

from datetime import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Monday at 10:00 in Shanghai: inside the default opening hours (09-12, 14-17).
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
