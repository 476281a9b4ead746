"""Lobby kiosk: an offline-first visitor check-in kiosk.

Layout (the architecture, outermost last):

    kiosk.domain     pure rules and values: visit states, tokens, names, text checks
    kiosk.storage    peewee models on SQLite, migrations, the audit chain and outbox
    kiosk.services   the check-in engine, directory, reports and purge, on top of storage
    kiosk.devices    camera, code readers and printers behind small protocols, with fakes
    kiosk.ui         the Kivy touchscreen, a thin layer over services
    kiosk.screen_services  the touchscreen's services over the engine and the devices
    kiosk.app        the composition root: the only module that names concrete classes
    kiosk.cli        the `kiosk` command: one module per group of commands
"""

__version__ = "0.1.0"
