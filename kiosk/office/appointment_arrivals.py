"""Which booked visitors came: each appointment's `visit_arrived_at`, copied from its visit.

An appointment and the visit it books share the visit's ref (`visit_ref`); the kiosks'
events tell the office when that visit arrived. The reports count the appointments whose
time passed with nobody (the no-shows) from the appointment table alone, through one index
(kiosk.office.growth_indexes), instead of looking up each appointment's visit: over a
month of a site with two million visits that lookup was 22,000 random index reads and the
report's slowest query (issue 21). The copy is made when intake stores an arrival
(kiosk.office.intake), once for the appointments stored before the column existed
(kiosk.office.db's backfill), and by the seeds. An arrival is never undone, so neither is
the copy; the retention purge blanks names, not times, so a purged visit's appointment
still counts as kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from peewee import Database, fn

from kiosk.office.models import OfficeAppointment, OfficeVisit


def copy_arrivals(db: Database, visit_refs: Iterable[str] | None = None) -> int:
    """Copy the arrival of each of these visits (all visits when None) onto the appointment
    that booked it, where it is not there yet. Returns the appointments changed."""
    arrival = OfficeVisit.select(OfficeVisit.arrived_at).where(
        (OfficeVisit.ref == OfficeAppointment.visit_ref)
        # Only a visit of the appointment's own site counts: no kiosk marks another's kept.
        & (OfficeVisit.site == OfficeAppointment.site)
        & OfficeVisit.arrived_at.is_null(False)
    )
    query = OfficeAppointment.update(visit_arrived_at=arrival).where(
        OfficeAppointment.visit_arrived_at.is_null() & fn.EXISTS(arrival)
    )
    if visit_refs is not None:
        refs = sorted(set(visit_refs))
        if not refs:
            return 0
        query = query.where(OfficeAppointment.visit_ref.in_(refs))
    with db.atomic():
        return int(query.execute())
