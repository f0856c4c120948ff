"""Documents a registry writes: the quarterly record of mutes, deactivations
and failures to activate (ordinance B.2) for the Mayor and City Council, as
CSV and a readable HTML page, and the referral report of an audit's material
findings (ordinance E).

Every document goes into its own folder with a SHA256SUMS file, built aside
and renamed into place complete; its hashes are recorded in the registry
ledger. The quarter is placed on the department's calendar: an instance
belongs to the quarter in which it happened; one whose time is unknown (the
recording has no start time) is listed in the quarter in which it was
recorded, marked so, so that no instance is left out of every report.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import secrets
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from redaction.fsutil import describe_os_error

from .errors import CaseError
from .hashing import canonical_json, sha256_file
from .mutes import KINDS, read_events
from .store import CaseStore
from .workdays import WorkCalendar, iso, utc

_QUARTER = re.compile(r"^(\d{4})\s*-?\s*Q([1-4])$", re.IGNORECASE)
COLUMNS = ["case_id", "case_title", "recording", "recording_sha256", "officer", "camera", "instance",
           "occurred_at_local", "offset_in_recording", "stated_reason", "source", "recorded_by", "recorded_at",
           "record_id"]


def quarter_bounds(quarter: str, calendar: WorkCalendar) -> tuple[str, datetime, datetime]:
    match = _QUARTER.match(quarter.strip())
    if not match:
        raise CaseError(f"The quarter {quarter!r} is not like 2026Q4.")
    year, q = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * q - 2, 1)
    end = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return f"{year}Q{q}", datetime.combine(start, time(), calendar.tz), datetime.combine(end, time(), calendar.tz)


def write_package(folder: Path, texts: dict[str, str]) -> dict[str, str]:
    """Write ``texts`` and a SHA256SUMS into ``folder`` (new), complete or not at all; return the hashes."""
    building = folder.parent / f".building-{folder.name}-{secrets.token_hex(4)}"
    try:
        building.mkdir(parents=True)
        files = {}
        for name, text in texts.items():
            path = building / name
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            files[name] = sha256_file(path)
        sums = "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items()))
        (building / "SHA256SUMS").write_text(sums, encoding="utf-8")
        files["SHA256SUMS"] = sha256_file(building / "SHA256SUMS")
        for name in files:
            os.chmod(building / name, 0o444)
        if folder.exists():
            raise CaseError(f"{folder} already exists; nothing was written.")
        os.rename(building, folder)
    except OSError as error:
        shutil.rmtree(building, ignore_errors=True)
        raise CaseError(describe_os_error(error, folder)) from error
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return files


def remove_package(folder: Path) -> None:
    """Undo ``write_package`` when its record could not be made."""
    for path in folder.glob("*"):
        os.chmod(path, 0o644)
    shutil.rmtree(folder, ignore_errors=True)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #111; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; } .none { color: #a00; font-weight: 600; } .meta { color: #444; font-size: 0.9em; }
@media print { body { margin: 0; } }
"""


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _table(headers: list[str], rows: list[list[str]], raw_columns: frozenset[int] = frozenset()) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    lines = []
    for row in rows:
        cells = "".join(f"<td>{cell if i in raw_columns else html.escape(str(cell))}</td>" for i, cell in enumerate(row))
        lines.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _local(calendar: WorkCalendar, stamp: str | None) -> str:
    return calendar.local(utc(stamp)).strftime("%Y-%m-%d %H:%M %Z") if stamp else ""


def _offset(start: float | None, end: float | None) -> str:
    def clock(s: float) -> str:
        return f"{int(s // 3600):02d}:{int(s // 60 % 60):02d}:{s % 60:06.3f}"

    if start is None:
        return ""
    return clock(start) + (f"-{clock(end)}" if end is not None else "")


@dataclass(frozen=True)
class Report:
    id: str
    period: str
    folder: Path
    files: dict[str, str]
    instances: int
    delivered_to: Path | None = None


class ReportMixin(CaseStore):
    def calendar(self) -> WorkCalendar: ...  # pragma: no cover
    def each_case(self): ...  # noqa: ANN201  # pragma: no cover

    def quarterly_rows(self, quarter: str) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
        """(normalised quarter, one row per instance, facts about the gathering)."""
        calendar = self.calendar()
        period, start, end = quarter_bounds(quarter, calendar)
        rows: list[dict[str, Any]] = []
        facts = {"cases": 0, "withdrawn": 0, "undated": 0}
        for registered, case in self.each_case():
            facts["cases"] += 1
            recordings = {r[0]: r[1:] for r in case.conn.execute(
                "SELECT id, sha256, officer, camera FROM recordings").fetchall()}
            for event in read_events(case.conn):
                when = event.occurred_at or event.recorded_at
                if not start <= utc(when) < end:
                    continue
                if event.withdrawn:
                    facts["withdrawn"] += 1
                    continue
                facts["undated"] += event.occurred_at is None
                sha, officer, camera = recordings.get(event.recording_id, ("", None, None))
                rows.append({
                    "case_id": registered.case_id, "case_title": registered.title, "recording": event.recording_id,
                    "recording_sha256": sha, "officer": event.officer or officer or "(not recorded)",
                    "camera": camera or "", "instance": KINDS[event.kind],
                    "occurred_at_local": _local(calendar, event.occurred_at) or "unknown (recording has no start time)",
                    "offset_in_recording": _offset(event.start_seconds, event.end_seconds),
                    "stated_reason": event.stated_reason or "", "source": {
                        "reviewer": "records review", "detected": "audio check, confirmed by reviewer"}[event.source],
                    "recorded_by": event.recorded_by, "recorded_at": event.recorded_at, "record_id": f"M{event.id}",
                    "_sort": when,
                })
        # Failures to activate found by this registry's monthly audits belong in the record too (B.2).
        for finding in self._findings(current_only=True):  # type: ignore[attr-defined]
            if finding.checklist.get("activated") != "no" or not start <= utc(finding.recorded_at) < end:
                continue
            audit = self._audit(finding.audit_id)  # type: ignore[attr-defined]
            item = next(r for r in audit.sample if r["case"] == finding.case_id and r["recording"] == finding.recording_id)
            rows.append({
                "case_id": finding.case_id, "case_title": item.get("case_title", ""), "recording": finding.recording_id,
                "recording_sha256": finding.recording_sha256, "officer": item.get("officer") or "(not recorded)",
                "camera": item.get("camera") or "", "instance": KINDS["not_activated"],
                "occurred_at_local": _local(calendar, item.get("recorded_at")), "offset_in_recording": "",
                "stated_reason": "", "source": f"monthly audit {finding.audit_id}: {finding.note}".strip(": "),
                "recorded_by": finding.auditor, "recorded_at": finding.recorded_at, "record_id": f"F{finding.id}",
                "_sort": item.get("recorded_at") or finding.recorded_at,
            })
        rows.sort(key=lambda r: (r["_sort"], r["case_id"], r["recording"]))
        for row in rows:
            del row["_sort"]
        facts.update({"from": iso(start), "to": iso(end), "timezone": calendar.timezone})
        return period, rows, facts

    def quarterly_report(self, quarter: str, out_dir: Path | str | None = None) -> Report:
        """Write the quarterly record (CSV + HTML) into ``reports/`` and record it (records officers)."""
        from .release import deliver

        with self.write("report.produce", f"produce the quarterly record for {quarter}", {"quarter": quarter}) as tx:
            period, rows, facts = self.quarterly_rows(quarter)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            report_id = f"{period}-{stamp}-{secrets.token_hex(2)}"
            folder = f"reports/{report_id}"
            made = iso(datetime.now(UTC))
            texts = {"quarterly-record.csv": quarterly_csv(rows),
                     "quarterly-record.html": quarterly_html(self.info().title, period, rows, facts, tx.actor, made,
                                                              self.calendar())}
            (self.layout.root / "reports").mkdir(exist_ok=True)
            files = write_package(self.layout.root / folder, texts)
            try:
                entry = tx.record("report.quarterly", {"report": report_id, "kind": "quarterly", "period": period,
                                                       "folder": folder, "files": files, "instances": len(rows),
                                                       "facts": facts})
                tx.insert("reports", {"id": report_id, "kind": "quarterly", "period": period, "folder": folder,
                                      "files": canonical_json(files), "instances": len(rows), "made_by": tx.actor,
                                      "made_at": entry.time, "ledger_seq": entry.seq})
            except BaseException:
                remove_package(self.layout.root / folder)
                raise
        report = Report(report_id, period, self.layout.root / folder, files, len(rows))
        if out_dir is not None:
            deliver(report.folder, files, Path(out_dir))
            report = Report(**{**report.__dict__, "delivered_to": Path(out_dir).absolute()})
        return report

    def reports(self) -> list[Report]:
        self.require("case.read", "list the reports")
        with self._lock:
            rows = self.conn.execute("SELECT id, period, folder, files, instances FROM reports ORDER BY ledger_seq")
            return [Report(r[0], r[1], self.layout.root / r[2], json.loads(r[3]), r[4])
                    for r in rows.fetchall()]


def quarterly_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row[k] is None else row[k]) for k in COLUMNS})
    return out.getvalue()


def quarterly_html(department: str, period: str, rows: list[dict[str, Any]], facts: dict[str, Any], made_by: str,
                   made_at: str, calendar: WorkCalendar) -> str:
    kinds = Counter(r["instance"] for r in rows)
    no_reason = sum(1 for r in rows if not r["stated_reason"])
    officers = Counter(r["officer"] for r in rows)
    body = [
        f"<h1>Body-worn camera record, {html.escape(period)}</h1>",
        "<p>To the Mayor and the City Council. Record kept under Salt Lake City Code, body-worn cameras, "
        "section B.2: every instance in which a body-worn camera was deactivated, its sound was muted, or it was "
        "not activated before a law enforcement encounter, with the officer and the reason stated.</p>",
        f"<p class=\"meta\">{html.escape(department)}. Period {_local(calendar, facts['from'])} to "
        f"{_local(calendar, facts['to'])} (end excluded). {facts['cases']} registered case folders read. "
        f"Prepared by {html.escape(made_by)} at {_local(calendar, made_at)}.</p>",
        "<h2>Summary</h2>",
        _table(["", "instances"], [[k, str(v)] for k, v in sorted(kinds.items())]
               + [["total", str(len(rows))], ["without a stated reason", str(no_reason)]]),
    ]
    if facts.get("undated"):
        body.append(f"<p>{facts['undated']} instances come from recordings without a start time; they are listed "
                    "in the quarter in which they were recorded.</p>")
    if facts.get("withdrawn"):
        body.append(f"<p class=\"meta\">{facts['withdrawn']} records withdrawn as mistaken are not listed "
                    "(they remain in the ledger).</p>")
    if officers:
        body += ["<h2>By officer</h2>", _table(["officer", "instances"],
                                               [[k, str(v)] for k, v in sorted(officers.items())])]
    body.append("<h2>Instances</h2>")
    if rows:
        table_rows = [[r["occurred_at_local"], r["officer"], r["instance"],
                       html.escape(r["stated_reason"]) if r["stated_reason"] else '<span class="none">none stated</span>',
                       f"{r['case_title']} / recording {r['recording']}", r["offset_in_recording"], r["source"],
                       r["record_id"]] for r in rows]
        body.append(_table(["when", "officer", "instance", "reason stated", "case / recording", "in the recording",
                            "found by", "record"], table_rows, frozenset({3})))
    else:
        body.append("<p>No instances were recorded in this quarter.</p>")
    body.append("<p class=\"meta\">The same rows are in quarterly-record.csv; check both files with "
                "<code>sha256sum -c SHA256SUMS</code> in this folder.</p>")
    return _page(f"Body-worn camera record {period}", body)


def referral_html(department: str, audit: Any, findings: list[Any], sample: dict[tuple, dict[str, Any]],
                  referred_by: str, referred_at: str, calendar: WorkCalendar) -> str:
    from .audits import CHECKLIST, RECIPIENTS

    body = [
        "<h1>Referral of material non-compliance found in a body-worn camera audit</h1>",
        "<p><strong>To:</strong> " + html.escape(", ".join(RECIPIENTS)) + "</p>",
        f"<p><strong>From:</strong> {html.escape(referred_by)}, auditor designated by the Mayor "
        f"({html.escape(department)})<br><strong>Date:</strong> {html.escape(referred_at[:10])}</p>",
        "<p>Under Salt Lake City Code, body-worn cameras, section E, findings of material non-compliance with "
        "state law, City Code and Police Department policy are referred to the recipients above. The following "
        f"findings come from the random audit of {html.escape(audit.month)} (audit {audit.id}: {len(audit.sample)} "
        f"of {len(audit.population)} recordings drawn with seed <code>{html.escape(audit.seed)}</code>, "
        "reproducible from the registry ledger).</p>",
    ]
    for finding in findings:
        item = sample.get((finding.case_id, finding.recording_id), {})
        body.append(f"<h2>Recording {finding.recording_id} of case {html.escape(item.get('case_title', finding.case_id))}</h2>")
        body.append(f"<p class=\"meta\">Case id {html.escape(finding.case_id)}; officer "
                    f"{html.escape(item.get('officer') or '(not recorded)')}; camera {html.escape(item.get('camera') or '')}"
                    f"; recorded {html.escape(_local(calendar, item.get('recorded_at')))}; SHA-256 "
                    f"<code>{finding.recording_sha256}</code></p>")
        body.append(_table(["checklist item", "answer"], [[CHECKLIST[k], v] for k, v in finding.checklist.items()]))
        body.append(f"<p><strong>Finding:</strong> {html.escape(finding.note)}</p>")
        body.append(f"<p class=\"meta\">Recorded by {html.escape(finding.auditor)} at "
                    f"{html.escape(_local(calendar, finding.recorded_at))} (finding {finding.id}).</p>")
    return _page(f"Audit referral {audit.month}", body)
