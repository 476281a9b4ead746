"""`build_delivery_desk`: one kiosk's deliveries engine (issue 20), wired from its parts;
re-exported by the composition root (kiosk.app) and used by the modules built over a
kiosk (the touchscreen's services, the demo) without importing that root."""

from __future__ import annotations

from kiosk.domain.tokens import TokenVerifier
from kiosk.parts import Kiosk
from kiosk.services.deliveries import DeliveryDesk, PickupKeyRing
from kiosk.services.keys import DatabaseKeyRing


def build_delivery_desk(kiosk: Kiosk) -> DeliveryDesk:
    """Pickup tokens signed by the kiosk's badge signer, verified with the site's badge keys."""
    verifier = TokenVerifier(PickupKeyRing(DatabaseKeyRing()), kiosk.clock.now)
    return DeliveryDesk(
        db=kiosk.db,
        config=kiosk.config,
        clock=kiosk.clock,
        signer=kiosk.keys.badge_signer(),
        verifier=verifier,
        kiosk_id=kiosk.kiosk_id,
    )
