"""The office server: kiosks push their events here and pull what they need to decide
offline (hosts, appointments, the watchlist, revocations, keys).

    models   peewee models, bound late to PostgreSQL or an embedded SQLite file
    store    OfficeStore: enrolment, authentication, ingest, the change feed, the directory
    api      the FastAPI application (OpenAPI at /openapi.json when KIOSK_OFFICE_API_DOCS=1)

The process keeps no state of its own: every request reads and writes the database, so
several instances can serve one PostgreSQL database behind a load balancer.
"""
