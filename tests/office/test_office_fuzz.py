"""The office API under generated input: schemathesis walks the OpenAPI document, and
hypothesis feeds signed batches of arbitrary JSON to ingest. No input is a server error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from kiosk.domain.tokens import raw_public_key
from kiosk.office.api import create_app
from kiosk.office.settings import OfficeSettings
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.services.keys import create_private_key, load_private_key
from kiosk.sync.wire import sign_request

ROOT = Path(__file__).parent


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> OfficeStore:
    return OfficeStore(
        open_office_database(str(tmp_path_factory.mktemp("fuzz") / "office.sqlite3"))
    )


def test_no_generated_request_is_a_server_error(fuzz_store: OfficeStore) -> None:
    app = create_app(fuzz_store, OfficeSettings(api_docs=True, cookie_secure=False))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    @given(case=schema.as_strategy())
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error])

    check()


#: Text no store can hold (a lone surrogate, NUL) or that must never reach a terminal, a
#: printer or a format string, beside any text.
AWKWARD = st.sampled_from(["\ud800", "a\x00b", "\x1b[2J", "%(x)s", "100%", "\r\n"])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | AWKWARD,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
EVENTS = st.lists(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {
                "event_id": st.text(alphabet="0123456789abcdef", min_size=30, max_size=34),
                "seq": st.one_of(st.integers(), st.text(max_size=3)),
                "kind": st.sampled_from(
                    ["visit.checked_in", "visit.checked_out", "visit.rated", "nope"]
                ),
                "occurred_at": st.one_of(
                    st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
                    st.text(max_size=10),
                ),
                "payload": st.dictionaries(
                    st.sampled_from(
                        [
                            "visit",
                            "state",
                            "kiosk",
                            "visitor",
                            "satisfaction",
                            "arrived_at",
                            "invitation",
                        ]
                    ),
                    JSON,
                    max_size=6,
                ),
            }
        ),
    ),
    max_size=6,
)


def test_signed_batches_of_anything_are_judged_event_by_event(
    fuzz_store: OfficeStore, tmp_path: Path
) -> None:
    from starlette.testclient import TestClient

    create_private_key(tmp_path / "auth.key")
    key = load_private_key(tmp_path / "auth.key")
    code = fuzz_store.enrolment_code("Fuzz Site")
    fuzz_store.enrol(
        code,
        kiosk_id="kiosk-fuzz",
        name="fuzz",
        auth_public_key=raw_public_key(key.public_key()).hex(),
        badge_public_key=raw_public_key(Ed25519PrivateKey.generate().public_key()).hex(),
    )
    client = TestClient(create_app(fuzz_store))

    @given(events=EVENTS)
    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    def check(events: list[object]) -> None:
        body = json.dumps({"events": events}).encode()
        headers = sign_request(
            key, "kiosk-fuzz", "POST", "/v1/events", body, int(datetime.now(UTC).timestamp() * 1000)
        )
        response = client.post("/v1/events", content=body, headers=headers)
        assert response.status_code == 200, response.text
        results = response.json()["results"]
        assert len(results) == len(events)
        assert {r["status"] for r in results} <= {"stored", "duplicate", "rejected", "conflict"}

    check()
    assert isinstance(httpx, object)
