"""What the notification tests share beside their fixtures (a module of its own: `from
conftest import` finds whichever folder's conftest was loaded last in a mixed run)."""

#: Where the test kiosks' links point (no office answers there; the tests read the links).
LINK_BASE = "https://office.test/l/"
