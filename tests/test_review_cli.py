"""The case commands end to end, as a records unit would script them."""

from __future__ import annotations

import re

import pytest

from app.cli import main
from tests.review_support import base_clip_fixture, fast_hashing_fixture, password, sample_plan  # noqa: F401


@pytest.fixture
def as_user(monkeypatch):
    def switch(name: str | None, new_password: str | None = None) -> None:
        if name:
            monkeypatch.setenv("BWC_REDACT_USER", name)
            monkeypatch.setenv("BWC_REDACT_PASSWORD", password(name))
        if new_password:
            monkeypatch.setenv("BWC_REDACT_NEW_PASSWORD", new_password)

    monkeypatch.delenv("BWC_REDACT_USER", raising=False)
    monkeypatch.delenv("BWC_REDACT_PASSWORD", raising=False)
    monkeypatch.delenv("BWC_REDACT_NEW_PASSWORD", raising=False)
    return switch


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_whole_case_from_the_command_line(tmp_path, capsys, as_user, base_clip):
    case = tmp_path / "case"
    as_user(None, password("admin"))
    code, out, _ = run(capsys, "case", "new", case, "--title", "Main St", "--incident", "critical",
                       "--incident-time", "2026-11-03T14:05-07:00")
    assert code == 0 and "Public key fingerprint:" in out
    fingerprint = re.search(r"fingerprint: ([0-9a-f]{64})", out).group(1)
    as_user("admin", password("alice"))
    assert run(capsys, "user", "add", case, "alice", "--role", "records_officer")[0] == 0
    as_user("admin", password("chief"))
    assert run(capsys, "user", "add", case, "chief", "--role", "approver")[0] == 0
    code, out, _ = run(capsys, "user", "list", case)
    assert "alice\trecords_officer" in out and "chief\tapprover" in out

    as_user("alice")
    code, out, _ = run(capsys, "ingest", case, base_clip, "--officer", "J. Doe", "--recorded-at", "2026-11-03T14:05Z")
    assert code == 0 and "recording 1" in out
    code, out, _ = run(capsys, "ingest", case, base_clip)
    assert code == 0 and "already in the case as recording 1" in out
    plan = tmp_path / "tracks.json"
    sample_plan().save(plan)
    assert run(capsys, "plan", "import", case, "--recording", "1", plan)[0] == 0
    assert run(capsys, "decide", case, "--recording", "1", "--track", "t1", "--track", "t2", "--redact",
               "--reason", "D3-MINOR", "--note", "children")[0] == 0
    assert run(capsys, "segment", "add", case, "--recording", "1", "--id", "s2", "--start", "10", "--end", "12",
               "--audio", "mute", "--reason", "D3-MEDICAL")[0] == 0
    as_user("chief")
    code, out, _ = run(capsys, "plan", "show", case, "--recording", "1")
    digest = re.search(r"plan ([0-9a-f]{64}): not approved", out).group(1)
    assert run(capsys, "approve", case, "--recording", "1", "--plan-hash", digest)[0] == 0

    as_user("alice")
    code, out, err = run(capsys, "export", case, "--recording", "1", "-o", tmp_path / "out")
    assert code == 0, err
    assert "release sha256" in out and (tmp_path / "out" / "release.mp4").exists()
    code, out, _ = run(capsys, "verify", case, "--expect-key", fingerprint)
    assert code == 0 and out.strip().splitlines()[-1].startswith("VERIFIED")
    head = re.search(r"head (\d+:[0-9a-f]{64})", out).group(1)
    assert run(capsys, "verify", case, "--expect-head", head, "--no-record")[0] == 0

    with open(case / "ledger.jsonl", "r+b") as handle:
        handle.seek(300)
        byte = handle.read(1)
        handle.seek(300)
        handle.write(b"#" if byte != b"#" else b"$")
    code, out, _ = run(capsys, "verify", case, "--no-record")
    assert code == 1
    assert "FAIL ledger.jsonl line" in out and out.strip().splitlines()[-1].startswith("NOT VERIFIED")


def test_errors_are_one_line_and_exit_non_zero(tmp_path, capsys, as_user, base_clip, monkeypatch):
    as_user(None, password("admin"))
    case = tmp_path / "case"
    assert run(capsys, "case", "new", case, "--title", "T")[0] == 0
    cases = [
        (("ingest", tmp_path / "nope", base_clip), "is not a bwc-redact case"),
        (("ingest", case, base_clip), "Say who is acting"),
        (("case", "new", case, "--title", "again"), "already exists and is not empty"),
    ]
    for argv, message in cases:
        code, _, err = run(capsys, *argv)
        assert code == 1 and message in err and err.count("\n") == 1, err
    as_user("admin")
    for argv, message in [
        (("ingest", case, base_clip), "may not ingest recordings"),
        (("export", case, "--recording", "one", "-o", tmp_path / "o"), "takes a recording number"),
        (("export", case, "--recording", "7", "-o", tmp_path / "o"), "may not export a release"),
        (("verify", case, "--expect-head", "12"), "--expect-head takes ENTRY:HASH"),
        (("case", "new", tmp_path / "c2", "--title", "T", "--incident-time", "2026-11-03 14:05"), "no time zone"),
    ]:
        code, _, err = run(capsys, *argv)
        assert code == 1 and message in err and err.count("\n") == 1, err
    monkeypatch.setenv("BWC_REDACT_PASSWORD", "not-the-password")
    code, _, err = run(capsys, "user", "list", case)
    assert code == 1 and err.strip() == "bwc-redact: Wrong user name or password."
    monkeypatch.delenv("BWC_REDACT_PASSWORD")
    code, _, err = run(capsys, "user", "list", case)  # no password and no terminal to ask at
    assert code == 1 and "set BWC_REDACT_PASSWORD or run at a terminal" in err


def test_reasons_lists_codes_with_citations(capsys):
    code, out, _ = run(capsys, "reasons")
    assert code == 0
    assert re.search(r"^GRAMA-CONTROLLED\twithhold\t.*63G-2-304", out, re.M)
    assert re.search(r"^D3-DEATH\twithhold\t", out, re.M)
