"""Cases at the office (issue 19): complaints, repairs, suggestions and inquiries, their
state machine, deadlines, reports, and the desk's call log. See docs/architecture.md."""
