"""The sign-in lockout holds when guesses arrive in parallel, and guessing from one place
cannot lock an account for everyone else: on SQLite and PostgreSQL, with real threads
racing on the real database."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from conftest import SITE
from tests_support import MONDAY_10AM

from kiosk.domain.clock import ManualClock
from kiosk.office.models import StaffUser
from kiosk.office.staff import SignInRefused, StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database
from kiosk.office.throttle import LOCKOUT, MAX_ACCOUNT_FAILURES, MAX_ADDRESS_FAILURES, MAX_FAILURES

PASSWORD = "correct horse battery"
GUESSER = "203.0.113.9"
RECEPTION_DESK = "192.0.2.20"


@pytest.fixture
def staff(office_db_url: str) -> Iterator[StaffDirectory]:
    store = OfficeStore(open_office_database(office_db_url), clock=ManualClock(MONDAY_10AM))
    directory = StaffDirectory(store.db, store.clock)
    site = store.site(SITE)
    with store.db.connection_context():
        for name in ("admin", "wang.fang"):
            directory.add_user(site, name, PASSWORD, "admin")
    yield directory
    store.db.close()


def signs_in(staff: StaffDirectory, username: str, password: str, address: str) -> bool:
    try:
        staff.sign_in(username, password, address)
    except SignInRefused:
        return False
    return True


def test_parallel_guesses_are_all_counted_and_the_account_locks(staff: StaffDirectory) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda n: signs_in(staff, "admin", f"guess {n}", GUESSER), range(48))
        )

    assert not any(results)
    with staff.db.connection_context():
        assert StaffUser.get(StaffUser.username == "admin").failed_logins == 48
    assert not signs_in(staff, "admin", PASSWORD, GUESSER)  # locked from there
    assert signs_in(staff, "admin", PASSWORD, RECEPTION_DESK)  # not for everyone
    staff.clock.advance(LOCKOUT + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert signs_in(staff, "admin", PASSWORD, GUESSER)


def test_the_right_password_among_parallel_guesses_past_the_limit_is_refused(
    staff: StaffDirectory,
) -> None:
    for n in range(MAX_FAILURES):
        assert not signs_in(staff, "admin", f"guess {n}", GUESSER)
    with ThreadPoolExecutor(max_workers=4) as pool:
        tries = [PASSWORD if n == 7 else f"more {n}" for n in range(16)]
        results = list(pool.map(lambda word: signs_in(staff, "admin", word, GUESSER), tries))

    assert not any(results)


#: The counting rules below are the same SQL on both databases: the races above prove the
#: atomicity there; these run on SQLite alone to keep the suite short.
sqlite_only = pytest.mark.parametrize("office_db_url", ["sqlite"], indirect=True)


@sqlite_only
def test_one_address_guessing_many_names_is_throttled(staff: StaffDirectory) -> None:
    for n in range(MAX_ADDRESS_FAILURES):
        assert not signs_in(staff, f"user{n}", "guess", GUESSER)

    assert not signs_in(staff, "wang.fang", PASSWORD, GUESSER)  # the address is held
    assert signs_in(staff, "wang.fang", PASSWORD, RECEPTION_DESK)


@sqlite_only
def test_guesses_from_many_addresses_still_lock_the_account(staff: StaffDirectory) -> None:
    for n in range(MAX_ACCOUNT_FAILURES):
        assert not signs_in(staff, "admin", "guess", f"198.51.100.{n}")

    assert not signs_in(staff, "admin", PASSWORD, RECEPTION_DESK)
    staff.clock.advance(LOCKOUT + timedelta(seconds=1))  # type: ignore[attr-defined]
    assert signs_in(staff, "admin", PASSWORD, RECEPTION_DESK)


@sqlite_only
def test_a_correct_sign_in_clears_the_count_of_mistakes(staff: StaffDirectory) -> None:
    for _ in range(3):
        for n in range(MAX_FAILURES - 1):
            assert not signs_in(staff, "admin", f"typo {n}", RECEPTION_DESK)
        assert signs_in(staff, "admin", PASSWORD, RECEPTION_DESK)
