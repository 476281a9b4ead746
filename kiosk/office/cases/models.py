"""The office's tables for cases: the case, its history, departments and their staff, the
desk's call log, a site's deadlines. Created by kiosk.office.db with the office's other
tables (CASE_MODELS)."""

from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from kiosk.dbkit.fields import UtcTimestampField
from kiosk.office.models import OfficeModel, Site, StaffUser


class Department(OfficeModel):
    """A team cases are assigned to (engineering, customer service, cleaning...)."""

    site = ForeignKeyField(Site, on_delete="CASCADE")
    name = CharField()
    channels = TextField(default="[]")  # JSON list of notification URLs (overdue cases)

    class Meta:
        indexes = ((("site", "name"), True),)


class DepartmentMember(OfficeModel):
    """A staff user belongs to a department: the link, so store.py's StaffUser is unchanged."""

    department = ForeignKeyField(Department, on_delete="CASCADE")
    user = ForeignKeyField(StaffUser, on_delete="CASCADE")

    class Meta:
        indexes = ((("department", "user"), True),)


class Case(OfficeModel):
    """One case; `ref` is the contract's case_ref, `number` what a person reads out."""

    ref = CharField(unique=True)
    site = ForeignKeyField(Site, on_delete="CASCADE")
    number = CharField()
    kind = CharField()
    urgency = CharField(default="normal")
    category = CharField(default="")
    state = CharField(default="received")
    channel = CharField(default="kiosk")
    building = CharField(default="")
    floor = CharField(default="")
    unit = CharField(default="")
    place_text = CharField(default="")
    unit_known = BooleanField(default=True)
    description = TextField(default="")
    reporter_name = CharField(default="")
    reporter_unit = CharField(default="")
    reporter_phone = CharField(default="")
    language = CharField(default="en")
    photo_jpeg_b64 = TextField(default="")
    department = ForeignKeyField(Department, null=True, on_delete="SET NULL")
    assignee = ForeignKeyField(StaffUser, null=True, on_delete="SET NULL")
    resolution = TextField(default="")
    followup_outcome = CharField(default="")
    followup_note = TextField(default="")
    opened_at = UtcTimestampField()
    response_due_at = UtcTimestampField()
    responded_at = UtcTimestampField(null=True)
    resolved_at = UtcTimestampField(null=True)
    followup_due_at = UtcTimestampField(null=True)
    followed_up_at = UtcTimestampField(null=True)
    closed_at = UtcTimestampField(null=True)
    reopened_count = IntegerField(default=0)
    escalation_level = IntegerField(default=0)  # 0 none, 1 assignee told, 2 supervisor told
    updated_at = UtcTimestampField()

    class Meta:
        indexes = (
            (("site", "number"), True),
            (("site", "state", "opened_at"), False),
            (("site", "opened_at"), False),
            (("site", "department", "opened_at"), False),
        )


class CaseHistory(OfficeModel):
    """Every change of a case: who (a staff user's name, or the kiosk), when, from, to, note."""

    case = ForeignKeyField(Case, backref="history", on_delete="CASCADE")
    at = UtcTimestampField()
    actor = CharField(default="")
    action = CharField()
    from_state = CharField(default="")
    to_state = CharField(default="")
    note = TextField(default="")

    class Meta:
        indexes = ((("case", "at"), False),)


class CallLogEntry(OfficeModel):
    """One phone call the desk took (kept permanently, as the procedures say)."""

    site = ForeignKeyField(Site, on_delete="CASCADE")
    at = UtcTimestampField(index=True)
    caller = CharField(default="")
    unit = CharField(default="")
    subject = TextField(default="")
    for_whom = CharField(default="")
    message = TextField(default="")
    recorded_by = CharField(default="")
    case_ref = CharField(default="")


class OfficeCaseSequence(OfficeModel):
    """The office's own daily number sequence per site (station "0")."""

    site = ForeignKeyField(Site, on_delete="CASCADE")
    day = CharField()  # YYYYMMDD, the site's local date
    last = IntegerField(default=0)

    class Meta:
        indexes = ((("site", "day"), True),)


class CaseSiteSettings(OfficeModel):
    """A site's case deadlines (kiosk.office.cases.site_settings.CaseDeadlines) as JSON."""

    site = ForeignKeyField(Site, unique=True, on_delete="CASCADE")
    data = TextField(default="{}")
    updated_at = UtcTimestampField()


CASE_MODELS: list[type[OfficeModel]] = [
    Department,
    DepartmentMember,
    Case,
    CaseHistory,
    CallLogEntry,
    OfficeCaseSequence,
    CaseSiteSettings,
]
