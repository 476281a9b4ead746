"""Services over storage: the check-in engine, the directory, reports, retention, keys."""
