"""`kiosk office cases`: the office's cases from the command line, for scripts and tests.

    kiosk office cases list [--state S] [--kind K] [--overdue]
    kiosk office cases show NUMBER|REF            one case and its history
    kiosk office cases assign NUMBER --department D [--assignee USER]
    kiosk office cases start|resolve|close|reopen NUMBER [--note TEXT]
    kiosk office cases follow-up NUMBER --outcome satisfied|not_satisfied|unreachable
    kiosk office cases department NAME [--channel URL]   a department to assign to
    kiosk office cases report --month YYYY-MM     the monthly summary (--csv for CSV)
    kiosk office cases settings [--response KIND=MIN] [--urgent KIND=MIN]
                                [--followup KIND=HOURS] [--supervisor-after MIN]
                                                  the site's deadlines: shown, or changed

Each takes --db (as every `kiosk office` command), --site NAME (needed only when the office
has more than one site) and --json. The command line acts as the office's admin ("cli" in
the case's history).
"""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.common import Commands, emit, needs_subcommand, office_of, site_of


def _case_dict(case: Any, history: list[Any] | None = None) -> dict[str, Any]:
    from kiosk.office.cases.desk import case_data

    data = case_data(case)
    data.update(urgency=case.urgency, category=case.category, channel=case.channel,
                place=" ".join(p for p in (case.building, case.floor, case.unit,
                                           case.place_text) if p),
                department=case.department.name if case.department_id else "")  # fmt: skip
    if history is not None:
        data["description"] = case.description
        data["history"] = [
            {"at": h.at.isoformat(), "actor": h.actor, "action": h.action,
             "from": h.from_state, "to": h.to_state, "note": h.note}
            for h in history
        ]  # fmt: skip
    return data


def cmd_cases(args: argparse.Namespace) -> int:
    from kiosk.office.cases.desk import Actor, visible
    from kiosk.office.cases.escalation import overdue
    from kiosk.office.cases.models import Case
    from kiosk.office.cases.reports import report_csv

    store, office = office_of(args)
    parts = office.cases
    with store.db.connection_context():
        site = site_of(args)
        actor = Actor(site.id, "admin", "cli")
        action = args.cases_command
        if action == "list":
            query = Case.select().where(visible(actor))
            if args.state:
                query = query.where(Case.state == args.state)
            if args.kind:
                query = query.where(Case.kind == args.kind)
            if args.overdue:
                query = query.where(overdue(store.clock.now()))
            rows = [_case_dict(c) for c in query.order_by(Case.opened_at.desc()).limit(500)]
            emit(args, rows, lambda: "\n".join(
                f"{r['number']}\t{r['kind']}\t{r['state']}\t{r['place']}" for r in rows
            ) or "no cases")  # fmt: skip
        elif action == "show":
            case = parts.desk.get(actor, args.case)
            data = _case_dict(case, parts.desk.history(case))
            emit(args, data, lambda: "\n".join(
                [f"{data['number']} {data['kind']} {data['state']}", data["description"]]
                + [f"{h['at']}  {h['actor']}: {h['action']} {h['from']}→{h['to']} {h['note']}"
                   for h in data["history"]]))  # fmt: skip
        elif action == "department":
            department = parts.desk.add_department(site, args.name, args.channel)
            emit(args, {"department": department.name}, f"department {department.name} added")
        elif action == "settings":
            data = _settings(args, office, site)
            emit(args, data, lambda: _settings_text(data))
        elif action == "report":
            report = parts.reports.month(site, args.month, store.clock.now())
            if args.csv:
                print(report_csv(report), end="")
            else:
                emit(args, report.as_dict(), lambda: _report_text(report))
        else:
            case = parts.desk.act(
                actor, args.case, action.replace("-", "_"), note=args.note or "",
                department=getattr(args, "department", "") or "",
                assignee=getattr(args, "assignee", "") or "",
                outcome=getattr(args, "outcome", "") or "",
            )  # fmt: skip
            emit(args, _case_dict(case), f"{case.number}: {case.state}")
    return 0


def _settings(args: argparse.Namespace, office: Any, site: Any) -> dict[str, Any]:
    from kiosk.office.cases.site_settings import (
        load_deadlines,
        parse_kind_values,
        save_deadlines,
    )

    changes: dict[str, Any] = {}
    for option, name in (("response", "response_minutes"), ("urgent", "urgent_response_minutes"),
                         ("followup", "followup_hours")):  # fmt: skip
        if getattr(args, option):
            changes[name] = parse_kind_values(getattr(args, option), f"--{option}")
    if args.supervisor_after is not None:
        changes["supervisor_after_minutes"] = args.supervisor_after
    if not changes:
        return dict(load_deadlines(site).model_dump())
    return dict(save_deadlines(office.staff, office.store.feed, site, "cli", changes).model_dump())


def _settings_text(data: dict[str, Any]) -> str:
    lines = ["kind        response  urgent  follow-up"]
    for kind, minutes in data["response_minutes"].items():
        urgent, hours = data["urgent_response_minutes"][kind], data["followup_hours"][kind]
        lines.append(f"{kind:<11} {minutes:>5} min {urgent:>4} min {hours:>5} h")
    lines.append(f"supervisor told {data['supervisor_after_minutes']} min after the assignee")
    return "\n".join(lines)


def _report_text(report: Any) -> str:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f} %"

    def minutes(value: float | None) -> str:  # --json keeps the exact figure
        return "-" if value is None else f"{value:.0f}"

    return "\n".join([
        f"{report.site} {report.period}: {report.total} cases",
        "by kind: " + ", ".join(f"{k} {v}" for k, v in report.by_kind.items()),
        f"first response (min): median {minutes(report.first_response_minutes['median'])}, "
        f"p90 {minutes(report.first_response_minutes['p90'])}",
        f"resolution (min): median {minutes(report.resolution_minutes['median'])}, "
        f"p90 {minutes(report.resolution_minutes['p90'])}",
        f"followed up within 24 h: {pct(report.followup_rate)} "
        f"(repairs {pct(report.repair_followup_rate)}, standard 98 %)",
        f"reopened {report.reopened}, overdue {report.overdue}, open {len(report.still_open)}",
    ])  # fmt: skip


def register(commands: Commands) -> None:
    """Add `kiosk office cases ...` under the `kiosk office` group."""
    office_group = commands.existing_group("office")
    group = commands.add("cases", needs_subcommand, "the office's cases", office_group)
    subs = group.add_subparsers(dest="cases_command", required=True)

    def sub(name: str, help_text: str, *, case: bool = True) -> argparse.ArgumentParser:
        parser = commands.add(name, cmd_cases, help_text, subs)
        parser.add_argument("--db", help="postgresql://... or an SQLite path")
        parser.add_argument("--site", help="the site (needed when the office has several)")
        if case:
            parser.add_argument("case", help="the case's number or ref")
            parser.add_argument("--note", default="")
        return parser

    listing = sub("list", "the site's cases", case=False)
    listing.add_argument("--state")
    listing.add_argument("--kind")
    listing.add_argument("--overdue", action="store_true")
    sub("show", "one case and its history")
    assign = sub("assign", "assign a case to a department or a person")
    assign.add_argument("--department", default="")
    assign.add_argument("--assignee", default="", help="a staff user's name")
    for name in ("start", "resolve", "reopen", "close"):
        sub(name, f"{name} a case")
    follow = sub("follow-up", "record the reporter's answer (only once resolved)")
    follow.add_argument("--outcome", required=True,
                        choices=("satisfied", "not_satisfied", "unreachable"))  # fmt: skip
    department = sub("department", "add a department cases can be assigned to", case=False)
    department.add_argument("name")
    department.add_argument(
        "--channel", action="append", default=[], help="a URL told of its overdue cases"
    )
    report = sub("report", "the monthly summary", case=False)
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--csv", action="store_true", help="CSV instead of text or JSON")
    settings = sub("settings", "the site's deadlines (shown; changed with the options)", case=False)
    for option, what in (("response", "KIND=MINUTES to the first response"),
                         ("urgent", "KIND=MINUTES to the first response when urgent"),
                         ("followup", "KIND=HOURS from resolution to the follow-up")):  # fmt: skip
        settings.add_argument(f"--{option}", action="append", default=[], metavar="KIND=N",
                              help=what)  # fmt: skip
    settings.add_argument("--supervisor-after", type=int, metavar="MINUTES",
                          help="tell the supervisor this long after the assignee")  # fmt: skip
