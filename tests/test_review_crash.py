"""Crashes and concurrency: SIGKILL at random moments of ingest and export never
leaves a partial file at a final path or a damaged database, and what was
committed still verifies; several processes writing one case lose nothing."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from review import Case
from review.hashing import sha256_file
from review.verify import verify_case
from tests.review_support import (  # noqa: F401
    ROOT,
    base_clip_fixture,
    concurrent_ingest,
    concurrent_writer,
    fast_hashing_fixture,
    make_case,
    open_as,
    password,
    reviewed_case,
    sample_plan,
    variant,
)

# With "-" as the file, the scripts stop before the work: that run times the start-up,
# so kills can be aimed at the work itself rather than at Python starting.
INGEST = """
import sys
from review import Case
import redaction.probe
case = Case.open(sys.argv[1])
case.sign_in("alice", sys.argv[3])
if sys.argv[2] != "-":
    case.ingest(sys.argv[2])
"""

EXPORT = """
import sys
from review import Case
import redaction.export, redaction.probe
case = Case.open(sys.argv[1])
case.sign_in("alice", sys.argv[3])
if sys.argv[2] != "-":
    case.export(1, sys.argv[2])
"""

PACKAGE = {"release.mp4", "manifest.json", "redaction-log.csv", "redaction-log.html", "SHA256SUMS"}


def _start(code: str, *args: str) -> subprocess.Popen:
    # A session of its own: the kill takes the program and the encoder it started.
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )


def _run_and_kill(code: str, after: float, *args: str) -> bool:
    """Run, SIGKILL after ``after`` seconds; True if it finished first."""
    process = _start(code, *args)
    try:
        process.wait(timeout=after)
        assert process.returncode == 0, process.stderr.read().decode()
        return True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return False


def _timed(code: str, *args: str) -> float:
    started = time.perf_counter()
    process = _start(code, *args)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    return time.perf_counter() - started


def _database_ok(path: Path) -> None:
    conn = sqlite3.connect(path / "case.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def _verified(path: Path, record: bool) -> None:
    report = verify_case(path, record=record)
    assert report.ok, report.lines()


def test_sigkill_during_ingest(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    clips = tmp_path / "clips"
    clips.mkdir()
    pw = password("alice")
    start = _timed(INGEST, str(path), "-", pw)
    full = _timed(INGEST, str(path), str(variant(base_clip, clips / "first.mp4", 0, 12 << 20)), pw)
    rng = random.Random(7)
    finished = 1
    for i in range(1, 26):
        clip = variant(base_clip, clips / f"clip{i}.mp4", i, 12 << 20)
        finished += _run_and_kill(INGEST, rng.uniform(start * 0.9, full * 1.05), str(path), str(clip), pw)
        clip.unlink()
        _database_ok(path)
        for item in (path / "evidence").iterdir():
            # A final name only ever holds a complete copy: its content hashes to its name.
            assert sha256_file(item)[:16] == item.name[:16], item
        _verified(path, record=i % 5 == 0)
    case = open_as(path, "alice")
    recorded = case.recordings()
    case.close()
    assert len(recorded) >= finished
    assert not list((path / ".incoming").glob("*.partial")), "open clears what killed ingests left"
    for rec in recorded:
        assert sha256_file(rec.path) == rec.sha256


def _complete_package(folder: Path) -> None:
    names = {p.name for p in folder.iterdir()}
    assert names == PACKAGE, (folder, names)
    result = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=folder, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sigkill_during_export(tmp_path, base_clip):
    path, rec = reviewed_case(tmp_path, base_clip)
    pw = password("alice")
    start = _timed(EXPORT, str(path), "-", pw)
    full = _timed(EXPORT, str(path), str(tmp_path / "out0"), pw)
    rng = random.Random(8)
    for i in range(1, 21):
        out = tmp_path / f"out{i}"
        _run_and_kill(EXPORT, rng.uniform(start * 0.9, full * 1.05), str(path), str(out), pw)
        _database_ok(path)
        for folder in (path / "exports").iterdir():
            if not folder.name.startswith("."):
                _complete_package(folder)
        if out.exists():
            _complete_package(out)
        _verified(path, record=i % 5 == 0)
    case = open_as(path, "alice")
    exports = case.exports()
    case.close()
    assert exports
    assert not list((path / "exports").glob(".building-*")), "open clears what killed exports left"
    for export in exports:
        assert sha256_file(export.release_path) == export.release_sha256


def test_processes_writing_at_once_lose_nothing(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    case = open_as(path, "alice")
    case.ingest(base_clip)
    case.close()
    workers, count = 4, 25
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    processes = [context.Process(target=concurrent_writer, args=(str(path), w, count, barrier)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    case = open_as(path, "alice")
    saves = case.ledger_entries(action="segment.save")
    segments = case.plan(1).segments
    case.close()
    assert len(saves) == workers * count
    assert {s.id for s in segments} == {f"w{w}-{k}" for w in range(workers) for k in range(count)}
    conn = sqlite3.connect(path / "case.db")
    rows = conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    conn.close()
    assert len((path / "ledger.jsonl").read_bytes().splitlines()) == rows
    _verified(path, record=False)


def test_two_processes_ingesting_the_same_bytes_store_them_once(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    processes = [context.Process(target=concurrent_ingest, args=(str(path), str(base_clip), barrier)) for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    case = Case.open(path)
    case.sign_in("alice", password("alice"))
    assert len(case.recordings()) == 1
    assert len(case.ledger_entries(action="ingest.duplicate")) == 1
    case.close()
    assert len(list((path / "evidence").iterdir())) == 1
    _verified(path, record=False)
