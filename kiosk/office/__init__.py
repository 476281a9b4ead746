"""The office server: kiosks push their events here and pull what they need to decide
offline (hosts, appointments, the watchlist, revocations, keys).

    models            peewee models, bound late to PostgreSQL or an embedded SQLite file
    db                opening the database and its migrations
    store             OfficeStore: a thin facade over one controller per concern:
      fleet             sites and their keys, enrolment, request authentication, revocation
      intake            the events kiosks push (validation, visits, used invitations)
      feed              the change feed kiosks pull (its one writer)
      appointment_book  booking, inviting, changing and cancelling visits
      host_directory    hosts and the watchlist
      host_links        hosts' links, redeemed once across the office
    bookings, directory, staff_accounts, site_admin, reporting   what the web pages do
    forwarding        OfficeForwarder: sends the notifications kiosks handed over
    invitations       InvitationMailer: the visitors' invitations and notices
    api               the composition root (`build_office`) and the FastAPI application
                      (OpenAPI at /openapi.json when KIOSK_OFFICE_API_DOCS=1)

The office imports none of the kiosk's engine (kiosk.services, kiosk.devices, its notifier,
kiosk.storage): what both sides share lives below them, in kiosk.domain, kiosk.dbkit and
kiosk.notify.kinds (tests/office/test_office_imports.py).

The process keeps no state of its own: every request reads and writes the database, so
several instances can serve one PostgreSQL database behind a load balancer.
"""
