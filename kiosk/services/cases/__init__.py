"""Cases reported at the kiosk (issue 19): complaints, repairs, suggestions, inquiries.

form       what a reporter submits, and its checks
numbering  the kiosk's own daily case numbers
desk       open, show from a receipt, follow up, purge contacts (CaseDesk)
status     the office's `case` feed entity, applied to the local state table
models     the tables (migration step 7)
"""
