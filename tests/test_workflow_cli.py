"""The workflow commands end to end: registry, audit, mute, report, due, clock, nok."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from tests.review_support import USERS, fast_hashing_fixture, password  # noqa: F401
from tests.workflow_support import muted_clip


@pytest.fixture(name="run")
def run_fixture(monkeypatch, capsys):
    def run(*argv, user: str | None = None, new_password: str | None = None) -> tuple[int, str, str]:
        if user:
            monkeypatch.setenv("BWC_REDACT_PASSWORD", password(user))
        if new_password:
            monkeypatch.setenv("BWC_REDACT_NEW_PASSWORD", new_password)
        code = main([str(a) for a in argv] + (["--user", user] if user else []))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_the_ordinance_workflows_from_the_command_line(tmp_path, run, monkeypatch):
    reg, case = tmp_path / "registry", tmp_path / "case"
    code, out, _ = run("registry", "new", reg, "--title", "Salt Lake City PD", "--admin", "admin",
                       new_password=password("admin"))
    assert code == 0 and "America/Denver" in out
    for name, (role, pw) in USERS.items():
        if name != "admin":
            monkeypatch.setenv("BWC_REDACT_NEW_PASSWORD", pw)
            assert run("user", "add", reg, name, "--role", role, user="admin")[0] == 0
    code, _, _ = run("case", "new", case, "--title", "OICI 2026-11-03", "--incident", "critical",
                     "--incident-time", "2026-11-03T14:05:00-07:00", "--users-from", reg, "--admin", "admin",
                     new_password=password("admin"))
    assert code == 0
    clip = muted_clip(tmp_path / "clip.mp4", 3.0, (1.0, 1.6))
    assert run("ingest", case, clip, "--officer", "J. Doe", "--recorded-at", "2026-11-03T14:10:00-07:00",
               user="alice")[0] == 0

    # Mutes (B.2)
    code, out, _ = run("mute", "detect", case, "--recording", 1, user="alice")
    assert code == 0 and "1. 00:00:01.0" in out and "digital silence" in out
    code, _, err = run("mute", "record", case, "--recording", 1, "--candidate", 1, "--kind", "mute", user="alice")
    assert code == 1 and "--no-reason-stated" in err and "Traceback" not in err
    code, out, _ = run("mute", "record", case, "--recording", 1, "--candidate", 1, "--kind", "mute",
                       "--no-reason-stated", user="alice")
    assert code == 0 and "Recorded M1: sound muted in recording 1 (J. Doe), no reason stated." in out
    assert "NO REASON STATED" in run("mute", "list", case, user="audrey")[1]

    # Registry, audit (E), quarterly record (B.2)
    assert run("registry", "add", reg, case, user="alice")[0] == 0
    code, _, err = run("audit", "draw", reg, "--month", "2026-11", user="alice")
    assert code == 1 and "may not record audit findings" in err and "recorded in the case ledger" in err
    code, out, _ = run("audit", "draw", reg, "--month", "2026-11", "--seed", "cafe", user="audrey")
    assert code == 0 and "only 1 recordings were made in 2026-11, so all of them are audited" in out
    case_id = json.loads((case / "ledger.jsonl").read_text().splitlines()[0])["payload"]["case_id"]
    code, out, _ = run("audit", "finding", reg, "--audit", 1, "--case", case_id, "--recording", 1,
                       "--activated", "yes", "--announced", "no", "--not-early", "no", "--no-personal-use", "yes",
                       "--material", "--note", "Muted for 0.6 s without stating a reason.", user="audrey")
    assert code == 0 and "material non-compliance" in out
    code, out, _ = run("audit", "show", reg, "--audit", 1, user="chief")
    assert "MATERIAL NON-COMPLIANCE" in out and "Redrawn from the recorded seed: the same sample." in out
    code, out, _ = run("audit", "referral", reg, "--audit", 1, "-o", tmp_path / "referral", user="audrey")
    assert code == 0 and (tmp_path / "referral" / "referral.html").is_file()
    code, out, _ = run("report", "quarterly", reg, "--quarter", "2026Q4", "-o", tmp_path / "q4", user="alice")
    assert code == 0 and "1 instances" in out
    csv_text = (tmp_path / "q4" / "quarterly-record.csv").read_text()
    assert "J. Doe" in csv_text and "sound muted" in csv_text

    # Clocks (C, D)
    assert run("clock", "facts", case, "--death", "yes", user="alice")[0] == 0
    code, out, _ = run("clock", "done", case, "--item", "C1", "--at", "2026-11-04T08:00:00-07:00",
                       "--note", "briefed all four", user="chief")
    assert code == 0 and "C1 done 2026-11-04T15:00:00Z by chief." in out
    code, out, _ = run("clock", "receive", case, "--kind", "grama", "--received-at", "2026-11-05T09:00:00-07:00",
                       "--reference", "GR-26-114", user="alice")
    assert code == 0 and "C4-1" in out and "Fri 2026-11-13" in out
    code, _, err = run("clock", "done", case, "--item", "C2", user="paul")
    assert code == 1 and "may not mark critical-incident deadlines" in err
    code, out, _ = run("due", case, "--at", "2026-11-09T00:00:00Z", user="alice")
    assert code == 0
    lines = out.splitlines()
    assert any(line.strip().startswith("OVERDUE") and " C2 " in line for line in lines), out
    assert any(line.strip().startswith("DONE") and " C1 " in line for line in lines), out
    assert any(line.strip().startswith("DUE") and " D1 " in line for line in lines), out
    code, out, _ = run("due", reg, "--json", "--at", "2026-11-09T00:00:00Z", user="alice")
    items = {i["key"]: i for i in json.loads(out)}
    assert items["C2"]["status"] == "overdue" and items["C1"]["done_by"] == "chief"
    assert items["C4-1"]["due"] == "2026-11-14T06:59:59Z"

    # Next of kin (D.3, D.4)
    assert run("nok", "consult", case, "--organisation", "Utah Grief Support Network", user="alice")[0] == 0
    assert run("nok", "notify", case, "--person", "Maria Roe", "--release-date", "2099-01-15", user="paul")[0] == 0
    assert run("nok", "offer", case, "--person", "Maria Roe", "--response", "accepted", user="paul")[0] == 0
    code, _, err = run("nok", "view", case, "--unredacted", "--recording", 1, "--attendee", "Maria Roe",
                       "--held-from", "2026-11-06T10:00:00-07:00", "--held-to", "2026-11-06T10:30:00-07:00",
                       user="paul")
    assert code == 1 and "request under D.3" in err
    assert run("nok", "request-unredacted", case, "--recording", 1, "--requested-by", "Maria Roe", user="paul")[0] == 0
    assert run("nok", "warning", case, "--recording", 1, "--start-frame", 30, "--label", "raised voices",
               user="alice")[0] == 0
    code, out, _ = run("nok", "view", case, "--unredacted", "--recording", 1, "--attendee", "Maria Roe",
                       "--attendee", "Rev. J. Park", "--held-from", "2026-11-06T10:00:00-07:00",
                       "--held-to", "2026-11-06T10:30:00-07:00", user="paul")
    assert code == 0 and "Recorded viewing V" in out
    code, _, err = run("nok", "view", case, "--unredacted", "--recording", 1, "--attendee", "Maria Roe",
                       "--held-from", "2026-11-06T10:00:00-07:00", "--held-to", "2026-11-06T10:30:00-07:00",
                       user="alice")
    assert code == 1 and "may not host a next-of-kin viewing" in err
    for variable in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(variable, raising=False)
    code, _, err = run("nok", "view", case, "--unredacted", "--recording", 1, "--attendee", "Maria Roe", user="paul")
    assert code == 1 and "needs a screen" in err
    code, out, _ = run("nok", "show", case, user="paul")
    assert "consulted Utah Grief Support Network" in out and "UNREDACTED" in out and "raised voices" in out
    assert "attended by Maria Roe, Rev. J. Park" in out
    code, out, _ = run("due", case, "--open", "--at", "2026-11-09T00:00:00Z", user="alice")
    assert " D4a " not in out and " D4c " not in out  # done: consulted; offered and a viewing was held

    # Everything verifies, the registry's files too.
    code, out, _ = run("registry", "verify", reg, "--no-record")
    assert code == 0, out
    code, out, _ = run("verify", case, "--no-record")
    assert code == 0, out


def test_clear_errors_for_wrong_folders_and_inputs(tmp_path, run, monkeypatch):
    monkeypatch.setenv("BWC_REDACT_PASSWORD", "whatever-1")
    code, _, err = run("audit", "draw", tmp_path, "--month", "2026-11", "--user", "audrey")
    assert code == 1 and "is not a bwc-redact case" in err
    case = tmp_path / "case"
    assert run("case", "new", case, "--title", "T", "--admin", "admin", new_password=password("admin"))[0] == 0
    code, _, err = run("report", "quarterly", case, "--quarter", "2026Q4", user="admin")
    assert code == 1 and "not a registry" in err
    code, _, err = run("due", case, user="admin")
    assert code == 0
    reg = tmp_path / "reg"
    assert run("registry", "new", reg, "--title", "R", "--admin", "admin", new_password=password("admin"))[0] == 0
    holidays = tmp_path / "holidays.txt"
    holidays.write_text("2026-11-27 Day after Thanksgiving\nnot 2026-10-12\nbogus line\n")
    monkeypatch.setenv("BWC_REDACT_NEW_PASSWORD", password("alice"))
    run("user", "add", reg, "alice", "--role", "records_officer", user="admin")
    code, _, err = run("registry", "calendar", reg, "--holidays", holidays, user="alice")
    assert code == 1 and "Line 3" in err
    holidays.write_text("2026-11-27 Day after Thanksgiving\nnot 2026-10-12\n")
    code, out, _ = run("registry", "calendar", reg, "--holidays", holidays, "--timezone", "America/Denver",
                       user="alice")
    assert code == 0 and "1 added closures, 1 holidays worked" in out
    code, _, err = run("registry", "calendar", reg, "--timezone", "Mars/Olympus", user="alice")
    assert code == 1 and "Unknown time zone" in err
