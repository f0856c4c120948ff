"""The ordinance's workflows on the command line.

- ``registry new|add|list|calendar|verify``: the department registry (audits and reports span its cases)
- ``audit draw|show|finding|referral``: monthly audits (E)
- ``mute detect|record|withdraw|list``: mute and deactivation records (B.2)
- ``report quarterly``: the quarterly record for the Mayor and Council (B.2)
- ``due`` and ``clock done|receive|facts``: critical-incident clocks (C, D)
- ``nok consult|notify|offer|request-unredacted|warning|view|show``: next of kin (D.3, D.4)

Who is acting works as for the case commands: ``--user NAME`` (or
``BWC_REDACT_USER``), password from ``BWC_REDACT_PASSWORD`` or a prompt.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from app.commands.progress import progress_bar
from review import Case
from review.audits import ANSWERS, CHECKLIST
from review.clocks import STATUS_ORDER, ClockItem, compute, read_facts
from review.errors import CaseError
from review.mutes import KINDS
from review.registry import Registry, is_registry
from review.store import parse_time
from review.verify import verify_case
from review.workdays import WorkCalendar, read_holiday_file, utc, zone

from .case import USER_ENV, _new_password, _password, add_user_arguments


# ----------------------------------------------------------------- helpers
def _who(user: str | None) -> str:
    name = user or os.environ.get(USER_ENV)
    if not name:
        raise CaseError(f"Say who is acting: --user NAME (or set {USER_ENV}).")
    return name


@contextlib.contextmanager
def _signed_in(opener, folder: str | Path, user: str | None) -> Iterator:  # noqa: ANN001 - Case.open or Registry.open
    store = opener(folder)
    try:
        name = _who(user)
        store.sign_in(name, _password(name))
        yield store
    finally:
        store.close()


def _case(args: argparse.Namespace):  # noqa: ANN202
    return _signed_in(Case.open, args.dir, args.user)


def _registry(args: argparse.Namespace):  # noqa: ANN202
    return _signed_in(Registry.open, args.registry, args.user)


def _dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="CASE", help="the case folder")
    add_user_arguments(parser)


def _reg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registry", metavar="REGISTRY", help="the department registry folder")
    add_user_arguments(parser)


def _sub(parser: argparse.ArgumentParser, dest: str) -> argparse._SubParsersAction:
    return parser.add_subparsers(dest=dest, metavar="ACTION", required=True)


def _when_arg(parser: argparse.ArgumentParser, help_text: str = "when it happened (default: now)") -> None:
    parser.add_argument("--at", metavar="WHEN", help=f"{help_text}; ISO 8601 with time zone, e.g. 2026-11-04T09:30-07:00")


def _local(calendar: WorkCalendar, stamp: str | None) -> str:
    return calendar.local(utc(stamp)).strftime("%Y-%m-%d %H:%M %Z") if stamp else "-"


# ---------------------------------------------------------------- registry
def _registry_new(args: argparse.Namespace) -> int:
    admin = args.admin or args.user or os.environ.get(USER_ENV) or "admin"
    registry = Registry.create(args.registry, title=args.title, admin=admin, password=_new_password(admin),
                               timezone=args.timezone, users_from=args.users_from)
    info, calendar = registry.info(), registry.calendar()
    registry.close()
    print(f"Created the registry {info.title} in {info.path}")
    print(f"Administrator: {admin}; calendar: {calendar.describe()}")
    print(f"Public key fingerprint: {info.fingerprint}")
    return 0


def _registry_add(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        for folder in args.cases:
            entry = registry.register_case(folder)
            print(f"Registered {entry.title} ({entry.case_id}) at {entry.path}")
    return 0


def _registry_list(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        print(f"{registry.info().title}: {registry.calendar().describe()}")
        for entry in registry.registered_cases():
            state = "" if entry.path.is_dir() else "   (MISSING: register it again where it is now)"
            print(f"{entry.case_id}\t{entry.title}\t{entry.path}{state}")
    return 0


def _registry_calendar(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        added = removed = None
        if args.holidays:
            added, removed = read_holiday_file(args.holidays)
        calendar = registry.set_calendar(timezone=args.timezone, added=added, removed=removed)
        print(f"Calendar: {calendar.describe()}")
    return 0


def _registry_verify(args: argparse.Namespace) -> int:
    report = verify_case(args.registry, record=not args.no_record)
    for finding in report.findings:
        print(finding.line())
    registry = Registry.open(args.registry, readonly=True)
    try:
        problems = registry.check_files()
    finally:
        registry.close()
    for problem in problems:
        print(problem)
    print(report.verdict() if not problems else f"FAILED: {len(problems)} report or referral files do not match.")
    return 0 if report.ok and not problems else 1


# ------------------------------------------------------------------- audits
def _audit_draw(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        audit = registry.draw_audit(args.month, args.count, args.seed)
        print(audit.summary() + ".")
        for n, item in enumerate(audit.sample, start=1):
            print(f"{n}. case {item['case']} ({item.get('case_title', '')}) recording {item['recording']}: "
                  f"{item.get('officer') or '(officer not recorded)'}, recorded {_local(registry.calendar(), item['recorded_at'])}")
        print(f"Redraw it any time: bwc-redact audit show {args.registry} --audit {audit.id}")
    return 0


def _audit_show(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        if args.audit is None:
            for audit in registry.audits():
                material = sum(f.material for f in registry.findings(audit.id))
                print(f"{audit.summary()}; {len(registry.findings(audit.id))} findings, {material} material")
            return 0
        audit = registry.audit(args.audit)
        print(audit.summary() + f"; drawn by {audit.drawn_by} at {audit.drawn_at}.")
        findings = {(f.case_id, f.recording_id): f for f in registry.findings(audit.id)}
        for n, item in enumerate(audit.sample, start=1):
            finding = findings.get((item["case"], item["recording"]))
            state = "no finding yet" if finding is None else (
                ("MATERIAL NON-COMPLIANCE: " if finding.material else "")
                + ", ".join(f"{k}={v}" for k, v in finding.checklist.items()) + (f"; {finding.note}" if finding.note else ""))
            print(f"{n}. case {item['case']} recording {item['recording']} ({item.get('officer') or '-'}): {state}")
        problems = registry.check_audit(audit.id)
        print("Redrawn from the recorded seed: the same sample." if not problems else
              "\n".join(f"NOTE: {p}" for p in problems))
    return 0


def _audit_finding(args: argparse.Namespace) -> int:
    answers = {key: getattr(args, key) for key in CHECKLIST}
    with _registry(args) as registry:
        finding = registry.record_finding(args.audit, args.case, args.recording, answers, material=args.material,
                                          note=args.note or "")
        kind = "material non-compliance" if finding.material else "finding"
        print(f"Recorded {kind} {finding.id} for recording {finding.recording_id} of case {finding.case_id}.")
    return 0


def _audit_referral(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        referral = registry.refer(args.audit, args.output)
        print(f"Referral of {len(referral.findings)} material findings written to {referral.folder}")
        if referral.delivered_to:
            print(f"  copied to {referral.delivered_to}")
    return 0


# -------------------------------------------------------------------- mutes
def _mute_detect(args: argparse.Namespace) -> int:
    with _case(args) as case:
        with progress_bar("listening") as update:
            detection = case.detect_mutes(args.recording, min_seconds=args.min_seconds, progress=update)
        if not detection.candidates:
            print(f"No candidate mutes in recording {args.recording} (search {detection.id} recorded).")
            return 0
        print(f"Candidate mutes in recording {args.recording} (search {detection.id}); confirm each that is real:")
        for n, candidate in enumerate(detection.candidates, start=1):
            print(f"  {n}. {candidate.describe()}")
        print(f"  e.g. bwc-redact mute record {args.dir} --recording {args.recording} --candidate 1 "
              "--kind mute --no-reason-stated")
    return 0


def _mute_record(args: argparse.Namespace) -> int:
    if args.reason is None and not args.no_reason_stated:
        raise CaseError("Give the reason the officer stated on the recording (--reason TEXT), or --no-reason-stated.")
    with _case(args) as case:
        event = case.record_camera_event(
            args.recording, args.kind, start=args.start, end=args.end, stated_reason=args.reason,
            candidate=args.candidate, occurred_at=args.at, officer=args.officer, note=args.note or "")
        reason = f"reason stated: {event.stated_reason}" if event.stated_reason else "no reason stated"
        print(f"Recorded M{event.id}: {KINDS[event.kind]} in recording {event.recording_id} "
              f"({event.officer or 'officer not recorded'}), {reason}.")
    return 0


def _mute_withdraw(args: argparse.Namespace) -> int:
    with _case(args) as case:
        case.withdraw_camera_event(args.record, args.reason)
        print(f"Withdrew M{args.record}; it stays in the ledger and leaves the quarterly record.")
    return 0


def _mute_list(args: argparse.Namespace) -> int:
    with _case(args) as case:
        for e in case.camera_events(args.recording):
            where = "" if e.start_seconds is None else f" at {e.start_seconds:.2f}s" + (
                f"-{e.end_seconds:.2f}s" if e.end_seconds is not None else "")
            reason = e.stated_reason or "NO REASON STATED"
            gone = f"  [withdrawn: {e.withdrawn}]" if e.withdrawn else ""
            print(f"M{e.id}\trecording {e.recording_id}{where}\t{KINDS[e.kind]}\t{e.officer or '-'}\t{reason}"
                  f"\t{e.source}, {e.recorded_by}{gone}")
    return 0


# ------------------------------------------------------------------ reports
def _report_quarterly(args: argparse.Namespace) -> int:
    with _registry(args) as registry:
        report = registry.quarterly_report(args.quarter, args.output)
        print(f"Quarterly record {report.period}: {report.instances} instances, written to {report.folder}")
        for name in report.files:
            print(f"  {name}")
        if report.delivered_to:
            print(f"  copied to {report.delivered_to}")
    return 0


# -------------------------------------------------------------------- clocks
def _calendar(args: argparse.Namespace, base: WorkCalendar | None) -> WorkCalendar:
    calendar = base or WorkCalendar.default()
    if args.timezone:
        zone(args.timezone)
        calendar = WorkCalendar(args.timezone, calendar.added, calendar.removed)
    if args.holidays:
        added, removed = read_holiday_file(args.holidays)
        calendar = WorkCalendar(calendar.timezone, {**calendar.added, **added},
                                tuple(sorted({*calendar.removed, *removed})))
    return calendar


def _gather_due(args: argparse.Namespace) -> list[tuple[WorkCalendar, list[ClockItem]]]:
    name = _who(args.user)
    password = _password(name)
    now = utc(parse_time(args.at_time, "The time given with --at")) if args.at_time else datetime.now(UTC)
    groups = []
    for folder in args.folders:
        probe = Case.open(folder, readonly=True)
        try:
            registry_folder = is_registry(probe.conn)
        finally:
            probe.close()
        if registry_folder:
            registry = Registry.open(folder)
            try:
                registry.sign_in(name, password)
                calendar = _calendar(args, registry.calendar())
                for _registered, case in registry.each_case():
                    groups.append((calendar, compute(read_facts(case.conn, case.info()), now, calendar)))
            finally:
                registry.close()
        else:
            case = Case.open(folder)
            try:
                case.sign_in(name, password)
                calendar = _calendar(args, None)
                groups.append((calendar, case.clocks(now, calendar)))
            finally:
                case.close()
    return groups


def _due(args: argparse.Namespace) -> int:
    groups = [(c, items) for c, items in _gather_due(args) if items]
    if args.json:
        print(json.dumps([i.to_json() for _, items in groups for i in items], indent=1))
        return 0
    if not groups:
        print("No critical-incident case with an incident time among these folders.")
        return 0
    for calendar, items in groups:
        print(f"{items[0].case_title} ({items[0].case_id}); {calendar.describe()}")
        shown = [i for i in items if not args.open or i.status not in ("done", "n/a", "closed")]
        for item in sorted(shown, key=lambda i: (STATUS_ORDER.get(i.status, 9), i.due or "9")):
            done = ""
            if item.status == "done":
                done = f"  done {_local(calendar, item.done_at)} by {item.done_by}" + (" (LATE)" if item.late else "")
            note = f"  [{item.note}]" if item.note else ""
            print(f"  {item.status.upper():<12}{item.key:<6}{item.section:<9}due {item.due_text}{done}")
            print(f"  {'':<12}{'':<6}{'':<9}{item.title}{note}")
    return 0


def _clock_done(args: argparse.Namespace) -> int:
    with _case(args) as case:
        item = case.mark_done(args.item, args.at, args.note or "")
        print(f"{item.key} done {item.done_at} by {item.done_by}" + (" (after its deadline)" if item.late else "") + ".")
    return 0


def _clock_receive(args: argparse.Namespace) -> int:
    with _case(args) as case:
        item = case.receive(args.kind, args.received_at, args.reference or "", args.note or "")
        print(f"{item.key}: {item.title}; due {item.due_text}.")
    return 0


def _clock_facts(args: argparse.Namespace) -> int:
    with _case(args) as case:
        case.set_incident_facts(args.death == "yes", args.note or "")
        print("Recorded: the incident " + ("resulted in a death; D.4 applies." if args.death == "yes"
                                           else "did not result in a death; D.4 does not apply."))
    return 0


# ----------------------------------------------------------------------- nok
def _nok_consult(args: argparse.Namespace) -> int:
    with _case(args) as case:
        record = case.nok_consult(args.organisation, contact=args.contact or "", occurred_at=args.at,
                                  note=args.note or "")
        print(f"Recorded: {record.describe()} ({record.occurred_at}).")
    return 0


def _nok_notify(args: argparse.Namespace) -> int:
    with _case(args) as case:
        record = case.nok_notify(args.person, args.release_date, method=args.method or "",
                                 relationship=args.relationship or "", occurred_at=args.at, note=args.note or "")
        print(f"Recorded: {record.describe()}.")
    return 0


def _nok_offer(args: argparse.Namespace) -> int:
    with _case(args) as case:
        print(f"Recorded: {case.nok_offer(args.person, args.response, occurred_at=args.at, note=args.note or '').describe()}.")
    return 0


def _nok_request(args: argparse.Namespace) -> int:
    with _case(args) as case:
        record = case.nok_request_unredacted(args.recording, args.requested_by, relationship=args.relationship or "",
                                             occurred_at=args.at, note=args.note or "")
        print(f"Recorded: {record.describe()}. A preview host may now show it unredacted.")
    return 0


def _nok_warning(args: argparse.Namespace) -> int:
    with _case(args) as case:
        warning = case.add_content_warning(args.recording, args.start_frame, args.end_frame, args.label)
        print(f"Content warning {warning.id} at frame {warning.start_frame}: {warning.label}")
    return 0


def _source(case: Case, args: argparse.Namespace):  # noqa: ANN202
    sources = case.preview_sources()
    if args.unredacted:
        if args.recording is None:
            raise CaseError("Say which recording: --recording ID with --unredacted.")
        match = [s for s in sources if s.kind == "unredacted" and s.recording_id == args.recording]
        if not match:
            raise CaseError(f"Recording {args.recording} may only be shown unredacted after the family's request "
                            "under D.3 is recorded (bwc-redact nok request-unredacted).")
        return match[0]
    match = [s for s in sources if s.kind == "release" and (s.export_id == args.export or
                                                          (args.export is None and s.recording_id == args.recording))]
    if not match:
        raise CaseError("There is no approved release package to show" + (
            f" with id {args.export}" if args.export else "") + "; see `bwc-redact nok show`.")
    return match[-1]


def _nok_view(args: argparse.Namespace) -> int:
    if bool(args.held_from) != bool(args.held_to):
        raise CaseError("A viewing held without the app needs both --held-from and --held-to.")
    if not args.held_from:
        from .gui import display_problem

        problem = display_problem()
        if problem:
            raise CaseError("The viewing window needs a screen: " + problem.split(". ", 1)[0] + ".")
    with _case(args) as case:
        source = _source(case, args)
        if args.held_from:
            viewing = case.record_viewing(source, args.attendee, args.held_from, args.held_to, args.note or "")
            print(f"Recorded viewing {viewing.id} of {source.label}: {viewing.started_at} to {viewing.ended_at}.")
            return 0
        from ..workflows.preview import run_preview

        return run_preview(case, source, args.attendee, args.note or "")


def _nok_show(args: argparse.Namespace) -> int:
    with _case(args) as case:
        for record in case.nok_records():
            print(f"{record.occurred_at}\t{record.kind}\t{record.describe()}\t(recorded by {record.recorded_by})")
        for viewing in case.viewings():
            end = viewing.ended_at or "NOT ENDED"
            print(f"viewing {viewing.id}\t{viewing.shown} of recording {viewing.recording_id}\t{viewing.started_at} to "
                  f"{end}\thost {viewing.host}\tattended by {', '.join(viewing.attendees)}")
        print("May be shown:")
        for source in case.preview_sources():
            print(f"  {source.label}" + (f"  (--export {source.export_id})" if source.export_id else
                                         f"  (--unredacted --recording {source.recording_id})"))
        for rec in case.recordings():
            for warning in case.content_warnings(rec.id):
                end = f"-{warning.end_frame}" if warning.end_frame is not None else ""
                print(f"  warning: recording {rec.id} frame {warning.start_frame}{end}: {warning.label}")
    return 0


# ------------------------------------------------------------------ parsers
def register(subparsers: argparse._SubParsersAction) -> None:
    _register_registry(subparsers)
    _register_audit(subparsers)
    _register_mute(subparsers)
    report = subparsers.add_parser("report", help="the quarterly record for the Mayor and Council (B.2)")
    rsub = _sub(report, "report_command")
    quarterly = rsub.add_parser("quarterly", help="CSV and HTML of every mute, deactivation and failure to activate")
    _reg(quarterly)
    quarterly.add_argument("--quarter", required=True, metavar="YYYYQN", help="e.g. 2026Q4")
    quarterly.add_argument("-o", "--output", metavar="OUT_DIR", help="also copy the report to this new folder")
    quarterly.set_defaults(handler=_report_quarterly)
    _register_clocks(subparsers)
    _register_nok(subparsers)


def _register_registry(subparsers: argparse._SubParsersAction) -> None:
    registry = subparsers.add_parser("registry", help="the department registry that audits and reports span")
    sub = _sub(registry, "registry_command")
    new = sub.add_parser("new", help="create a registry folder and its first administrator")
    _reg(new)
    new.add_argument("--title", required=True)
    new.add_argument("--timezone", default=os.environ.get("BWC_REDACT_TIMEZONE") or "America/Denver",
                     help="the department's time zone (default America/Denver)")
    new.add_argument("--admin", metavar="NAME")
    new.add_argument("--users-from", metavar="CASE_OR_REGISTRY", help="copy the user accounts of another folder")
    new.set_defaults(handler=_registry_new)
    add = sub.add_parser("add", help="register case folders (again, if one moved)")
    _reg(add)
    add.add_argument("cases", nargs="+", metavar="CASE")
    add.set_defaults(handler=_registry_add)
    lst = sub.add_parser("list", help="the registered cases")
    _reg(lst)
    lst.set_defaults(handler=_registry_list)
    cal = sub.add_parser("calendar", help="set the time zone and the holiday adjustments")
    _reg(cal)
    cal.add_argument("--timezone")
    cal.add_argument("--holidays", metavar="FILE",
                     help="lines 'YYYY-MM-DD name' (a closure) or 'not YYYY-MM-DD' (a default holiday worked)")
    cal.set_defaults(handler=_registry_calendar)
    ver = sub.add_parser("verify", help="verify the registry and its report and referral files")
    ver.add_argument("registry", metavar="REGISTRY")
    ver.add_argument("--no-record", action="store_true", help="do not record this check in the ledger")
    ver.set_defaults(handler=_registry_verify)


def _register_audit(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="monthly audits of randomly drawn recordings (E)")
    sub = _sub(audit, "audit_command")
    draw = sub.add_parser("draw", help="draw the month's sample (seeded, recorded, reproducible)")
    _reg(draw)
    draw.add_argument("--month", required=True, metavar="YYYY-MM")
    draw.add_argument("--count", type=int, default=5, help="how many (at least 5; default 5)")
    draw.add_argument("--seed", help="a seed to use (default: 128 random bits, recorded)")
    draw.set_defaults(handler=_audit_draw)
    show = sub.add_parser("show", help="list audits, or one audit's sample, findings and redraw check")
    _reg(show)
    show.add_argument("--audit", type=int, metavar="N")
    show.set_defaults(handler=_audit_show)
    finding = sub.add_parser("finding", help="the checklist for one sampled recording")
    _reg(finding)
    finding.add_argument("--audit", type=int, required=True, metavar="N")
    finding.add_argument("--case", required=True, metavar="CASE_ID")
    finding.add_argument("--recording", type=int, required=True, metavar="ID")
    for key, text in CHECKLIST.items():
        finding.add_argument(f"--{key.replace('_', '-')}", dest=key, required=True, choices=ANSWERS, help=text)
    finding.add_argument("--material", action="store_true", help="material non-compliance: to be referred")
    finding.add_argument("--note")
    finding.set_defaults(handler=_audit_finding)
    referral = sub.add_parser("referral", help="refer the audit's material findings to the ordinance's recipients")
    _reg(referral)
    referral.add_argument("--audit", type=int, required=True, metavar="N")
    referral.add_argument("-o", "--output", metavar="OUT_DIR", help="also copy the referral to this new folder")
    referral.set_defaults(handler=_audit_referral)


def _register_mute(subparsers: argparse._SubParsersAction) -> None:
    mute = subparsers.add_parser("mute", help="mute and deactivation records (B.2)")
    sub = _sub(mute, "mute_command")
    detect = sub.add_parser("detect", help="find candidate mutes in a recording's audio")
    _dir(detect)
    detect.add_argument("--recording", type=int, required=True, metavar="ID")
    detect.add_argument("--min-seconds", type=float, default=0.5, help="shortest digital silence reported")
    detect.set_defaults(handler=_mute_detect)
    record = sub.add_parser("record", help="record a mute, deactivation or failure to activate")
    _dir(record)
    record.add_argument("--recording", type=int, required=True, metavar="ID")
    record.add_argument("--kind", required=True, choices=list(KINDS))
    record.add_argument("--candidate", type=int, metavar="N", help="confirm candidate N of the latest `mute detect`")
    record.add_argument("--start", type=float, metavar="SECONDS", help="from the start of the recording")
    record.add_argument("--end", type=float, metavar="SECONDS")
    record.add_argument("--reason", help="the reason the officer stated on the recording")
    record.add_argument("--no-reason-stated", action="store_true", help="the officer stated no reason")
    record.add_argument("--officer", help="default: the recording's officer")
    _when_arg(record, "when it happened (default: recording time + start)")
    record.add_argument("--note")
    record.set_defaults(handler=_mute_record)
    withdraw = sub.add_parser("withdraw", help="withdraw a mistaken record (it stays in the ledger)")
    _dir(withdraw)
    withdraw.add_argument("--record", type=lambda s: int(s.lstrip("Mm")), required=True, metavar="M<N>")
    withdraw.add_argument("--reason", required=True)
    withdraw.set_defaults(handler=_mute_withdraw)
    lst = sub.add_parser("list", help="the case's mute and deactivation records")
    _dir(lst)
    lst.add_argument("--recording", type=int, metavar="ID")
    lst.set_defaults(handler=_mute_list)


def _register_clocks(subparsers: argparse._SubParsersAction) -> None:
    due = subparsers.add_parser("due", help="critical-incident deadlines: due, overdue, done (C, D)",
                                description="List the clock items of critical-incident cases: each case folder "
                                            "given, and every registered case of each registry given.")
    due.add_argument("folders", nargs="+", metavar="CASE_OR_REGISTRY")
    add_user_arguments(due)
    due.add_argument("--open", action="store_true", help="only what is not done yet")
    due.add_argument("--json", action="store_true")
    due.add_argument("--at", dest="at_time", metavar="WHEN", help="as it stands at this time (default: now)")
    due.add_argument("--timezone", help="the department's time zone (default: the registry's, or America/Denver)")
    due.add_argument("--holidays", metavar="FILE", help="extra closures / holidays worked (see registry calendar)")
    due.set_defaults(handler=_due)
    clock = subparsers.add_parser("clock", help="mark critical-incident deadlines done, record GRAMA requests and claims")
    sub = _sub(clock, "clock_command")
    done = sub.add_parser("done", help="mark C1, C2, D1 or a C4-N/C5-N notification done")
    _dir(done)
    done.add_argument("--item", required=True)
    _when_arg(done, "when it was done (default: now)")
    done.add_argument("--note")
    done.set_defaults(handler=_clock_done)
    receive = sub.add_parser("receive", help="a GRAMA request (C.4) or notice of claim (C.5) was received")
    _dir(receive)
    receive.add_argument("--kind", required=True, choices=["grama", "claim"])
    receive.add_argument("--received-at", required=True, metavar="WHEN")
    receive.add_argument("--reference", help="request or claim number")
    receive.add_argument("--note")
    receive.set_defaults(handler=_clock_receive)
    facts = sub.add_parser("facts", help="whether the incident resulted in a death (D.4 applies only then)")
    _dir(facts)
    facts.add_argument("--death", required=True, choices=["yes", "no"])
    facts.add_argument("--note")
    facts.set_defaults(handler=_clock_facts)


def _register_nok(subparsers: argparse._SubParsersAction) -> None:
    nok = subparsers.add_parser("nok", help="next-of-kin steps and viewings (D.3, D.4)")
    sub = _sub(nok, "nok_command")
    consult = sub.add_parser("consult", help="the trauma and grief organisation consulted (D.4a)")
    _dir(consult)
    consult.add_argument("--organisation", required=True)
    consult.add_argument("--contact")
    _when_arg(consult)
    consult.add_argument("--note")
    consult.set_defaults(handler=_nok_consult)
    notify = sub.add_parser("notify", help="the family notified of the release and its date (D.4b)")
    _dir(notify)
    notify.add_argument("--person", required=True)
    notify.add_argument("--relationship")
    notify.add_argument("--release-date", required=True, metavar="YYYY-MM-DD")
    notify.add_argument("--method", help="in person, phone, letter ...")
    _when_arg(notify)
    notify.add_argument("--note")
    notify.set_defaults(handler=_nok_notify)
    offer = sub.add_parser("offer", help="a viewing offered before release, and the answer (D.4c)")
    _dir(offer)
    offer.add_argument("--person", required=True)
    offer.add_argument("--response", required=True, choices=["accepted", "declined", "pending"])
    _when_arg(offer)
    offer.add_argument("--note")
    offer.set_defaults(handler=_nok_offer)
    request = sub.add_parser("request-unredacted", help="the family asked to see the unredacted recording (D.3)")
    _dir(request)
    request.add_argument("--recording", type=int, required=True, metavar="ID")
    request.add_argument("--requested-by", required=True, metavar="NAME")
    request.add_argument("--relationship")
    _when_arg(request)
    request.add_argument("--note")
    request.set_defaults(handler=_nok_request)
    warning = sub.add_parser("warning", help="a content-warning marker the host can skip to")
    _dir(warning)
    warning.add_argument("--recording", type=int, required=True, metavar="ID")
    warning.add_argument("--start-frame", type=int, required=True, metavar="N")
    warning.add_argument("--end-frame", type=int, metavar="N")
    warning.add_argument("--label", required=True)
    warning.set_defaults(handler=_nok_warning)
    view = sub.add_parser("view", help="hold a viewing in the full-screen preview (or record one held elsewhere)")
    _dir(view)
    view.add_argument("--export", metavar="ID", help="the approved release package to show")
    view.add_argument("--recording", type=int, metavar="ID")
    view.add_argument("--unredacted", action="store_true", help="show the original (needs a recorded D.3 request)")
    view.add_argument("--attendee", action="append", required=True, metavar="NAME", help="repeat for each person")
    view.add_argument("--held-from", metavar="WHEN", help="record a viewing held without the app: its start")
    view.add_argument("--held-to", metavar="WHEN", help="... and its end")
    view.add_argument("--note")
    view.set_defaults(handler=_nok_view)
    show = sub.add_parser("show", help="next-of-kin records, viewings, what may be shown, content warnings")
    _dir(show)
    show.set_defaults(handler=_nok_show)
