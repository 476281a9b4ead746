"""Storage helpers shared by the kiosk and the office, below both of them.

    rows           insert_rows (one prepared statement for many rows), rows_of
    sqlite         PRAGMAS and WRITE_LOCK_FIRST: how an SQLite file is opened
    fields         UtcTimestampField: aware UTC times as epoch milliseconds
    private_files  files only their owner may read (databases, keys, exports)
    key_files      Ed25519 private keys in such files

This package imports only kiosk.domain and third-party libraries: neither the kiosk's
storage (kiosk.storage) nor the office (kiosk.office).
"""
