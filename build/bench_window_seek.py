"""The review window on a long recording: seek latency, scrubbing, memory.

    /work/venv/bin/python build/bench_window_seek.py [--minutes 60] [--size 1920x1080] [--gop 60] [--seeks 100]
    /work/venv/bin/python build/bench_window_seek.py --input LONG.mp4

Without ``--input`` it generates a one-hour 1080p30 H.264 clip (a one-minute
piece with noise, a keyframe every ``--gop`` frames and B-frames, as body
cameras record, joined end to end by stream copy: generating an hour of 1080p
would take longer than the benchmark). It then drives the window's own frame
server (``app.workers.FrameServer`` over ``redaction.decode.FrameReader``,
exactly what the player uses) and prints:

- the time to open the recording (probe + index) and the first frame;
- seek: the time from asking for a random frame to holding its exact picture
  as a QImage (what the player paints), median / 95th percentile / max;
- scrubbing: requests sent at 60 per second to frames along a drag; how long
  each request takes on the UI thread (it must never wait for a decoder), how
  many were served and how many were dropped as stale, and how far the picture
  lagged behind the mouse;
- resident memory before and after, to show the caches are bounded.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.workers import FrameServer  # noqa: E402
from redaction.decode import FrameReader  # noqa: E402
from redaction.ffmpeg_bin import ffmpeg_exe  # noqa: E402
from redaction.probe import probe  # noqa: E402


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_long_clip(folder: Path, minutes: float, size: str, gop: int) -> Path:
    piece = folder / "piece.mp4"
    seconds = min(60.0, minutes * 60)
    print(f"generating a {seconds:.0f} s {size} piece (gop {gop}, B-frames) ...", flush=True)
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30,noise=alls=6:allf=t",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "superfast", "-crf", "26", "-g", str(gop), "-bf", "2",
         "-pix_fmt", "yuv420p", str(piece)],
        check=True,
    )  # fmt: skip
    copies = max(1, round(minutes * 60 / seconds))
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{piece}'\n" for _ in range(copies)))
    out = folder / f"long_{size}_{minutes:g}min.mp4"
    print(f"joining {copies} copies into {out.name} ...", flush=True)
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", str(out)],
        check=True,
    )  # fmt: skip
    piece.unlink()
    return out


class Probe:
    """Waits, on the calling thread, for the frame server to deliver a given frame."""

    def __init__(self, server: FrameServer) -> None:
        self.cond = threading.Condition()
        self.last: tuple[int, float] | None = None
        self.delivered: list[tuple[int, float]] = []
        server.ready.connect(self._ready, Qt.DirectConnection)

    def _ready(self, index, image, preview) -> None:  # noqa: ANN001
        assert not image.isNull()
        with self.cond:
            self.last = (index, time.perf_counter())
            self.delivered.append(self.last)
            self.cond.notify_all()

    def wait_for(self, index: int, timeout: float = 10.0) -> float:
        deadline = time.perf_counter() + timeout
        with self.cond:
            while self.last is None or self.last[0] != index:
                if not self.cond.wait(max(0.0, deadline - time.perf_counter())):
                    raise TimeoutError(f"frame {index} never arrived")
            return self.last[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench(path: Path, seeks: int) -> None:
    QApplication.instance() or QApplication([])
    base = rss_mb()
    t0 = time.perf_counter()
    info = probe(path)
    reader = FrameReader(info, cache_size=48)
    server = FrameServer(reader)
    waiter = Probe(server)
    server.request(0)
    waiter.wait_for(0)
    opened = time.perf_counter() - t0
    n = info.frame_count
    print(f"{path.name}: {info.width}x{info.height}, {n} frames ({info.duration / 60:.1f} min), "
          f"keyframe every {n / max(1, len(info.keyframes)):.0f} frames")
    print(f"  open (probe + index + first frame): {opened:.2f} s")

    rng = random.Random(7)
    latencies = []
    for _ in range(seeks):
        target = rng.randrange(n)
        reader._cache.clear()  # a fresh jump each time: measure the decode, not the cache
        start = time.perf_counter()
        server.request(target)
        latencies.append((waiter.wait_for(target) - start) * 1000)
    print(f"  seek to a random frame, exact picture as QImage: median {statistics.median(latencies):.0f} ms, "
          f"95th {percentile(latencies, 0.95):.0f} ms, max {max(latencies):.0f} ms over {seeks} seeks")

    steps = []
    for _ in range(30):
        frame = rng.randrange(n - 1)
        server.request(frame)
        waiter.wait_for(frame)
        start = time.perf_counter()
        server.request(frame + 1)
        steps.append((waiter.wait_for(frame + 1) - start) * 1000)
    print(f"  step to the next frame: median {statistics.median(steps):.1f} ms")

    # Scrubbing: a 4-second drag across a tenth of the recording, one request every 1/60 s.
    waiter.delivered.clear()
    served_before, dropped_before = server.served, server.dropped
    request_costs, sent = [], []
    origin = rng.randrange(n - n // 10)
    for i in range(240):
        frame = origin + (i * (n // 10)) // 240
        start = time.perf_counter()
        server.request(frame)
        request_costs.append((time.perf_counter() - start) * 1e6)
        sent.append((frame, start))
        time.sleep(1 / 60)
    final = sent[-1][0]
    settle_start = time.perf_counter()
    waiter.wait_for(final)
    settle = (time.perf_counter() - settle_start) * 1000
    sent_at = {frame: t for frame, t in sent}
    lags = [(t - sent_at[f]) * 1000 for f, t in waiter.delivered if f in sent_at]
    served = server.served - served_before
    dropped = server.dropped - dropped_before
    print(f"  scrub: 240 requests in 4 s; a request costs the UI thread {statistics.median(request_costs):.0f} µs "
          f"median ({max(request_costs):.0f} µs max); {served} pictures shown, {dropped} stale requests dropped; "
          f"picture behind the mouse by {statistics.median(lags):.0f} ms median; last frame {settle:.0f} ms after "
          "the mouse stopped")
    server.close()
    reader.close()
    print(f"  memory: {base:.0f} MB before, {rss_mb():.0f} MB after (frame cache bounded at 48 frames)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--gop", type=int, default=60)
    parser.add_argument("--seeks", type=int, default=100)
    args = parser.parse_args()
    if args.input:
        bench(args.input, args.seeks)
        return
    with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp:
        bench(make_long_clip(Path(tmp), args.minutes, args.size, args.gop), args.seeks)


if __name__ == "__main__":
    main()
