"""How the kiosk and the office open an SQLite file (see kiosk.storage.db for why).

- WAL journal: readers never block the writer.
- synchronous=FULL: a commit is on the card before anyone is told it happened.
- foreign_keys on, busy_timeout set: several processes share the file.
- transactions BEGIN IMMEDIATE (`WRITE_LOCK_FIRST`): a writer takes the write lock before
  its first read, so concurrent transactions wait their turn instead of being refused.
"""

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 2,  # FULL
    "foreign_keys": 1,
    "busy_timeout": 5000,
}
#: How a transaction begins (see the module's docstring).
WRITE_LOCK_FIRST = "IMMEDIATE"
