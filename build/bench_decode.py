"""Sequential decode speed: PyAV (what ``iter_frames`` uses) against an ffmpeg pipe.

    /work/venv/bin/python build/bench_decode.py [--input CLIP ...] [--seconds 10]

For 720p and 1080p generated clips (or ``--input``) it prints frames per
second and CPU seconds for:

* ``iter_frames`` YUV views (no conversion), and BGR (OpenCV conversion),
* PyAV with frame threads, slice threads and no threads (raw decode only),
* ``ffmpeg -i IN -f rawvideo -pix_fmt yuv420p|bgr24 -`` read from a pipe.

The figures decided the design: see ``redaction/decode.py``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from build.bench_seek import make_clip  # noqa: E402
from redaction.decode import iter_frames  # noqa: E402
from redaction.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from redaction.probe import probe  # noqa: E402


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pyav_raw(path: Path, thread_type: str) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = thread_type
        return sum(1 for _ in container.decode(stream))


def pipe(path: Path, pix_fmt: str, width: int, height: int) -> int:
    size = width * height * (3 if pix_fmt == "bgr24" else 1.5)
    size = int(size)
    cmd = [ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-map", "0:v:0", "-f", "rawvideo"]
    cmd += ["-pix_fmt", pix_fmt, "-"]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, bufsize=0)
    assert process.stdout is not None
    buffer = bytearray(size)
    view = memoryview(buffer)
    frames = 0
    while True:
        got = 0
        while got < size:
            n = process.stdout.readinto(view[got:])
            if not n:
                break
            got += n
        if got < size:
            break
        frames += 1
    process.wait()
    return frames


def measure(label: str, job: Callable[[], int]) -> None:
    c0, t0 = _cpu(), time.perf_counter()
    frames = job()
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    print(f"  {label:34s} {frames / wall:7.1f} frames/s  wall {wall:5.2f} s  cpu {cpu:5.2f} s", flush=True)


def bench(path: Path) -> None:
    info = probe(path)
    w, h = info.width, info.height
    print(f"{path.name}: {w}x{h}, {info.frame_count} frames")
    measure("iter_frames yuv (views)", lambda: sum(1 for _ in iter_frames(info)))
    measure("iter_frames bgr", lambda: sum(1 for _ in iter_frames(info, output="bgr")))
    for thread_type in ("AUTO", "FRAME", "SLICE", "NONE"):
        measure(f"PyAV decode only, threads {thread_type}", lambda t=thread_type: pyav_raw(path, t))
    measure("ffmpeg pipe yuv420p", lambda: pipe(path, "yuv420p", w, h))
    measure("ffmpeg pipe bgr24", lambda: pipe(path, "bgr24", w, h))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, nargs="*")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as tmp:
        clips = list(args.input or [])
        if not clips:
            for size in ("1280x720", "1920x1080"):
                path = Path(tmp) / f"clip_{size}.mp4"
                print(f"generating {size} {args.seconds}s ...", flush=True)
                make_clip(path, size, args.seconds, 60)
                clips.append(path)
        for path in clips:
            bench(path)


if __name__ == "__main__":
    main()
