"""Monthly audits (ordinance E), kept in a department registry.

**The draw.** The population is every recording of every registered case whose
recording time falls in the month on the department's calendar. Each is
ranked by ``SHA-256("<seed>:<case id>:<recording SHA-256>")`` (hex, as text)
and the lowest ``count`` are the sample. The seed (128 random bits unless
given) and the whole population are recorded in the registry ledger, so
anyone can redraw the same sample, with this program (``audit show``) or with
three lines of any language, and check that nothing was left out. A draw takes
at least five (the ordinance's minimum); when fewer than five recordings exist
it takes all of them and says so. Recordings with no recording time cannot be
placed in a month: the draw counts them and says so.

**Findings.** Per sampled recording, the auditor answers the checklist
(``CHECKLIST``: yes, no or n/a) and says whether there is material
non-compliance (which needs at least one "no" and a note). A later finding
for the same recording supersedes the earlier one; both stay in the ledger.

**Referral.** Material findings are referred, in one report per referral, to
the ordinance's recipients (``RECIPIENTS``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from .errors import CaseError
from .hashing import canonical_json
from .store import CaseStore
from .workdays import WorkCalendar, iso, utc

MINIMUM = 5
CHECKLIST: dict[str, str] = {
    "activated": "Camera activated before the law enforcement encounter (B.1)",
    "announced": "Any muting or deactivation announced on the recording with a reason (B.1)",
    "not_early": "Not muted or deactivated before the end of the encounter without a stated reason (B.1)",
    "no_personal_use": "No personal recording device and no personal use of the recording (F.1, F.2)",
}
ANSWERS = ("yes", "no", "n/a")
RECIPIENTS = ("Chief of Police", "City Attorney", "Council Chair", "Mayor", "Mayor's Chief of Staff")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def rank(seed: str, case_id: str, sha256: str) -> str:
    return hashlib.sha256(f"{seed}:{case_id}:{sha256}".encode()).hexdigest()


def draw(seed: str, population: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The sample: the ``count`` recordings with the lowest rank (order of the population is irrelevant)."""
    ranked = sorted(population, key=lambda r: (rank(seed, r["case"], r["sha256"]), r["case"], r["recording"]))
    return ranked[:count]


def month_bounds(month: str, calendar: WorkCalendar) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``YYYY-MM`` on the department's calendar."""
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CaseError(f"The month {month!r} is not like 2026-11.")
    year, mon = int(match.group(1)), int(match.group(2))
    start = date(year, mon, 1)
    end = date(year + mon // 12, mon % 12 + 1, 1)
    return (datetime.combine(start, time(), calendar.tz), datetime.combine(end, time(), calendar.tz))


@dataclass(frozen=True)
class Audit:
    id: int
    month: str
    seed: str
    requested: int
    population: list[dict[str, Any]]
    population_sha256: str
    sample: list[dict[str, Any]]
    drawn_by: str
    drawn_at: str
    undated: int = 0

    @property
    def short(self) -> bool:
        return len(self.sample) < self.requested

    def summary(self) -> str:
        text = f"Audit {self.id} of {self.month}: {len(self.sample)} of {len(self.population)} recordings drawn " \
               f"with seed {self.seed}"
        if self.short:
            text += (f"; only {len(self.population)} recordings were made in {self.month}, so all of them are "
                     f"audited (asked for {self.requested})")
        if self.undated:
            text += f"; {self.undated} recordings have no recording time and could not be placed in a month"
        return text


@dataclass(frozen=True)
class Finding:
    id: int
    audit_id: int
    case_id: str
    recording_id: int
    recording_sha256: str
    checklist: dict[str, str]
    material: bool
    note: str
    auditor: str
    recorded_at: str


@dataclass(frozen=True)
class Referral:
    id: int
    audit_id: int
    findings: list[int]
    folder: Path
    files: dict[str, str]
    delivered_to: Path | None = None


class AuditMixin(CaseStore):
    # Provided by Registry.
    def calendar(self) -> WorkCalendar: ...  # pragma: no cover
    def each_case(self): ...  # noqa: ANN201  # pragma: no cover

    def audit_population(self, month: str) -> tuple[list[dict[str, Any]], int]:
        """(recordings made in ``month`` across the registered cases, how many have no time)."""
        start, end = month_bounds(month, self.calendar())
        population, undated = [], 0
        for registered, case in self.each_case():
            rows = case.conn.execute("SELECT id, sha256, recorded_at, officer, camera FROM recordings ORDER BY id")
            for rec_id, sha, recorded_at, officer, camera in rows.fetchall():
                if not recorded_at:
                    undated += 1
                    continue
                if start <= utc(recorded_at) < end:
                    population.append({"case": registered.case_id, "recording": rec_id, "sha256": sha,
                                       "recorded_at": recorded_at, "officer": officer, "camera": camera,
                                       "case_title": registered.title})
        population.sort(key=lambda r: (r["case"], r["recording"]))
        return population, undated

    def draw_audit(self, month: str, count: int = MINIMUM, seed: str | None = None) -> Audit:
        """Draw the month's sample and record it (auditors)."""
        with self.write("audit.record", f"draw the audit sample of {month}", {"month": month}) as tx:
            month_bounds(month, self.calendar())
            if count < MINIMUM:
                raise CaseError(f"The ordinance asks for at least {MINIMUM} recordings a month; --count must be "
                                f"{MINIMUM} or more.")
            seed = (seed or secrets.token_hex(16)).strip()
            if not seed or len(seed) > 200 or ":" in seed:
                raise CaseError("A seed is 1 to 200 characters without ':'.")
            population, undated = self.audit_population(month)
            sample = draw(seed, population, count)
            audit_id = tx.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audits").fetchone()[0]
            payload = {
                "audit": audit_id, "month": month.strip(), "seed": seed, "requested": count,
                "population": population, "population_sha256": hashlib.sha256(
                    canonical_json(population).encode()).hexdigest(),
                "sample": sample, "undated": undated, "timezone": self.calendar().timezone,
                "rank": "sha256('<seed>:<case>:<sha256>'), lowest first",
            }
            entry = tx.record("audit.draw", payload)
            tx.insert("audits", {
                "id": audit_id, "month": payload["month"], "seed": seed, "requested": count,
                "population": canonical_json(population), "population_sha256": payload["population_sha256"],
                "sample": canonical_json(sample), "drawn_by": tx.actor, "drawn_at": entry.time,
                "ledger_seq": entry.seq})
        return self.audit(audit_id)

    def _audit(self, audit_id: int) -> Audit:
        with self._lock:
            row = self.conn.execute("SELECT a.id, a.month, a.seed, a.requested, a.population, a.population_sha256, "
                                    "a.sample, a.drawn_by, a.drawn_at, l.payload FROM audits a JOIN ledger l ON "
                                    "l.seq = a.ledger_seq WHERE a.id = ?", (int(audit_id),)).fetchone()
        if row is None:
            raise CaseError(f"There is no audit {audit_id} in this registry.")
        undated = json.loads(row[9]).get("undated", 0)
        return Audit(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], json.loads(row[6]), row[7], row[8],
                     undated)

    def audit(self, audit_id: int) -> Audit:
        self.require("audit.read", f"read audit {audit_id}")
        return self._audit(audit_id)

    def audits(self) -> list[Audit]:
        self.require("audit.read", "read the audits")
        with self._lock:
            ids = [r[0] for r in self.conn.execute("SELECT id FROM audits ORDER BY id")]
        return [self._audit(i) for i in ids]

    def check_audit(self, audit_id: int) -> list[str]:
        """Redraw from the recorded seed and population, and compare with the
        registered cases now. Returns problems (empty: the draw holds)."""
        audit = self.audit(audit_id)
        problems = []
        if hashlib.sha256(canonical_json(audit.population).encode()).hexdigest() != audit.population_sha256:
            problems.append("the recorded population does not match its recorded hash")
        redrawn = draw(audit.seed, audit.population, audit.requested)
        if redrawn != audit.sample:
            problems.append("redrawing from the recorded seed gives another sample")
        if len(audit.sample) < min(MINIMUM, len(audit.population)):
            problems.append(f"fewer than {MINIMUM} recordings were drawn although more existed")
        now, _ = self.audit_population(audit.month)
        key = {(r["case"], r["recording"], r["sha256"]) for r in audit.population}
        later = [r for r in now if (r["case"], r["recording"], r["sha256"]) not in key]
        if later:
            problems.append(f"{len(later)} recordings of {audit.month} were registered after the draw "
                            "(ingested or registered late); they were not in the population")
        return problems

    # ---------------------------------------------------------------- findings
    def record_finding(self, audit_id: int, case_id: str, recording_id: int, answers: dict[str, str], *,
                       material: bool = False, note: str = "") -> Finding:
        """The auditor's checklist for one sampled recording (auditors)."""
        with self.write("audit.record", f"record a finding of audit {audit_id}", {"audit": audit_id}) as tx:
            audit = self._audit(audit_id)
            match = [r for r in audit.sample if r["case"] == case_id and r["recording"] == int(recording_id)]
            if not match:
                raise CaseError(f"Recording {recording_id} of case {case_id} is not in the sample of audit {audit_id}.")
            missing = [k for k in CHECKLIST if k not in answers]
            unknown = [k for k in answers if k not in CHECKLIST]
            if missing or unknown:
                raise CaseError(f"Answer every checklist item ({', '.join(CHECKLIST)}); "
                                + (f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}") + ".")
            bad = [k for k, v in answers.items() if v not in ANSWERS]
            if bad:
                raise CaseError(f"Answer {', '.join(bad)} with one of: {', '.join(ANSWERS)}.")
            if material and "no" not in answers.values():
                raise CaseError("Material non-compliance needs at least one checklist item answered 'no'.")
            if material and not note.strip():
                raise CaseError("Describe the material non-compliance in a note; the referral quotes it.")
            payload = {"audit": int(audit_id), "case": case_id, "recording": int(recording_id),
                       "sha256": match[0]["sha256"], "checklist": {k: answers[k] for k in CHECKLIST},
                       "material": bool(material), "note": note.strip()}
            entry = tx.record("audit.finding", payload)
            finding_id = tx.insert("audit_findings", {
                "audit_id": payload["audit"], "case_id": case_id, "recording_id": payload["recording"],
                "recording_sha256": payload["sha256"], "checklist": canonical_json(payload["checklist"]),
                "material": int(payload["material"]), "note": payload["note"], "auditor": tx.actor,
                "recorded_at": entry.time, "ledger_seq": entry.seq})
        return Finding(finding_id, payload["audit"], case_id, payload["recording"], payload["sha256"],
                       payload["checklist"], payload["material"], payload["note"], entry.actor, entry.time)

    def _findings(self, audit_id: int | None = None, current_only: bool = True) -> list[Finding]:
        sql = ("SELECT id, audit_id, case_id, recording_id, recording_sha256, checklist, material, note, auditor, "
               "recorded_at FROM audit_findings")
        params: tuple = ()
        if audit_id is not None:
            sql, params = sql + " WHERE audit_id = ?", (int(audit_id),)
        with self._lock:
            rows = self.conn.execute(sql + " ORDER BY id", params).fetchall()
        found = [Finding(*r[:5], json.loads(r[5]), bool(r[6]), *r[7:]) for r in rows]
        if not current_only:
            return found
        latest: dict[tuple, Finding] = {}
        for f in found:
            latest[(f.audit_id, f.case_id, f.recording_id)] = f
        return sorted(latest.values(), key=lambda f: f.id)

    def findings(self, audit_id: int | None = None, current_only: bool = True) -> list[Finding]:
        self.require("audit.read", "read the audit findings")
        return self._findings(audit_id, current_only)

    # ---------------------------------------------------------------- referral
    def refer(self, audit_id: int, out_dir: Path | str | None = None) -> Referral:
        """Write the referral report of the audit's material findings (auditors)."""
        from . import reports
        from .release import deliver

        with self.write("audit.record", f"refer the findings of audit {audit_id}", {"audit": audit_id}) as tx:
            audit = self._audit(audit_id)
            material = [f for f in self._findings(audit_id) if f.material]
            if not material:
                raise CaseError(f"Audit {audit_id} has no finding of material non-compliance; there is nothing to refer.")
            referral_id = tx.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_referrals").fetchone()[0]
            folder = f"referrals/A{audit.id}-referral-{referral_id}"
            sample = {(r["case"], r["recording"]): r for r in audit.sample}
            page = reports.referral_html(self.info().title, audit, material, sample, tx.actor, iso(datetime.now(UTC)),
                                         self.calendar())
            (self.layout.root / "referrals").mkdir(exist_ok=True)
            files = reports.write_package(self.layout.root / folder, {"referral.html": page})
            try:
                entry = tx.record("audit.referral", {"audit": audit.id, "findings": [f.id for f in material],
                                                     "folder": folder, "files": files,
                                                     "recipients": list(RECIPIENTS)})
                tx.insert("audit_referrals", {"id": referral_id, "audit_id": audit.id,
                                              "findings": canonical_json([f.id for f in material]), "folder": folder,
                                              "files": canonical_json(files), "referred_by": tx.actor,
                                              "referred_at": entry.time, "ledger_seq": entry.seq})
            except BaseException:
                reports.remove_package(self.layout.root / folder)
                raise
        referral = Referral(referral_id, audit.id, [f.id for f in material], self.layout.root / folder, files)
        if out_dir is not None:
            deliver(referral.folder, files, Path(out_dir))
            referral = Referral(**{**referral.__dict__, "delivered_to": Path(out_dir).absolute()})
        return referral
