"""`make growth`: the office's pages over five years of 200 kiosks (issue 21, growth).

An office database of its own (`kiosk_growth`, on the server $KIOSK_TEST_POSTGRES_URL points
at; dropped at the end unless --keep) is filled by kiosk.office.growth_seed: 20 million
visits by default, made by PostgreSQL's generate_series. If the server's disk cannot hold
them (about 900 bytes a visit with its appointment and indexes, plus room to build the
indexes), the visits are scaled down to what fits and the table says so.

Then, for the flagship site (the most kiosks, the most visits) and for an ordinary one, an
admin signs in and each page is fetched through the whole app (routing, session, queries,
templates, SVG charts): the reports of a day, a week and a month, the visit log's first
page (plain, and searched by a name), and who is on site. Each row gives the median of
ROUNDS fetches against the 500 ms target, and the indexes and scans PostgreSQL chose for the
page's queries on the big tables (EXPLAIN of the queries the page ran), so the table says
which indexes make it so. The figures go to standard output as a table, then as JSON, and
to build/growth.json.

    .venv/bin/python benchmarks/growth_office.py [--visits N] [--kiosks K --sites S] [--keep]
    .venv/bin/python benchmarks/growth_office.py --reuse      # the kept database, not seeded

A smaller office with the same flagship (for working on a page: the flagship's size is what
its pages cost) is `--visits 4000000 --kiosks 40 --sites 10`: 2,000,000 visits at the
flagship as in the full run, in a fifth of the seeding time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg
from fastapi.testclient import TestClient

from kiosk.domain.clock import ManualClock
from kiosk.office.api import create_app
from kiosk.office.growth_seed import BIG_TABLES, OfficeShape, SeededOffice, seed_office
from kiosk.office.models import Site
from kiosk.office.settings import OfficeSettings
from kiosk.office.staff import StaffDirectory
from kiosk.office.store import OfficeStore, open_office_database

#: A Friday afternoon in the site's zone (14:00 in Shanghai): some visitors are on site.
END = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")
DATABASE = "kiosk_growth"
PASSWORD = "growth password 1"
ROUNDS = 7
TARGET_MS = 500.0
#: Bytes a visit takes with its appointment and every index (measured: 20M visits, 17.7 GB),
#: and the room the index builds and VACUUM need on top.
BYTES_PER_VISIT = 900
HEADROOM = 1.6
PAGES = [
    ("report, one day", "/reports", {"period": "day", "day": "2026-11-19"}),
    ("report, one week", "/reports", {"period": "week", "day": "2026-11-19"}),
    ("report, one month", "/reports", {"period": "month", "day": "2026-11-19"}),
    ("report, a month four years ago", "/reports", {"period": "month", "day": "2022-03-15"}),
    ("visit log, first page", "/visits", {}),
    ("visit log, first page, name search", "/visits", {"q": "visitor 4242"}),
    ("visit log, first page, checked out only", "/visits", {"state": "checked_out"}),
    ("on-site list", "/onsite", {}),
]


def _database_url(server_url: str, name: str) -> str:
    return urlunparse(urlparse(server_url)._replace(path=f"/{name}"))


def _fitting_visits(server_url: str, wanted: int) -> tuple[int, str]:
    """`wanted`, or fewer if the server's disk cannot hold them; and why, when fewer."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        try:
            row = connection.execute("SHOW data_directory").fetchone()
        except psycopg.Error:  # a role that may not see it: the root file system, then
            row = None
    free = shutil.disk_usage(row[0] if row else "/").free
    fits = int(free / (BYTES_PER_VISIT * HEADROOM))
    if fits >= wanted:
        return wanted, ""
    scaled = fits // 1_000_000 * 1_000_000 or fits
    return scaled, (
        f"scaled down from {wanted:,} to {scaled:,} visits: {free / 1e9:.0f} GB free on the "
        f"server's disk, about {BYTES_PER_VISIT * HEADROOM:.0f} bytes needed a visit"
    )


@contextmanager
def _own_database(server_url: str, keep: bool, reuse: bool = False) -> Iterator[str]:
    if not reuse:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
    keep = keep or reuse
    try:
        yield _database_url(server_url, DATABASE)
    finally:
        if not keep:
            with psycopg.connect(server_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


class _Queries(logging.Handler):
    """The SQL peewee runs (its logger gets each statement with its parameters)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.seen.append(record.msg)


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _access_paths(store: OfficeStore, queries: list[tuple[str, Any]]) -> tuple[list[str], float]:
    """What PostgreSQL reads the big tables with for these queries (index names, or
    "seq scan of T"), and the slowest query's time in ms, by EXPLAIN ANALYZE."""
    paths: dict[str, None] = {}
    slowest = 0.0
    with store.db.connection_context():
        for sql, params in queries:
            if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            if not any(table in sql for table in BIG_TABLES):
                continue
            [[explained]] = store.db.execute_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params
            ).fetchall()
            top = explained[0]
            slowest = max(slowest, float(top["Execution Time"]))
            for node in _plan_nodes(top["Plan"]):
                index = node.get("Index Name", "")
                relation = node.get("Relation Name", "")
                if index.startswith(BIG_TABLES):  # a bitmap index scan names no relation
                    paths[index] = None
                elif node["Node Type"] == "Seq Scan" and relation in BIG_TABLES:
                    paths[f"seq scan of {relation}"] = None
    return list(paths), slowest


def _signed_in(store: OfficeStore, site: Site, username: str) -> TestClient:
    with store.db.connection_context():
        StaffDirectory(store.db, store.clock).add_user(site, username, PASSWORD, "admin")
    client = TestClient(create_app(store, OfficeSettings(cookie_secure=False)))
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert answer.status_code in (200, 303), answer.text[:300]
    return client


def _measure(store: OfficeStore, client: TestClient, label: str, site_visits: int) -> list[dict]:
    rows: list[dict[str, Any]] = []
    sql_log = logging.getLogger("peewee")
    for name, path, params in PAGES:
        client.get(path, params=params)  # warm: the pool's connection, the template cache
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            answer = client.get(path, params=params)
            timings.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        recorder = _Queries()
        sql_log.addHandler(recorder)
        previous = sql_log.level
        sql_log.setLevel(logging.DEBUG)
        try:
            client.get(path, params=params)
        finally:
            sql_log.removeHandler(recorder)
            sql_log.setLevel(previous)
        paths, slowest = _access_paths(store, recorder.seen)
        median = statistics.median(timings)
        rows.append(
            {
                "name": f"{name}, {label} ({site_visits:,} visits)",
                "median_ms": round(median, 1),
                "p_max_ms": round(max(timings), 1),
                "slowest_query_ms": round(slowest, 1),
                "reads": paths,
                "target": f"<= {TARGET_MS:.0f} ms",
                "ok": median <= TARGET_MS,
            }
        )
    return rows


def run(server_url: str, shape: OfficeShape, keep: bool, reuse: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"visits_wanted": shape.visits}
    visits, result["scaled"] = (
        (shape.visits, "") if reuse else _fitting_visits(server_url, shape.visits)
    )
    shape = replace(shape, visits=visits)
    with _own_database(server_url, keep, reuse) as url:
        store = OfficeStore(open_office_database(url), clock=ManualClock(END))
        with store.db.connection_context():
            seeded = (
                _seeded_before(store) if reuse else seed_office(store.db, shape, end=END, zone=ZONE)
            )
            sizes = store.db.execute_sql(
                "SELECT relname, pg_total_relation_size(relid), pg_relation_size(relid)"
                " FROM pg_statio_user_tables WHERE relname = ANY(%s)",
                (list(BIG_TABLES),),
            ).fetchall()
            per_site = dict(
                store.db.execute_sql(
                    'SELECT "site_id", count(*) FROM "office_visit" GROUP BY 1'
                ).fetchall()
            )
            flagship, ordinary = (Site.get_by_id(seeded.site_ids[n]) for n in (0, 1))
            database_bytes = store.db.execute_sql(
                "SELECT pg_database_size(current_database())"
            ).fetchone()[0]
        result.update(
            visits=seeded.visits,
            appointments=seeded.appointments,
            seed_seconds={step: round(s, 1) for step, s in seeded.seconds.items()},
            database_gb=round(database_bytes / 1e9, 2),
            tables={
                name: {"total_gb": round(total / 1e9, 2), "heap_gb": round(heap / 1e9, 2)}
                for name, total, heap in sizes
            },
            sites=len(seeded.site_ids),
        )
        rows = []
        for site, label in ((flagship, "flagship site"), (ordinary, "ordinary site")):
            client = _signed_in(store, site, f"admin{site.id}")
            rows += _measure(store, client, label, int(per_site.get(site.id, 0)))
        result["pages"] = rows
        store.db.close_all()
    return result


def _seeded_before(store: OfficeStore) -> SeededOffice:
    """What a kept database holds (--reuse): its sites, the flagship (most visits) first."""
    per_site = store.db.execute_sql(
        'SELECT "site_id", count(*) FROM "office_visit" GROUP BY 1 ORDER BY 2 DESC, 1'
    ).fetchall()
    [[appointments]] = store.db.execute_sql('SELECT count(*) FROM "office_appointment"').fetchall()
    return SeededOffice(
        site_ids=[site for site, _ in per_site],
        visits=sum(count for _, count in per_site),
        appointments=int(appointments),
        seconds={"reused": 0.0},
    )


def _print(result: dict[str, Any]) -> None:
    print(
        f"\noffice growth: {result['visits']:,} visits, {result['appointments']:,} appointments,"
        f" {result['sites']} sites; database {result['database_gb']} GB;"
        f" seeded in {result['seed_seconds']}"
    )
    if result["scaled"]:
        print(f"  ({result['scaled']})")
    for row in result["pages"]:
        verdict = "ok" if row["ok"] else "MISSED"
        print(
            f"  {row['name']:<72} {row['median_ms']:9.1f} ms  {verdict:<6}"
            f" slowest query {row['slowest_query_ms']} ms; reads {', '.join(row['reads'])}"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=OfficeShape().visits)
    parser.add_argument("--kiosks", type=int, default=OfficeShape().kiosks)
    parser.add_argument("--sites", type=int, default=OfficeShape().sites)
    parser.add_argument("--keep", action="store_true", help="keep the kiosk_growth database")
    parser.add_argument("--reuse", action="store_true", help="measure the kept database")
    args = parser.parse_args(argv)
    server_url = os.environ.get("KIOSK_TEST_POSTGRES_URL", "")
    if not server_url.startswith("postgres"):
        print("growth: set KIOSK_TEST_POSTGRES_URL to a PostgreSQL server", file=sys.stderr)
        return 2
    shape = OfficeShape(visits=args.visits, kiosks=args.kiosks, sites=args.sites)
    result = run(server_url, shape, args.keep, args.reuse)
    _print(result)
    output = Path(__file__).resolve().parents[1] / "build" / "growth.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print("\n" + json.dumps(result, ensure_ascii=False))
    return 0 if all(row["ok"] for row in result["pages"]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
