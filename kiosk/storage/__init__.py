"""Storage on SQLite through peewee: models, migrations, the audit chain and the outbox."""
