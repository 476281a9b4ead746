"""Deliveries at the office (issue 20): parcels, documents, food and flowers left at a
kiosk for a host or a company of the site, as the kiosks report them.

    models     the tables: parcels, their history, the reminders sent, the site's rules
    rules      kinds, carriers, states; the delivery events' payload rules; site settings
    intake     delivery.logged / delivery.collected folded into parcels, and the feed
    ledger     what staff see (by role and site) and "returned to sender"
    reports    per day, per carrier, median time to pickup, the uncollected (and CSV)
    reminders  reminders to recipients and the desk's daily list, once a day
    messages   the words of those messages in the three languages

The pages are kiosk.office.web.deliveries; the command line kiosk.cli.office_deliveries.
The kiosks' side (logging, labels, pickup) is the kiosk's own; the two meet only in the
events and the change feed's "parcel" entity.
"""
