"""The kiosk's case tables (issue 19), in the kiosk's own SQLite (migration step 7).

    KioskCase       a case reported at this kiosk: what was said, by whom, and its receipt
    CaseStatus      a case's state as the office's feed last said it (no personal data)
    CaseFollowUp    the reporter's answer at the kiosk, once per resolution

The reporter's contact and photo live in KioskCase's few columns only, so that the purge
can blank them after the retention period while the case (and its counts) stay.
"""

from __future__ import annotations

from peewee import BlobField, BooleanField, CharField, TextField

from kiosk.dbkit.fields import UtcTimestampField
from kiosk.storage.models import BaseModel


class KioskCase(BaseModel):
    ref = CharField(unique=True)
    number = CharField(unique=True)
    #: The submission's own key (the form's id): a second tap of "Send" finds the first.
    submission_key = CharField(unique=True)
    kind = CharField()
    urgency = CharField()
    category = CharField()
    building = CharField()
    floor = CharField()
    unit = CharField()
    place_text = TextField()
    unit_known = BooleanField()
    description = TextField()
    reporter_name = CharField()
    reporter_unit = CharField()
    reporter_phone = CharField()
    language = CharField()
    photo_jpeg = BlobField(null=True)
    receipt_token = TextField()
    opened_at = UtcTimestampField()
    response_due_at = UtcTimestampField()
    purged_at = UtcTimestampField(null=True)


class CaseStatus(BaseModel):
    case_ref = CharField(primary_key=True)
    number = CharField()
    kind = CharField()
    state = CharField()
    opened_at = UtcTimestampField()
    response_due_at = UtcTimestampField()
    resolved_at = UtcTimestampField(null=True)
    followup_due_at = UtcTimestampField(null=True)
    updated_at = UtcTimestampField()


class CaseFollowUp(BaseModel):
    case_ref = CharField()
    #: The resolution answered: a case reopened and resolved again may be answered again.
    resolved_at = UtcTimestampField()
    outcome = CharField()
    note = TextField()
    at = UtcTimestampField()

    class Meta:
        indexes = ((("case_ref", "resolved_at"), True),)


CASE_MODELS = (KioskCase, CaseStatus, CaseFollowUp)
