"""Custody benchmarks: hashing, ingest and verify of a multi-gigabyte recording, and
ledger throughput. Prints figures; it is a benchmark, not a test.

    python build/bench_custody.py [--size-gb 4] [--dense] [--entries 2000]

The recording is a real 1-second clip followed by a tail (sparse zeros by
default, so the file takes no disk space until ingest copies it; ``--dense``
writes random bytes instead, which measures the disk too). Peak memory is read
from ``ru_maxrss`` in a fresh process, before and after each step.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEP = """
import json, resource, sys, time
from pathlib import Path
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
step, target = sys.argv[1], Path(sys.argv[2])
import review.auth as auth
from argon2 import PasswordHasher
auth.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
from review import Case
from review.hashing import sha256_file
from review.verify import verify_case
out = {}
if step == "hash":
    before = peak(); t = time.perf_counter(); out["digest"] = sha256_file(target)
elif step == "ingest":
    case = Case.open(sys.argv[3]); case.sign_in("bench", "bench-pass-1")
    case.ingest(sys.argv[4])  # a small one first, so imports and caches are in the baseline
    before = peak(); t = time.perf_counter(); out["digest"] = case.ingest(target).recording.sha256
elif step == "verify":
    before = peak(); t = time.perf_counter(); report = verify_case(target, record=False); out["ok"] = report.ok
out["seconds"] = time.perf_counter() - t
out["growth_mib"] = (peak() - before) / 2**20
out["peak_mib"] = peak() / 2**20
print(json.dumps(out))
"""


def run_step(*args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", STEP, *args], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout)


def make_recording(path: Path, size: int, dense: bool) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=30", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)], check=True)
    with open(path, "r+b") as handle:
        if dense:
            handle.seek(0, os.SEEK_END)
            while handle.tell() < size:
                handle.write(os.urandom(min(1 << 24, size - handle.tell())))
        elif size > handle.seek(0, os.SEEK_END):
            handle.truncate(size)


def ledger_throughput(work: Path, entries: int) -> None:
    from argon2 import PasswordHasher

    import review.auth as auth

    auth.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    from redaction.plan import Segment
    from review import Case
    from review.verify import verify_case

    case = Case.create(work / "ledger-case", title="bench", admin="admin", password="admin-pass-1")
    case.add_user("bench", "records_officer", "bench-pass-1")
    case.sign_in("bench", "bench-pass-1")
    rec = case.ingest(work / "small.mp4").recording.id
    started = time.perf_counter()
    for k in range(entries):
        case.save_segment(rec, Segment(f"s{k}", k % 20, k % 20 + 1, "blackout", None, "D3-RESIDENCE"))
    elapsed = time.perf_counter() - started
    count, _ = case.head()
    case.close()
    print(f"ledger: {entries} segment saves in {elapsed:.1f} s = {entries / elapsed:.0f} changes/s "
          f"(each a transaction, ledger entry, ledger.jsonl update); ledger now {count} entries")
    started = time.perf_counter()
    report = verify_case(work / "ledger-case", record=False)
    print(f"verify of that case: {time.perf_counter() - started:.2f} s, ok={report.ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-gb", type=float, default=4.0)
    parser.add_argument("--dense", action="store_true", help="random bytes instead of a sparse tail")
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--dir", type=Path, default=ROOT / "build" / "tmp")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="custody-"))
    try:
        size = int(args.size_gb * 2**30)
        recording = work / "big.mp4"
        make_recording(recording, size, args.dense)
        print(f"recording: {size / 2**30:.2f} GiB ({'dense' if args.dense else 'sparse tail'})")

        started = time.perf_counter()
        expected = subprocess.run(["sha256sum", str(recording)], capture_output=True, text=True, check=True).stdout.split()[0]
        print(f"sha256sum:      {time.perf_counter() - started:6.1f} s")
        hashed = run_step("hash", str(recording))
        print(f"sha256_file:    {hashed['seconds']:6.1f} s, {size / 2**20 / hashed['seconds']:6.0f} MiB/s, "
              f"peak RSS +{hashed['growth_mib']:.1f} MiB (process peak {hashed['peak_mib']:.0f} MiB), "
              f"matches sha256sum: {hashed['digest'] == expected}")

        from argon2 import PasswordHasher

        import review.auth as auth
        from review import Case

        auth.HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        case = Case.create(work / "case", title="bench", admin="admin", password="admin-pass-1")
        case.add_user("bench", "records_officer", "bench-pass-1")
        case.close()
        small = work / "small.mp4"
        make_recording(small, 0, False)
        ingested = run_step("ingest", str(recording), str(work / "case"), str(small))
        print(f"ingest:         {ingested['seconds']:6.1f} s, {size / 2**20 / ingested['seconds']:6.0f} MiB/s "
              f"(copy + hash + fsync), peak RSS +{ingested['growth_mib']:.1f} MiB, "
              f"matches sha256sum: {ingested['digest'] == expected}")
        recording.unlink()
        verified = run_step("verify", str(work / "case"))
        print(f"verify:         {verified['seconds']:6.1f} s, peak RSS +{verified['growth_mib']:.1f} MiB, ok={verified['ok']}")
        ledger_throughput(work, args.entries)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
