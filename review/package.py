"""The files of a release package besides the video: the manifest, the redaction
log as CSV and as an HTML page, and SHA256SUMS.

The log says what was withheld, when in the recording, where in the frame,
under which category and citation, who redacted and who approved it, and never
what it shows: no pictures, no notes, no names of the people hidden. It is
meant as the basis of a GRAMA response.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redaction.plan import Plan, Segment, Track

from .reasons import ReasonTable

MANIFEST_FORMAT = "bwc-redact-release-manifest"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class Redaction:
    id: str
    what: str
    start_frame: int
    end_frame: int  # exclusive
    start_time: str
    end_time: str
    region: str  # "x,y,w,h" in display pixels, "whole frame" or "audio only"
    category: str
    category_label: str
    citation: str
    classification: str
    redacted_by: str
    redacted_at: str
    approved_by: str
    approved_at: str

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def fps_timecode(fps: float) -> Callable[[int], str]:
    """Frame -> ``HH:MM:SS.mmm`` at a constant rate (truncated, never later than the frame)."""

    def timecode(frame: int) -> str:
        ms = math.floor(frame * 1000 / fps + 1e-6) if fps > 0 else 0
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"

    return timecode


def track_span(track: Track) -> tuple[int, int]:
    """First frame with a box and the frame after the last one, as ``box_at`` draws it."""
    keys = track.keyframes
    starts, ends = [], []
    for i, key in enumerate(keys):
        if key.box is None:
            continue
        starts.append(key.frame)
        ends.append(keys[i + 1].frame if i + 1 < len(keys) else key.frame + 1)
    return min(starts), max(ends)


def track_region(track: Track, width: int, height: int) -> str:
    """The union of every box of the track, clipped to the frame (interpolated boxes
    lie between keyframe boxes, so the keyframes bound them all)."""
    union = None
    for key in track.keyframes:
        if key.box is not None:
            union = key.box if union is None else union.union(key.box)
    bounds = union.pixel_bounds(width, height) if union is not None else None
    if bounds is None:
        return "outside the frame"
    x0, y0, x1, y1 = bounds
    return f"{x0},{y0},{x1 - x0},{y1 - y0}"


def _segment_what(segment: Segment) -> str:
    parts = []
    if segment.video == "blackout":
        parts.append("whole picture blacked out")
    if segment.audio == "mute":
        parts.append("sound muted")
    elif segment.audio == "tone":
        parts.append("sound replaced by a tone")
    return " and ".join(parts).capitalize()


def redactions(
    plan: Plan,
    reasons: ReasonTable,
    deciders: dict[str, tuple[str, str]],
    segment_authors: dict[str, tuple[str, str]],
    approver: tuple[str, str],
    timecode: Callable[[int], str] | None = None,
) -> list[Redaction]:
    """Every redaction of ``plan`` in time order. ``deciders`` maps a track id to
    (user, time) of its redact decision, ``segment_authors`` a segment id to the
    (user, time) of its last change; ``timecode`` turns a frame index into a time
    (the probe's per-frame table; a constant frame rate if not given)."""
    width, height = plan.video.width, plan.video.height
    timecode = timecode or fps_timecode(plan.video.fps)
    out = []
    for track in plan.tracks:
        if track.decision == "release":
            continue
        start, end = track_span(track)
        reason = reasons.get(track.reason) if track.reason else None
        who, when = deciders.get(track.id, ("", ""))
        what = "Face" if track.kind == "face" else f"Region ({track.label})"
        out.append(Redaction(
            track.id, what, start, end, timecode(start), timecode(end), track_region(track, width, height),
            track.reason or "", reason.label if reason else "", reason.citation if reason else "",
            reason.grama if reason else "", who, when, *approver,
        ))
    for segment in plan.segments:
        reason = reasons.get(segment.reason) if segment.reason else None
        who, when = segment_authors.get(segment.id, ("", ""))
        region = "whole frame" if segment.video == "blackout" else "audio only"
        out.append(Redaction(
            segment.id, _segment_what(segment), segment.start, segment.end, timecode(segment.start),
            timecode(segment.end), region, segment.reason or "", reason.label if reason else "",
            reason.citation if reason else "", reason.grama if reason else "", who, when, *approver,
        ))
    out.sort(key=lambda r: (r.start_frame, r.id))
    return out


CSV_COLUMNS = (
    ("id", "redaction"),
    ("what", "what"),
    ("start_time", "from"),
    ("end_time", "to"),
    ("start_frame", "from frame"),
    ("end_frame", "to frame (exclusive)"),
    ("region", "region x,y,w,h"),
    ("category", "category code"),
    ("category_label", "category"),
    ("citation", "citation"),
    ("classification", "classification"),
    ("redacted_by", "redacted by"),
    ("redacted_at", "redacted at (UTC)"),
    ("approved_by", "approved by"),
    ("approved_at", "approved at (UTC)"),
)


def log_csv(rows: list[Redaction]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([title for _, title in CSV_COLUMNS])
    for row in rows:
        writer.writerow([getattr(row, key) for key, _ in CSV_COLUMNS])
    return buffer.getvalue()


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
code { font-size: 0.85em; word-break: break-all; }
"""


def log_html(manifest: dict[str, Any], rows: list[Redaction]) -> str:
    e = html.escape
    case, rec, release = manifest["case"], manifest["recording"], manifest["release"]
    facts = [
        ("Case", e(case["title"])),
        ("Recording", f"{e(str(rec['id']))}" + (f", recorded {e(rec['recorded_at'])}" if rec.get("recorded_at") else "")),
        ("Original SHA-256", f"<code>{e(manifest['original']['sha256'])}</code>"),
        ("Release file", e(release["file"])),
        ("Release SHA-256", f"<code>{e(release['sha256'])}</code>"),
        ("Plan SHA-256", f"<code>{e(manifest['plan']['sha256'])}</code>"),
        ("Approved by", f"{e(manifest['approval']['approver'])} at {e(manifest['approval']['approved_at'])}"),
        ("Exported by", f"{e(manifest['exported']['by'])} at {e(manifest['exported']['at'])}"),
    ]
    by_category: dict[str, list[Redaction]] = {}
    for row in rows:
        by_category.setdefault(row.category, []).append(row)
    summary = "".join(
        f"<tr><td>{e(items[0].category_label)} <code>{e(code)}</code></td><td>{e(items[0].citation)}</td>"
        f"<td>{e(items[0].classification)}</td><td>{len(items)}</td></tr>"
        for code, items in sorted(by_category.items())
    )
    detail = "".join(
        "<tr>" + "".join(f"<td>{e(str(getattr(row, key)))}</td>" for key, _ in CSV_COLUMNS) + "</tr>" for row in rows
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Redaction log: {e(case['title'])}, recording {e(str(rec['id']))}</title>
<style>{_STYLE}</style></head><body>
<h1>Redaction log</h1>
<p>This page lists what was withheld from the released recording and why. It describes each redaction
(when, where in the picture, under which category and legal citation) without revealing what it hides.</p>
<dl>{''.join(f'<dt>{k}</dt><dd>{v}</dd>' for k, v in facts)}</dl>
<h2>Withheld, by category ({len(rows)} redactions)</h2>
<table><tr><th>Category</th><th>Citation</th><th>Classification</th><th>Redactions</th></tr>{summary}</table>
<h2>Every redaction</h2>
<p>Times are from the start of the recording; regions are x,y,width,height in pixels of the displayed picture.</p>
<table><tr>{''.join(f'<th>{e(title)}</th>' for _, title in CSV_COLUMNS)}</tr>{detail}</table>
</body></html>
"""


def sha256sums(files: dict[str, str]) -> str:
    return "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items()))
