"""Case commands: case new/show/export, ingest, verify, user, plan, decide, segment,
approve, reasons, ledger.

Who is acting: ``--user NAME`` (or ``BWC_REDACT_USER``); the password comes from
``BWC_REDACT_PASSWORD`` or, at a terminal, a prompt. A new password (first
administrator, ``user add``, ``user passwd``) comes from
``BWC_REDACT_NEW_PASSWORD`` or a prompt asked twice.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from app.commands.progress import progress_bar
from redaction.plan import Plan, Segment
from review import Case
from review.auth import ROLE_TITLES, Role
from review.errors import CaseError
from review.reasons import load_reasons
from review.verify import verify_case

USER_ENV = "BWC_REDACT_USER"
PASSWORD_ENV = "BWC_REDACT_PASSWORD"
NEW_PASSWORD_ENV = "BWC_REDACT_NEW_PASSWORD"


# ----------------------------------------------------------------- helpers
def add_user_arguments(parser: argparse.ArgumentParser) -> None:
    """``--user``: other command groups that act on a case (``export --recording``) call this."""
    parser.add_argument("--user", metavar="NAME", help=f"who is acting (default: ${USER_ENV}); "
                        f"password from ${PASSWORD_ENV} or a prompt")


def _interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _password(name: str) -> str:
    value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    if not _interactive():
        raise CaseError(f"No password for {name}: set {PASSWORD_ENV} or run at a terminal.")
    return getpass.getpass(f"Password for {name}: ")


def _new_password(name: str) -> str:
    value = os.environ.get(NEW_PASSWORD_ENV)
    if value is not None:
        return value
    if not _interactive():
        raise CaseError(f"No new password for {name}: set {NEW_PASSWORD_ENV} or run at a terminal.")
    first = getpass.getpass(f"New password for {name}: ")
    if getpass.getpass("Once more: ") != first:
        raise CaseError("The two passwords differ; nothing was changed.")
    return first


@contextlib.contextmanager
def signed_in(case_dir: str | Path, user: str | None) -> Iterator[Case]:
    """Open the case and sign in as ``user`` (or $BWC_REDACT_USER)."""
    case = Case.open(case_dir)
    try:
        name = user or os.environ.get(USER_ENV)
        if not name:
            raise CaseError(f"Say who is acting: --user NAME (or set {USER_ENV}).")
        case.sign_in(name, _password(name))
        yield case
    finally:
        case.close()


def _case_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", metavar="DIR", help="the case folder")


def _recording_arg(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--recording", type=int, required=required, metavar="ID", help="recording number in the case")


# ---------------------------------------------------------------- handlers
def _case_new(args: argparse.Namespace) -> int:
    admin = args.admin or args.user or os.environ.get(USER_ENV) or "admin"
    case = Case.create(
        args.dir, title=args.title, admin=admin, password=_new_password(admin), display_name=args.display_name or "",
        incident=args.incident, incident_time=args.incident_time, users_from=args.users_from,
    )
    info = case.info()
    case.close()
    print(f"Created case {info.case_id} ({info.title}) in {info.path}")
    print(f"Administrator: {admin}")
    print(f"Public key fingerprint: {info.fingerprint}")
    print("Write the fingerprint down outside the case (it anchors verification: verify --expect-key).")
    return 0


def _case_show(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        info = case.info()
        count, head = case.head()
        print(f"Case {info.case_id}: {info.title}")
        if info.incident:
            print(f"Incident: {info.incident}" + (f" at {info.incident_time}" if info.incident_time else ""))
        print(f"Created {info.created_at}; ledger {count} entries, head {head}")
        print(f"Public key fingerprint: {info.fingerprint}")
        for rec in case.recordings():
            plan = case.plan(rec.id) if rec.media or _has_tracks(case, rec.id) else None
            state = ""
            if plan is not None:
                undecided = len(plan.undecided())
                state = f"; {len(plan.tracks)} tracks ({undecided} undecided), {len(plan.segments)} segments"
            print(f"  recording {rec.id}: {rec.original_name} sha256 {rec.sha256[:16]}... {rec.size} bytes{state}")
        for export in case.exports():
            print(f"  export {export.id} of recording {export.recording_id}: release {export.release_sha256[:16]}...")
    return 0


def _has_tracks(case: Case, recording_id: int) -> bool:
    return case.conn.execute("SELECT 1 FROM detection_runs WHERE recording_id = ?", (recording_id,)).fetchone() is not None


def _ingest(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        for video in args.videos:
            with progress_bar(Path(video).name, unit="B") as update:
                result = case.ingest(video, officer=args.officer, camera=args.camera, recorded_at=args.recorded_at,
                                     progress=update)
            rec = result.recording
            if result.duplicate:
                print(f"{video}: already in the case as recording {rec.id} (same SHA-256); not copied again")
            else:
                print(f"{video}: recording {rec.id}, sha256 {rec.sha256}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    with progress_bar("verify", unit="B") as update:
        report = verify_case(args.dir, record=not args.no_record, expect_key=args.expect_key,
                             expect_head=_head_arg(args.expect_head), progress=update)
    for finding in report.findings:
        if finding.level == "FAIL" or not args.quiet:
            print(finding.line())
    print(report.verdict())
    return 0 if report.ok else 1


def _head_arg(text: str | None) -> tuple[int, str] | None:
    if not text:
        return None
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CaseError(f"--expect-head takes ENTRY:HASH as printed by verify, not {text!r}.")
    return int(seq), digest


def _user_add(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        user = case.add_user(args.name, args.role, _new_password(args.name), args.display_name or "")
        print(f"Added {user.name} as {user.title}.")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        case.require("case.read", "list users")
        for user in case.users():
            state = "" if user.active else " (disabled)"
            print(f"{user.name}\t{user.role.value}\t{user.display_name}{state}")
    return 0


def _user_update(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        if args.action == "disable":
            user = case.update_user(args.name, active=False)
        elif args.action == "enable":
            user = case.update_user(args.name, active=True)
        else:
            user = case.update_user(args.name, role=args.role)
        print(f"{user.name}: {user.title}{'' if user.active else ', disabled'}.")
    return 0


def _user_passwd(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        own = case.user is not None and case.user.name == args.name
        case.set_password(args.name, _new_password(args.name), _password(args.name) if own else None)
        print(f"Password of {args.name} changed.")
    return 0


def _plan_import(args: argparse.Namespace) -> int:
    plan = Plan.load(args.plan)
    with signed_in(args.dir, args.user) as case:
        digest = case.record_detection(args.recording, plan, replace=args.replace)
        print(f"Recorded {len(plan.tracks)} tracks and {len(plan.segments)} segments; plan {digest}")
    return 0


def _plan_show(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        plan = case.plan(args.recording)
        digest = case.plan_hash(args.recording)
        approved = [a for a in case.approvals(args.recording) if a.plan_hash == digest]
    if args.output:
        plan.save(args.output)
    for track in plan.tracks:
        state = track.decision or "UNDECIDED"
        minor = " possible-minor" if track.possible_minor else ""
        print(f"track {track.id}\t{track.kind}\t{track.first_frame}-{track.last_frame}\t{state}\t{track.reason or ''}{minor}")
    for segment in plan.segments:
        print(f"segment {segment.id}\t{segment.start}-{segment.end}\t{segment.video or ''} {segment.audio or ''}\t{segment.reason}")
    print(f"plan {digest}: {'approved by ' + approved[-1].approver if approved else 'not approved'}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        for track in args.track:
            case.decide(args.recording, track, args.decision, args.reason, args.note or "")
    print(f"{', '.join(args.track)}: {args.decision}")
    return 0


def _segment_add(args: argparse.Namespace) -> int:
    if not args.blackout and not args.audio:
        raise CaseError("A segment hides the picture (--blackout), the sound (--audio mute|tone), or both.")
    segment = Segment(args.id, args.start, args.end, "blackout" if args.blackout else None, args.audio,
                      args.reason, args.note or "")
    with signed_in(args.dir, args.user) as case:
        changed = case.save_segment(args.recording, segment)
    print(f"segment {args.id}: {'saved' if changed else 'unchanged'}")
    return 0


def _segment_delete(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        case.delete_segment(args.recording, args.id)
    print(f"segment {args.id}: deleted")
    return 0


def _approve(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        approval = case.approve(args.recording, args.plan_hash, args.note or "")
    print(f"Approved plan {approval.plan_hash} of recording {approval.recording_id} as {approval.approver}.")
    return 0


def export_case_recording(args: argparse.Namespace) -> int:
    """``bwc-redact export DIR --recording ID -o OUT_DIR``: the release package of a
    case recording. Called by the engine's ``export`` command when ``--recording`` is given."""
    case_dir = next(getattr(args, n) for n in ("dir", "case", "input") if getattr(args, n, None))
    out = next((getattr(args, n) for n in ("output", "out", "out_dir") if getattr(args, n, None)), None)
    recording = str(args.recording).strip()
    if not recording.isdigit():
        raise CaseError(f"--recording takes a recording number (see `bwc-redact case show`), not {args.recording!r}.")
    with signed_in(case_dir, getattr(args, "user", None)) as case, progress_bar("export") as update:
        record = case.export(int(recording), out, progress=update)
    print(f"Exported recording {record.recording_id} as {record.id}")
    print(f"  release sha256 {record.release_sha256}")
    print(f"  plan sha256    {record.plan_hash}")
    print(f"  in the case:   {record.folder}")
    if record.delivered_to:
        print(f"  delivered to:  {record.delivered_to}")
    return 0


def detect_case_recording(args: argparse.Namespace) -> int:
    """``bwc-redact detect DIR --recording ID``: find the faces in a case recording and record
    them in the case (ledger entry with engine and model versions), as the window does: every
    track starts undecided. Called by the engine's ``detect`` command when ``--recording`` is given."""
    from app.detection import detection_plan

    recording = str(args.recording).strip()
    if not recording.isdigit():
        raise CaseError(f"--recording takes a recording number (see `bwc-redact case show`), not {args.recording!r}.")
    with signed_in(args.input, getattr(args, "user", None)) as case:
        rec = case.recording(int(recording))
        case.require("plan.edit", f"detect faces in recording {rec.id}")
        with progress_bar("detect") as update:
            plan = detection_plan(rec.path, progress=update, sha256=rec.sha256)
        digest = case.record_detection(rec.id, plan, replace=args.replace)
    minors = sum(1 for t in plan.tracks if t.possible_minor)
    print(f"Recorded {len(plan.tracks)} face tracks ({minors} possible minors) for recording {rec.id}; "
          f"every one is undecided until reviewed.")
    print(f"  plan sha256 {digest}")
    return 0


def _reasons(args: argparse.Namespace) -> int:
    table = load_reasons()
    print(f"Reason codes, table version {table.version}")
    for reason in table.offered():
        print(f"{reason.code}\t{reason.use}\t{reason.label}" + (f"\t{reason.citation}" if reason.citation else ""))
    return 0


def _ledger(args: argparse.Namespace) -> int:
    with signed_in(args.dir, args.user) as case:
        entries = case.ledger_entries(action=args.action)
    for entry in entries[-args.tail:] if args.tail else entries:
        if args.json:
            print(entry.line(), end="")
        else:
            print(f"{entry.seq}\t{entry.time}\t{entry.actor} ({entry.role})\t{entry.action}\t"
                  f"{json.dumps(entry.payload, ensure_ascii=False)[:160]}")
    return 0


# ---------------------------------------------------------------- parsers
def register(subparsers: argparse._SubParsersAction) -> None:
    roles = ", ".join(f"{r.value} ({ROLE_TITLES[r]})" for r in Role)

    case = subparsers.add_parser("case", help="create and inspect cases")
    case_sub = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)
    new = case_sub.add_parser("new", help="create a case folder with its key pair and first administrator")
    _case_arg(new)
    new.add_argument("--title", required=True)
    new.add_argument("--incident", choices=["critical"], help="an officer-involved critical incident")
    new.add_argument("--incident-time", metavar="WHEN", help="ISO 8601 with time zone, e.g. 2026-11-03T14:05-07:00")
    new.add_argument("--admin", metavar="NAME", help="first administrator's user name (default: --user or 'admin')")
    new.add_argument("--display-name", help="the administrator's full name")
    new.add_argument("--users-from", metavar="CASE", help="copy the user accounts of another case")
    add_user_arguments(new)
    new.set_defaults(handler=_case_new)
    show = case_sub.add_parser("show", help="summary of a case")
    _case_arg(show)
    add_user_arguments(show)
    show.set_defaults(handler=_case_show)
    cexport = case_sub.add_parser("export", help="release package of a recording (same as export DIR --recording)")
    _case_arg(cexport)
    _recording_arg(cexport)
    cexport.add_argument("-o", "--output", metavar="OUT_DIR", help="also copy the package to this new folder")
    add_user_arguments(cexport)
    cexport.set_defaults(handler=export_case_recording)

    ingest = subparsers.add_parser("ingest", help="copy recordings into a case as read-only evidence")
    _case_arg(ingest)
    ingest.add_argument("videos", nargs="+", metavar="VIDEO")
    ingest.add_argument("--officer", help="officer who wore the camera")
    ingest.add_argument("--camera", metavar="ID", help="camera id or serial")
    ingest.add_argument("--recorded-at", metavar="WHEN", help="ISO 8601 with time zone")
    add_user_arguments(ingest)
    ingest.set_defaults(handler=_ingest)

    verify = subparsers.add_parser("verify", help="check originals, releases, the ledger and its signatures")
    _case_arg(verify)
    verify.add_argument("--no-record", action="store_true", help="read only: do not add this run to the ledger")
    verify.add_argument("--expect-key", metavar="FINGERPRINT", help="the public key fingerprint you wrote down")
    verify.add_argument("--expect-head", metavar="ENTRY:HASH",
                        help="a head printed by an earlier verify (or a release manifest), kept outside the case")
    verify.add_argument("--quiet", action="store_true", help="print only problems and the verdict")
    verify.set_defaults(handler=_verify)

    user = subparsers.add_parser("user", help="manage the user accounts of a case")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="add an account", description=f"Roles: {roles}.")
    _case_arg(add)
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name")
    add_user_arguments(add)
    add.set_defaults(handler=_user_add)
    listing = user_sub.add_parser("list", help="list accounts")
    _case_arg(listing)
    add_user_arguments(listing)
    listing.set_defaults(handler=_user_list)
    for action, text in (("disable", "disable an account"), ("enable", "enable an account")):
        p = user_sub.add_parser(action, help=text)
        _case_arg(p)
        p.add_argument("name")
        add_user_arguments(p)
        p.set_defaults(handler=_user_update, action=action)
    role = user_sub.add_parser("role", help="change an account's role")
    _case_arg(role)
    role.add_argument("name")
    role.add_argument("role", choices=[r.value for r in Role])
    add_user_arguments(role)
    role.set_defaults(handler=_user_update, action="role")
    passwd = user_sub.add_parser("passwd", help="set a password (your own, or anyone's as administrator)")
    _case_arg(passwd)
    passwd.add_argument("name")
    add_user_arguments(passwd)
    passwd.set_defaults(handler=_user_passwd)

    plan = subparsers.add_parser("plan", help="a recording's redaction plan in the case")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="ACTION", required=True)
    imp = plan_sub.add_parser("import", help="record a detection run from a tracks.json")
    _case_arg(imp)
    _recording_arg(imp)
    imp.add_argument("plan", metavar="TRACKS_JSON")
    imp.add_argument("--replace", action="store_true", help="discard the current tracks and segments first")
    add_user_arguments(imp)
    imp.set_defaults(handler=_plan_import)
    show_plan = plan_sub.add_parser("show", help="list tracks, segments, decisions and the plan hash")
    _case_arg(show_plan)
    _recording_arg(show_plan)
    show_plan.add_argument("-o", "--output", metavar="TRACKS_JSON", help="also write the plan as tracks.json")
    add_user_arguments(show_plan)
    show_plan.set_defaults(handler=_plan_show)

    decide = subparsers.add_parser("decide", help="redact or release tracks, with a reason code")
    _case_arg(decide)
    _recording_arg(decide)
    decide.add_argument("--track", action="append", required=True, metavar="ID", help="repeat for several")
    which = decide.add_mutually_exclusive_group(required=True)
    which.add_argument("--redact", dest="decision", action="store_const", const="redact")
    which.add_argument("--release", dest="decision", action="store_const", const="release")
    decide.add_argument("--reason", metavar="CODE", help="reason code (bwc-redact reasons)")
    decide.add_argument("--note", help="free text added to the code, never instead of it")
    add_user_arguments(decide)
    decide.set_defaults(handler=_decide)

    segment = subparsers.add_parser("segment", help="black out or mute a stretch of a recording")
    seg_sub = segment.add_subparsers(dest="segment_command", metavar="ACTION", required=True)
    sadd = seg_sub.add_parser("add", help="create or change a segment")
    _case_arg(sadd)
    _recording_arg(sadd)
    sadd.add_argument("--id", required=True)
    sadd.add_argument("--start", type=int, required=True, metavar="FRAME")
    sadd.add_argument("--end", type=int, required=True, metavar="FRAME", help="first frame after the segment")
    sadd.add_argument("--blackout", action="store_true", help="black out the whole picture")
    sadd.add_argument("--audio", choices=["mute", "tone"])
    sadd.add_argument("--reason", required=True, metavar="CODE")
    sadd.add_argument("--note")
    add_user_arguments(sadd)
    sadd.set_defaults(handler=_segment_add)
    sdel = seg_sub.add_parser("delete", help="remove a segment")
    _case_arg(sdel)
    _recording_arg(sdel)
    sdel.add_argument("--id", required=True)
    add_user_arguments(sdel)
    sdel.set_defaults(handler=_segment_delete)

    approve = subparsers.add_parser("approve", help="approve a recording's plan for release (approvers)")
    _case_arg(approve)
    _recording_arg(approve)
    approve.add_argument("--plan-hash", metavar="SHA256", help="the plan hash you reviewed (from plan show)")
    approve.add_argument("--note")
    add_user_arguments(approve)
    approve.set_defaults(handler=_approve)

    reasons = subparsers.add_parser("reasons", help="list the reason codes and their citations")
    reasons.set_defaults(handler=_reasons)

    ledger = subparsers.add_parser("ledger", help="print a case's ledger")
    _case_arg(ledger)
    ledger.add_argument("--tail", type=int, metavar="N")
    ledger.add_argument("--action")
    ledger.add_argument("--json", action="store_true", help="the exact lines of ledger.jsonl")
    add_user_arguments(ledger)
    ledger.set_defaults(handler=_ledger)


__all__ = ["add_user_arguments", "export_case_recording", "register", "signed_in"]
