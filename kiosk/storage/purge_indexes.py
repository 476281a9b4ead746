"""Indexes that let the nightly purge touch only what is due (issue 21, migration 9).

Each purge query used to scan its whole table every night (EXPLAIN: SCAN visit_photo,
SCAN visit, SCAN agreement_signature, SCAN appointment): a year's kiosk read its 110,000
kept visits and visitors, its three years of signatures and, for the photos' `taken_at`
stored after each 20 KB picture, every photo's overflow pages, to find a day's worth. Each
index below holds only the rows a purge may still change; a row leaves it when the purge
blanks it, so the index stays the size of the retention window, not of the kiosk's age.
The purge (kiosk.services.retention) writes the indexes' conditions literally (`!= ''`,
not a bound parameter), which is what lets SQLite use a partial index.
"""

from __future__ import annotations

#: The conditions, shared by the indexes and the purge's queries.
VISIT_HAS_TYPED_TEXT = (
    "(\"company\" != '' OR \"companion_names\" != '' OR \"items_declared\" != '' "
    "OR \"feedback\" != '')"
)
SIGNATURE_NOT_BLANKED = "\"signer_name\" != ''"
APPOINTMENT_NAMED = "\"visitor_name\" != ''"

PURGE_INDEXES = f"""
CREATE INDEX IF NOT EXISTS "visit_photo_taken_at" ON "visit_photo" ("taken_at");
CREATE INDEX IF NOT EXISTS "visitor_not_anonymised" ON "visitor" ("id")
  WHERE "anonymised_at" IS NULL;
CREATE INDEX IF NOT EXISTS "visit_typed_text_updated_at" ON "visit" ("updated_at")
  WHERE {VISIT_HAS_TYPED_TEXT};
CREATE INDEX IF NOT EXISTS "agreement_signature_kept_signed_at" ON "agreement_signature"
  ("signed_at") WHERE {SIGNATURE_NOT_BLANKED};
CREATE INDEX IF NOT EXISTS "appointment_named_ends_at" ON "appointment" ("ends_at")
  WHERE {APPOINTMENT_NAMED};
"""
