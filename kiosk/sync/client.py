"""The kiosk's side of sync: push the outbox to the office, pull the site's changes.

- Push drains the outbox in bounded batches, in commit order. An event is marked sent only
  when the office has said it stored it (or already had it); an event the office rejects,
  with its reason, is kept and shown, never silently dropped, and not sent again.
- Failures (no network, timeouts, a dropped connection, 5xx, 429) back off exponentially
  with jitter; the schedule is kept in the database, so a restart does not hammer the office.
  A dropped answer means the events are sent again, which the office's idempotent ingest
  makes harmless. The pause between idle rounds varies too, so a fleet does not move in step.
- Pull applies each batch of changes in one transaction together with the new cursor.
- The office's clock is read from every answer; the kiosk signs with the office's time
  (its own corrected by the measured skew), records the skew, and `kiosk doctor` shows it.

State lives in KioskState rows (`sync_*`), so `kiosk sync --status` in another process sees
what the running sync sees.
"""

from __future__ import annotations

import functools
import hmac
import json
import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import httpx

from kiosk.dbkit.key_files import create_private_key, load_private_key
from kiosk.domain.clock import Clock
from kiosk.domain.errors import KioskError
from kiosk.domain.tokens import raw_public_key
from kiosk.notify.links import STANDALONE_LINK_KEY
from kiosk.services.keys import DOCUMENT_SALT, INVITATION_KEY, replace_salt
from kiosk.storage.db import storage_errors
from kiosk.storage.journal import append_audit, enqueue_event
from kiosk.storage.models import KioskState, OutboxEvent
from kiosk.sync.apply import apply_changes, current_cursor
from kiosk.sync.wire import (
    HEADER_NONCE,
    EventKind,
    answer_signed_by,
    enrolment_code_id,
    enrolment_key,
    enrolment_mac,
    fingerprint,
    sign_request,
)

log = logging.getLogger(__name__)

AUTH_KEY = "office-auth.key"
BATCH_SIZE = 500
PULL_LIMIT = 10_000
BACKOFF_BASE = 2.0
#: A minute at most between tries: a kiosk cut off for ten minutes is back within a minute
#: of the network (the soak's catch-up target is two); 200 kiosks waiting cost the office
#: three requests a second. The office's own Retry-After (429, 503) is obeyed as it says.
BACKOFF_MAX = 60.0
#: How far one idle pause may differ from the next (see SyncClient.idle_wait).
IDLE_SPREAD = 0.2
#: After the office says this kiosk is revoked, ask again only this rarely.
FORBIDDEN_BACKOFF = 60 * 60.0
#: A forged answer raises a security alert at most this often.
FORGED_ALERT_EVERY = timedelta(hours=1)


class SyncError(KioskError):
    """A round could not finish; the reason is recorded in the status.

    `retry_after` is the office's own word on when to come back (429, 503); `forbidden`
    means the office refuses this kiosk (revoked), so asking often is pointless."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, forbidden: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.forbidden = forbidden


class NotEnrolled(SyncError):
    pass


@dataclass
class SyncStatus:
    enrolled: bool
    office_url: str
    site: str
    backlog: int
    rejected: int
    cursor: int
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    failures: int
    next_attempt: str | None
    clock_skew_seconds: float | None
    # The fingerprints of the office keys this kiosk trusts answers from (kiosk doctor).
    office_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RoundReport:
    pushed: int = 0
    duplicates: int = 0
    rejected: int = 0
    pulled: int = 0
    #: Pulled changes that failed their check and were skipped (kiosk.sync.apply).
    refused: int = 0
    skipped: bool = False  # backing off


F = TypeVar("F", bound=Callable[..., Any])


def _on_own_database(method: F) -> F:
    """Run the method with this client's kiosk database bound (see Kiosk.using)."""

    @functools.wraps(method)
    def bound(self: SyncClient, *args: Any, **kwargs: Any) -> Any:
        with self._kiosk.using():
            return method(self, *args, **kwargs)

    return cast(F, bound)


def _get(key: str, default: str | None = None) -> str | None:
    row = KioskState.get_or_none(KioskState.key == key)
    return row.value if row else default


def _set(**values: str | None) -> None:
    for key, value in values.items():
        if value is None:
            KioskState.delete().where(KioskState.key == f"sync_{key}").execute()
        else:
            KioskState.insert(key=f"sync_{key}", value=value).on_conflict_replace().execute()


def _state(key: str) -> str | None:
    return _get(f"sync_{key}")


def pinned_office_keys() -> set[str]:
    """The office's public keys (hex) this kiosk trusts its answers from."""
    return set(json.loads(_state("office_keys") or "[]"))


def is_loopback(url: str) -> bool:
    host = (httpx.URL(url).host or "").strip("[]")
    return host == "localhost" or host.startswith("127.") or host == "::1"


class SyncClient:
    def __init__(
        self,
        kiosk: Any,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        batch_size: int = BATCH_SIZE,
        rng: random.Random | None = None,
    ) -> None:
        self._kiosk = kiosk
        self._clock: Clock = kiosk.clock
        self._transport = transport
        self._timeout = timeout
        self._batch_size = batch_size
        self._rng = rng or random.Random()
        self._http: httpx.Client | None = None

    # ------------------------------------------------------------------ plumbing

    @property
    def kiosk(self) -> Any:
        """The kiosk this client syncs (services that run beside sync share it)."""
        return self._kiosk

    @property
    def office_url(self) -> str:
        return _state("office_url") or ""

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                base_url=self.office_url, transport=self._transport, timeout=self._timeout
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _note_office_time(
        self, response: httpx.Response, sent: datetime, received: datetime
    ) -> None:
        stamp = response.headers.get("x-office-time")
        if not stamp:
            return
        try:
            office = datetime.fromisoformat(stamp)
        except ValueError:
            return
        middle = sent + (received - sent) / 2
        skew_ms = int((office - middle).total_seconds() * 1000)
        with self._kiosk.db.atomic():
            _set(clock_skew_ms=str(skew_ms))

    def _office_now_ms(self) -> int:
        skew = int(_state("clock_skew_ms") or 0)
        return int(self._clock.now().timestamp() * 1000) + skew

    def _request(self, method: str, path: str, body: bytes = b"") -> httpx.Response:
        key = load_private_key(self._kiosk.keys.directory / AUTH_KEY)
        headers = sign_request(key, self._kiosk.kiosk_id, method, path, body, self._office_now_ms())
        headers["Content-Type"] = "application/json"
        # The skew is between the office's clock and this kiosk's, not the machine's.
        sent = self._clock.now()
        response = self._client().request(method, path, content=body, headers=headers)
        if response.status_code == 200:
            self._check_office_signature(response, headers[HEADER_NONCE])
        self._note_office_time(response, sent, self._clock.now())
        return response

    def _check_office_signature(self, response: httpx.Response, nonce: str) -> None:
        """Refuse an answer the office did not sign for this very request: a proxy on the
        path could otherwise add keys, revoke genuine ones or change appointments. A kiosk
        enrolled before answers were signed pins the office's keys once, over TLS only."""
        pinned = pinned_office_keys()
        headers = {name.lower(): value for name, value in response.headers.items()}
        if not pinned:
            offered = [key for key in headers.get("x-office-keys", "").split(",") if key]
            if not self.office_url.startswith("https://") or not offered:
                raise SyncError(
                    "the office's answers cannot be checked: this kiosk enrolled before they "
                    "were signed. Sync once over https, or enrol again with a new code "
                    "(kiosk enroll URL CODE)"
                )
            pinned = set(offered)
            with self._kiosk.db.atomic():
                _set(office_keys=json.dumps(sorted(pinned)))
                append_audit(
                    self._clock.now(), "sync", "office.keys_pinned", self._kiosk.kiosk_id,
                    {"keys": [fingerprint(key) for key in sorted(pinned)], "over": "tls"},
                )  # fmt: skip
            log.warning(
                "pinned the office's keys over TLS: %s", ", ".join(map(fingerprint, pinned))
            )
        if answer_signed_by(pinned, headers, response.status_code, nonce, response.content) is None:
            self._forged(response.request.url.path)
            raise SyncError(
                "an answer claiming to be the office's is not signed by its key: refused "
                "(is something between this kiosk and the office altering it?)"
            )

    # ------------------------------------------------------------------ enrolment

    @_on_own_database
    def enroll(self, url: str, code: str, name: str = "", *, insecure_http: bool = False) -> str:
        """Trade a one-time code for enrolment; returns the site's name.

        The code never crosses the network: the kiosk proves it knows it (kiosk.sync.wire),
        and believes the office's answer, and pins the office's keys, only when the answer
        proves the office knows it too. Plain http to anything but this machine needs
        `insecure_http` (the proofs and signatures still hold; what crosses is readable).

        The standalone invitation key is removed: from now on invitations are signed at the
        office, and the site's public key arrives with the first pull. The site's document
        salt replaces the kiosk's own."""
        url = url.rstrip("/")
        if url.startswith("http://") and not is_loopback(url) and not insecure_http:
            raise SyncError(
                f"{url} is plain http: anyone on the network path can read what crosses it. "
                "Put TLS in front of the office (https://), or pass --insecure-http to "
                "enrol anyway (the office's answers are still signed and checked)"
            )
        keys_dir = self._kiosk.keys.directory
        # Links sent while standalone were signed with the kiosk's link key: it becomes the
        # sync key, so the office (which learns its public half now) can verify them.
        standalone_links = keys_dir / STANDALONE_LINK_KEY
        if standalone_links.exists() and not (keys_dir / AUTH_KEY).exists():
            standalone_links.rename(keys_dir / AUTH_KEY)
        create_private_key(keys_dir / AUTH_KEY)
        auth = load_private_key(keys_dir / AUTH_KEY)
        badge = self._kiosk.keys.badge_signer().public_key
        fields = {
            "kiosk_id": self._kiosk.kiosk_id,
            "name": name or self._kiosk.config.site.kiosk_name,
            "auth_public_key": raw_public_key(auth.public_key()).hex(),
            "badge_public_key": raw_public_key(badge).hex(),
        }
        code_key = enrolment_key(code)
        nonce = secrets.token_hex(16)
        body = {
            **fields, "code_id": enrolment_code_id(code_key), "nonce": nonce,
            "proof": enrolment_mac(code_key, "request", {**fields, "nonce": nonce}),
        }  # fmt: skip
        with httpx.Client(transport=self._transport, timeout=self._timeout) as client:
            try:
                response = client.post(f"{url}/v1/enrol", json=body)
            except httpx.HTTPError as err:
                raise SyncError(f"cannot reach the office at {url}: {err}") from err
        if response.status_code != 200:
            raise SyncError(f"the office refused enrolment: {_detail(response)}")
        answer = _enrolment_answer(response, code_key, fields, nonce)
        site = answer["site"]
        salt = answer.get("document_salt")
        if salt:
            # One salt for the site: document numbers then hash the same here, at the other
            # kiosks and at the office (watchlist entries added there).
            replace_salt(keys_dir / DOCUMENT_SALT, bytes.fromhex(salt))
        now = self._clock.now()
        with self._kiosk.db.atomic():
            _set(office_url=url, site=site, office_keys=json.dumps(sorted(answer["office_keys"])))
            append_audit(
                now, "admin", "kiosk.enrolled", self._kiosk.kiosk_id,
                {"site": site, "office_keys": [fingerprint(k) for k in answer["office_keys"]]},
            )  # fmt: skip
        (keys_dir / INVITATION_KEY).unlink(missing_ok=True)
        self.close()
        return str(site)

    # ------------------------------------------------------------------ a round

    @_on_own_database
    def run_once(self, *, force: bool = False, push: bool = True, pull: bool = True) -> RoundReport:
        """Push then pull once (or only one of them). Backing off, it does nothing unless
        `force`."""
        if not self.office_url:
            raise NotEnrolled("this kiosk is not enrolled with an office: kiosk enroll URL CODE")
        next_attempt = _state("next_attempt")
        if not force and next_attempt and datetime.fromisoformat(next_attempt) > self._clock.now():
            return RoundReport(skipped=True)
        report = RoundReport()
        try:
            if push:
                self._push(report)
            if pull:
                self._pull(report)
        except SyncError as err:
            self._failed(str(err), err.retry_after, err.forbidden)
            raise
        with self._kiosk.db.atomic():
            _set(last_success=self._clock.now().isoformat(), failures="0", next_attempt=None)
        return report

    def _failed(self, message: str, retry_after: float | None, forbidden: bool) -> None:
        failures = int(_state("failures") or 0) + 1
        if forbidden:
            delay = FORBIDDEN_BACKOFF
        elif retry_after is not None:
            delay = retry_after
        else:
            # Exponential with "equal jitter": half fixed, half random, so many kiosks that
            # lost the office together do not all come back in the same second.
            ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(failures, 20))
            delay = ceiling / 2 + self._rng.uniform(0, ceiling / 2)
        now = self._clock.now()
        with self._kiosk.db.atomic():
            _set(
                failures=str(failures),
                last_error=message,
                last_error_at=now.isoformat(),
                next_attempt=(now + timedelta(seconds=delay)).isoformat(),
            )
        log.warning("sync failed (%d in a row), next try in %.0f s: %s", failures, delay, message)

    def _call(self, method: str, path: str, body: bytes = b"") -> httpx.Response:
        for attempt in (1, 2):
            try:
                response = self._request(method, path, body)
            except httpx.HTTPError as err:
                raise SyncError(f"office unreachable: {type(err).__name__}: {err}") from err
            if response.status_code == 200:
                return response
            # Refused for the time alone: the answer carried the office's clock, the skew is
            # now known, and a request signed again with corrected time goes through.
            if not (response.status_code == 401 and "clock" in _detail(response) and attempt == 1):
                break
        retry_after = None
        if response.status_code in (429, 503):
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = None
        raise SyncError(
            f"office answered {response.status_code}: {_detail(response)}",
            retry_after=retry_after,
            forbidden=response.status_code == 403,
        )

    def _push(self, report: RoundReport) -> None:
        while True:
            batch = list(
                OutboxEvent.select()
                .where(OutboxEvent.sent_at.is_null() & OutboxEvent.rejected_at.is_null())
                .order_by(OutboxEvent.id)
                .limit(self._batch_size)
            )
            if not batch:
                return
            body = json.dumps(
                {
                    "events": [
                        {
                            "event_id": event.event_id,
                            "seq": event.id,
                            "kind": event.kind,
                            "subject_ref": event.subject_ref,
                            "occurred_at": event.occurred_at.isoformat(),
                            "payload": json.loads(event.payload),
                            "prev_hash": event.prev_hash,
                            "event_hash": event.event_hash,
                        }
                        for event in batch
                    ]
                },
                ensure_ascii=False,
            ).encode()
            try:
                response = self._call("POST", "/v1/events", body)
            except SyncError:
                with storage_errors(), self._kiosk.db.atomic():
                    OutboxEvent.update(attempts=OutboxEvent.attempts + 1).where(
                        OutboxEvent.id.in_([e.id for e in batch])
                    ).execute()
                raise
            results = {r["event_id"]: r for r in response.json().get("results", [])}
            now = self._clock.now()
            rejected = 0
            with storage_errors(), self._kiosk.db.atomic():
                done = [
                    e.id
                    for e in batch
                    if results.get(e.event_id, {}).get("status") in ("stored", "duplicate")
                ]
                if done:
                    OutboxEvent.update(sent_at=now).where(OutboxEvent.id.in_(done)).execute()
                for event in batch:
                    result = results.get(event.event_id)
                    # A conflict (this id stored before with other content) is refused
                    # for good, like a rejection: kept here with the office's reason.
                    if result and result.get("status") in ("rejected", "conflict"):
                        OutboxEvent.update(
                            rejected_at=now, last_error=str(result.get("error", ""))[:500]
                        ).where(OutboxEvent.id == event.id).execute()
                        rejected += 1
            report.rejected += rejected
            report.pushed += sum(1 for r in results.values() if r.get("status") == "stored")
            report.duplicates += sum(1 for r in results.values() if r.get("status") == "duplicate")
            if not done and not rejected:
                raise SyncError("the office answered for none of the batch")

    def _pull(self, report: RoundReport) -> None:
        while True:
            cursor = current_cursor()
            response = self._call("GET", f"/v1/changes?cursor={cursor}&limit={PULL_LIMIT}")
            answer = response.json()
            changes = answer.get("changes", [])
            if changes:
                # The office's own keys are the sync's business, not the engine's; they are
                # learnt in the transaction that moves the cursor past them.
                office_keys = [c for c in changes if c.get("entity") == "office_key"]
                changes = [c for c in changes if c.get("entity") != "office_key"]
                with storage_errors(), self._kiosk.db.atomic():
                    if office_keys:
                        self._learn_office_keys(office_keys)
                    applied = apply_changes(
                        changes,
                        int(answer["cursor"]),
                        self._kiosk.kiosk_id,
                        self._clock.now(),
                        engine=self._kiosk.engine,
                    )
                report.pulled += applied.applied
                report.refused += len(applied.skipped)
            if not answer.get("more"):
                return

    def _forged(self, path: str) -> None:
        """Record a forged answer; and, once an hour at most (sync retries every few
        seconds), a security alert for the guard's screen and, when the path is clean
        again, the office."""
        now = self._clock.now()
        with self._kiosk.db.atomic():
            append_audit(now, "sync", "office.answer_forged", self._kiosk.kiosk_id, {"path": path})
            last = _state("forged_alert_at")
            if last is None or now - datetime.fromisoformat(last) >= FORGED_ALERT_EVERY:
                enqueue_event(
                    now, EventKind.SECURITY_ALERT, "",
                    {"reason": "office_answer_forged", "kiosk": self._kiosk.kiosk_id,
                     "path": path},
                )  # fmt: skip
                _set(forged_alert_at=now.isoformat())

    def _learn_office_keys(self, changes: list[dict[str, Any]]) -> None:
        """The office rotated its key: the new one came in an answer signed by a key this
        kiosk already trusts, so it is trusted too; a retired one is dropped, unless it is
        the last this kiosk has."""
        pinned = pinned_office_keys()
        for change in changes:
            data = change.get("data") or {}
            key = data.get("public_key")
            if not isinstance(key, str) or len(key) != 64:
                continue
            if data.get("retired"):
                if len(pinned - {key}) >= 1:
                    pinned.discard(key)
            else:
                pinned.add(key)
        _set(office_keys=json.dumps(sorted(pinned)))
        append_audit(
            self._clock.now(), "sync", "office.keys_changed", self._kiosk.kiosk_id,
            {"keys": [fingerprint(key) for key in sorted(pinned)]},
        )  # fmt: skip

    # ------------------------------------------------------------------ status and loop

    @_on_own_database
    def status(self) -> SyncStatus:
        skew = _state("clock_skew_ms")
        return SyncStatus(
            enrolled=bool(self.office_url),
            office_url=self.office_url,
            site=_state("site") or "",
            backlog=OutboxEvent.select()
            .where(OutboxEvent.sent_at.is_null() & OutboxEvent.rejected_at.is_null())
            .count(),
            rejected=OutboxEvent.select().where(OutboxEvent.rejected_at.is_null(False)).count(),
            cursor=current_cursor(),
            last_success=_state("last_success"),
            last_error=_state("last_error"),
            last_error_at=_state("last_error_at"),
            failures=int(_state("failures") or 0),
            next_attempt=_state("next_attempt"),
            clock_skew_seconds=int(skew) / 1000 if skew is not None else None,
            office_keys=sorted(fingerprint(key) for key in pinned_office_keys()),
        )

    def run_forever(self, stop: threading.Event, idle: float = 5.0) -> None:
        """Sync until `stop` is set: as a process (`kiosk sync`) or a thread of the kiosk."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except SyncError:
                report = RoundReport(skipped=True)
            except Exception:  # a bug must not stop sync for good; it is logged, then retried
                log.exception("sync round failed")
                report = RoundReport(skipped=True)
            stop.wait(
                self.idle_wait(idle)
                if report.skipped or not (report.pushed or report.pulled)
                else 0.1
            )

    def idle_wait(self, idle: float) -> float:
        """The pause after a round with nothing to do: `idle` ± 20 %. Without the spread,
        kiosks that an office stall held up together come back together, round after round;
        with it they drift apart within a few rounds."""
        return idle * self._rng.uniform(1 - IDLE_SPREAD, 1 + IDLE_SPREAD)


def _enrolment_answer(
    response: httpx.Response, code_key: bytes, fields: dict[str, str], nonce: str
) -> dict[str, Any]:
    """The office's answer to an enrolment, if it proves it knows the code."""
    try:
        answer = response.json()
        proof = answer.pop("office_proof", "")
        keys = answer.get("office_keys")
        expected = enrolment_mac(code_key, "answer", {**answer, **fields, "nonce": nonce})
    except (ValueError, AttributeError, TypeError) as err:
        raise SyncError("the office's answer to the enrolment is not one") from err
    if not isinstance(proof, str) or not hmac.compare_digest(proof, expected):
        raise SyncError(
            "the answer to the enrolment does not prove it comes from the office that made "
            "the code: refused, nothing was changed (is something between this kiosk and "
            "the office answering for it?)"
        )
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise SyncError("the office's answer to the enrolment names no key of its own")
    return dict(answer)


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text[:200]))
    except (ValueError, AttributeError):
        return response.text[:200]
