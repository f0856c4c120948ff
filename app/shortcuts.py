"""Every keyboard shortcut of the window, in one table: the actions take their
keys from here and Help > Keyboard shortcuts lists it, so they cannot disagree."""

from __future__ import annotations

# (action name, keys, what it does) in the order the help lists them.
SHORTCUTS: list[tuple[str, tuple[str, ...], str]] = [
    ("play", ("Space",), "Play / pause"),
    ("shuttle_back", ("J",), "Play backwards (press again: faster)"),
    ("shuttle_stop", ("K",), "Pause"),
    ("shuttle_fwd", ("L",), "Play forwards (press again: 2×, 4×, 8×)"),
    ("prev_frame", ("Left",), "Previous frame"),
    ("next_frame", ("Right",), "Next frame"),
    ("back_second", ("Shift+Left",), "Back one second"),
    ("fwd_second", ("Shift+Right",), "Forward one second"),
    ("prev_key", ("Up",), "Previous keyframe of the selected track"),
    ("next_key", ("Down",), "Next keyframe of the selected track"),
    ("start", ("Home",), "First frame"),
    ("end_frame", ("End",), "Last frame"),
    ("goto", ("Ctrl+G",), "Go to a time or frame number"),
    ("mark_in", ("I",), "Mark in (segment start)"),
    ("mark_out", ("O",), "Mark out (segment end, included)"),
    ("clear_marks", ("Alt+X",), "Clear the marks"),
    ("segment", ("S",), "New segment from the marks (blackout and/or mute/tone, with a reason)"),
    ("redact", ("R",), "Redact the selected tracks (default reason; D3-MINOR for possible minors)"),
    ("redact_reason", ("Ctrl+Shift+R",), "Redact the selected tracks with a chosen reason"),
    ("release", ("Shift+R",), "Release the selected tracks (a possible minor needs a reason)"),
    ("undecide", ("U",), "Clear the decision on the selected tracks"),
    ("draw", ("D",), "Draw a manual region (Esc to stop)"),
    ("add_key", ("A",), "Add a keyframe on this frame (selected track)"),
    ("delete_key", ("Delete",), "Delete the keyframe on this frame (selected track)"),
    ("extend", ("E",), "Extend the selected track to this frame"),
    ("end", ("Shift+E",), "End the selected track on this frame"),
    ("split", ("X",), "Split the selected track at this frame"),
    ("merge", ("M",), "Merge the selected tracks"),
    ("delete", ("Shift+Delete",), "Delete the selected track or segment"),
    ("preview", ("P",), "Preview the release exactly as export burns it"),
    ("fit", ("F",), "Zoom the picture to fit"),
    ("zoom_in", ("=", "+"), "Zoom in (also Ctrl+wheel)"),
    ("zoom_out", ("-",), "Zoom out"),
    ("timeline_fit", ("Shift+F",), "Fit the whole recording in the timeline (Ctrl+wheel zooms it)"),
    ("review", ("F6",), "Review pass on / off"),
    ("review_next", ("N",), "Next review item"),
    ("review_prev", ("Shift+N",), "Previous review item"),
    ("detect", ("Ctrl+D",), "Detect faces"),
    ("export", ("Ctrl+E",), "Export the release"),
    ("undo", ("Ctrl+Z",), "Undo"),
    ("redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo"),
    ("new_case", ("Ctrl+N",), "New case"),
    ("open_case", ("Ctrl+O",), "Open case"),
    ("ingest", ("Ctrl+I",), "Add a recording (or drop files on the window)"),
    ("switch_user", ("Ctrl+U",), "Switch user"),
    ("close_case", ("Ctrl+W",), "Close the case"),
    ("quit", ("Ctrl+Q",), "Quit"),
    ("shortcuts", ("F1",), "This list"),
]

_KEYS = {name: keys for name, keys, _ in SHORTCUTS}


def keys(action: str) -> tuple[str, ...]:
    return _KEYS.get(action, ())
