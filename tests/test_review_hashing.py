"""Streamed hashing: matches sha256sum and uses constant memory, for hashing,
copying and a whole ingest. (A multi-gigabyte run is in build/bench_custody.py.)"""

from __future__ import annotations

import json
import random
import subprocess

from tests.review_support import (  # noqa: F401
    base_clip_fixture,
    fast_hashing_fixture,
    make_case,
    password,
    run_python,
)

MIB = 1 << 20

MEASURE = """
import json, resource, sys
from pathlib import Path
from review.hashing import copy_and_hash, sha256_file

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB

path, mode = Path(sys.argv[1]), sys.argv[2]
before = peak()
if mode == "hash":
    digest = sha256_file(path)
elif mode == "copy":
    digest, _ = copy_and_hash(path, Path(sys.argv[3]))
elif mode == "naive":  # reads the whole file at once: what the test must be able to catch
    import hashlib, os
    def resident():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    start = resident()
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    # the buffer is alive here, so it is resident whatever the peak counter did
    print(json.dumps({"digest": digest, "growth": max(peak() - before, resident() - start)}))
    sys.exit(0)
elif mode == "ingest":
    from review import Case
    case = Case.open(sys.argv[3])
    case.sign_in("alice", sys.argv[4])
    case.ingest(sys.argv[5])  # a small file first: whatever one ingest costs is in the baseline
    before = peak()
    digest = case.ingest(path).recording.sha256
print(json.dumps({"digest": digest, "growth": peak() - before}))
"""


def _filled(path, size: int, seed: int) -> None:
    """A file of ``size`` bytes of real data.

    (Once a sparse file: reading its holes did not always raise the reader's
    peak memory on this machine, which made the naive-reader check flaky.)
    """
    rng = random.Random(seed)
    block = rng.randbytes(MIB)
    with open(path, "wb") as handle:
        for i in range(size // MIB):
            handle.write(block[i % 97:] + block[: i % 97])  # every mebibyte different, cheaply
        handle.write(block[: size % MIB])


def _sha256sum(path) -> str:
    return subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def _measure(*args: str) -> dict:
    result = run_python(MEASURE, *map(str, args), timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_hashing_a_large_file_matches_sha256sum_in_constant_memory(tmp_path):
    big = tmp_path / "big.bin"
    _filled(big, 400 * MIB, seed=1)
    expected = _sha256sum(big)
    hashed = _measure(big, "hash")
    assert hashed["digest"] == expected
    assert hashed["growth"] < 8 * MIB, hashed
    naive = _measure(big, "naive")  # the measurement does see a whole-file buffer
    assert naive["digest"] == expected
    assert naive["growth"] > 100 * MIB, naive  # far above the streamed bound, even under memory pressure


def test_copying_while_hashing_is_constant_memory_and_exact(tmp_path):
    big = tmp_path / "big.bin"
    _filled(big, 300 * MIB, seed=2)
    copied = _measure(big, "copy", tmp_path / "copy.bin")
    assert copied["digest"] == _sha256sum(big) == _sha256sum(tmp_path / "copy.bin")
    assert copied["growth"] < 8 * MIB, copied


def test_a_whole_ingest_of_a_large_recording_is_constant_memory(tmp_path, base_clip):
    path = make_case(tmp_path / "case")
    big = tmp_path / "big.mp4"
    big.write_bytes(base_clip.read_bytes())
    with open(big, "r+b") as handle:  # a playable file of 300 MiB: the clip, then a sparse tail
        handle.truncate(300 * MIB)
    result = _measure(big, "ingest", path, password("alice"), base_clip)
    assert result["digest"] == _sha256sum(big)
    assert result["growth"] < 16 * MIB, result
