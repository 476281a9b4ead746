"""Sync between a kiosk and its office: the wire format, the client, and applying changes.

wire     request signing (Ed25519, timestamp, nonce) shared by both ends, event kinds
client   SyncClient: pushes the outbox, pulls the change feed, backs off, keeps status
apply    writes a batch of pulled changes into the kiosk database in one transaction
"""
