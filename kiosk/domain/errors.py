"""Every error the kiosk raises on purpose derives from `KioskError`.

    KioskError
    ├── ConfigError          the configuration file is wrong (all problems listed at once)
    ├── InvalidInput         a field typed or scanned by a person is unacceptable
    ├── TokenRejected        a QR invitation or badge failed verification (with a reason)
    ├── CheckInRefused       the engine will not check this visitor in (with a reason)
    ├── NotFound             a host, visit, appointment or key does not exist
    ├── IllegalTransition    a visit cannot move from its state to the requested one
    │   ├── AlreadyCheckedOut    checked out before (`checked_out_at`): nothing recorded
    │   └── AlreadyRated         rated before (`satisfaction`): the first rating stands
    └── StorageError         the database could not commit (disk full, read-only, corrupt)

Third-party errors are re-raised at the boundary as one of these, `raise ... from err`,
so callers (the UI, the CLI) need to know only this tree.

They cross from the engine's process to the touchscreen's (`kiosk.engine_link`) by pickle,
which rebuilds an exception from its constructor's arguments: each class whose constructor
differs from Exception's says which they are in `__reduce__`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any


class KioskError(Exception):
    """Base class of every deliberate kiosk error."""


class ConfigError(KioskError):
    """The configuration cannot be used; `problems` lists each one with its location."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = problems
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(where + f"{len(problems)} problem(s)\n  " + "\n  ".join(problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.problems, self.path)


class InvalidInput(KioskError):
    """A person's input was rejected; `field` names it and the message says why."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.field, self.message)


class RejectReason(StrEnum):
    """Why a token was refused. Values are stable: they appear in logs, JSON and the UI."""

    MALFORMED = "malformed"  # not a token at all: wrong alphabet, garbage
    TRUNCATED = "truncated"  # a token prefix: shorter than its own header says
    UNSUPPORTED_VERSION = "unsupported_version"
    WRONG_KIND = "wrong_kind"  # a badge shown where an invitation is expected, or back
    UNKNOWN_KEY = "unknown_key"  # signed by a key this kiosk does not trust
    KEY_REVOKED = "key_revoked"
    BAD_SIGNATURE = "bad_signature"  # altered after signing
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    REPLAYED = "replayed"  # an invitation already used
    REVOKED = "revoked"  # cancelled at the office or locally
    CHECKED_OUT = "checked_out"  # a badge of a visit that has ended
    UNKNOWN_VISIT = "unknown_visit"  # a genuine badge whose visit this kiosk has never seen


class TokenRejected(KioskError):
    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.detail)


class RefusalReason(StrEnum):
    WATCHLIST = "watchlist"  # shown to the visitor only as "please see reception"
    AFTER_HOURS = "after_hours"
    NO_MATCH = "no_match"
    HOST_UNKNOWN = "host_unknown"
    REQUIREMENT_MISSING = "requirement_missing"  # photo or signed agreement missing
    DOCUMENT_EXPIRED = "document_expired"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    ALREADY_CHECKED_IN = "already_checked_in"


class CheckInRefused(KioskError):
    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.detail)


class NotFound(KioskError):
    pass


class IllegalTransition(KioskError):
    pass


class AlreadyCheckedOut(IllegalTransition):
    """The visit was checked out before (a badge scanned twice, a second tap); nothing was
    recorded. `checked_out_at` is when, an aware datetime (in the site's zone once it has
    passed the touchscreen's adapter); None only when the record has lost its time."""

    def __init__(self, visit_ref: str, checked_out_at: datetime | None) -> None:
        self.visit_ref = visit_ref
        self.checked_out_at = checked_out_at
        when = f" at {checked_out_at.isoformat()}" if checked_out_at else ""
        super().__init__(f"visit {visit_ref} was already checked out{when}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.visit_ref, self.checked_out_at)


class AlreadyRated(IllegalTransition):
    """The visit has its rating (`satisfaction`, 1 to 5): a visit is rated once, and the
    first rating stands; nothing was stored."""

    def __init__(self, visit_ref: str, satisfaction: int) -> None:
        self.visit_ref = visit_ref
        self.satisfaction = satisfaction
        super().__init__(f"visit {visit_ref} was already rated {satisfaction}")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.visit_ref, self.satisfaction)


class StorageError(KioskError):
    pass
