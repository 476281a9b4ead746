"""The notifications' kinds and the retry back-off, shared by the kiosk's notifier
(kiosk.notify.notifier) and the office's forwarder (kiosk.office.forwarding).

This module imports nothing of the notifier, so the office can use it without loading the
kiosk's check-in engine.
"""

from __future__ import annotations

from kiosk.sync.wire import EventKind

#: Outbox kinds the notifier acts on, and the delivery kind each becomes.
EVENT_KINDS: dict[str, str] = {
    EventKind.NOTIFICATION_VISITOR_ARRIVED: "arrived",
    EventKind.NOTIFICATION_APPROVAL_REQUEST: "approval",
    EventKind.NOTIFICATION_VIP_ARRIVED: "vip",
    EventKind.NOTIFICATION_MESSAGE_LEFT: "message",
    EventKind.SECURITY_ALERT: "security",
    EventKind.DEVICE_PROBLEM: "device",
    EventKind.NOTIFICATION_CASE_OPENED: "case",
    EventKind.NOTIFICATION_DELIVERY_WAITING: "parcel",
}
#: Delivery kinds resent when a crash leaves them in doubt (see kiosk.notify.notifier's docstring).
AT_LEAST_ONCE_KINDS = frozenset({"security", "device"})
#: Kinds about a visitor waiting at the desk: pointless once the host has answered.
WAITING_KINDS = frozenset({"escalation"})
#: Every delivery kind (the office checks forwarded ones against it).
DELIVERY_KINDS = frozenset({*EVENT_KINDS.values(), "escalation", "reminder"})
#: The outbox kind of a delivery handed to the office.
FORWARD_KIND = EventKind.NOTIFICATION_FORWARD


def backoff_seconds(attempts: int, rand: float, base: float = 10.0, cap: float = 900.0) -> float:
    """Wait before attempt `attempts + 1`: doubling from `base`, capped, with ±20 % jitter."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * (0.8 + 0.4 * rand)
