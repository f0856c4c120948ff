"""The window's look: a dark Fusion theme (video tools are used in dim rooms and
a dark frame around the picture does not change how it is judged), one accent
colour, and the colours of redaction states used everywhere (player, tracks
panel, timeline) so a state looks the same wherever it appears."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor("#4c8dff")
STATE_COLORS = {
    "redact": QColor("#e5484d"),  # will be hidden in the release
    "undecided": QColor("#f2c94c"),  # hidden until decided; blocks export
    "release": QColor("#30a46c"),  # shown on purpose
    "minor": QColor("#f76b15"),  # possible minor: never shown without a reason
    "manual": QColor("#3e9bff"),  # drawn by a person
    "detecting": QColor("#a0a0a0"),  # found so far by a running detection
}
STATE_LABELS = {
    "redact": "Redact",
    "undecided": "Undecided",
    "release": "Release",
    "minor": "Possible minor",
    "manual": "Manual region",
    "detecting": "Detecting…",
}
SEGMENT_COLOR = QColor("#8e4ec6")
MARK_COLOR = QColor("#4c8dff")

_SHEET = """
QToolBar { spacing: 4px; padding: 3px; border: none; border-bottom: 1px solid #2b2d31; }
QToolButton { padding: 4px 8px; border-radius: 4px; }
QToolButton:hover { background: #34373d; }
QToolButton:checked { background: #2f4f86; }
QDockWidget::title { padding: 6px; background: #222428; }
QHeaderView::section { background: #26282c; padding: 4px 6px; border: none; border-right: 1px solid #33363b; }
QTableView { gridline-color: #2c2e33; selection-background-color: #2f4f86; }
QStatusBar { border-top: 1px solid #2b2d31; }
QStatusBar QLabel { padding: 0 8px; }
QPushButton { padding: 5px 14px; border-radius: 4px; border: 1px solid #3d4047; background: #2b2d31; }
QPushButton:hover { background: #34373d; border-color: #4c8dff; }
QPushButton:pressed { background: #2f4f86; }
QPushButton:disabled { color: #6b6f77; border-color: #2e3035; }
QPushButton:default { border: 1px solid #4c8dff; }
QFrame#reviewBar { background: #2a2417; border: 1px solid #6b5316; border-radius: 4px; }
QFrame#reviewBar QLabel { color: #f2d98c; }
QLabel#title { font-size: 20pt; font-weight: 600; }
QLabel#subtitle { color: #a9adb5; }
QLabel#badgeMinor { color: #f76b15; font-weight: 600; }
"""


def apply_theme(app: QApplication) -> None:
    if app.property("bwc_theme"):
        return
    app.setProperty("bwc_theme", True)
    app.setStyle("Fusion")
    palette = QPalette()
    base, window, text = QColor("#1b1c1f"), QColor("#202225"), QColor("#e6e7ea")
    palette.setColor(QPalette.Window, window)
    palette.setColor(QPalette.WindowText, text)
    palette.setColor(QPalette.Base, base)
    palette.setColor(QPalette.AlternateBase, QColor("#232529"))
    palette.setColor(QPalette.ToolTipBase, QColor("#2b2d31"))
    palette.setColor(QPalette.ToolTipText, text)
    palette.setColor(QPalette.Text, text)
    palette.setColor(QPalette.Button, QColor("#2b2d31"))
    palette.setColor(QPalette.ButtonText, text)
    palette.setColor(QPalette.BrightText, QColor("#ff6b6b"))
    palette.setColor(QPalette.Highlight, ACCENT)
    palette.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.Link, ACCENT)
    palette.setColor(QPalette.PlaceholderText, QColor("#7d818a"))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        palette.setColor(QPalette.Disabled, role, QColor("#6b6f77"))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(max(9.0, font.pointSizeF()))
    app.setFont(font)
    app.setStyleSheet(_SHEET)


def track_state(track, detecting: bool = False) -> str:  # noqa: ANN001 - a redaction.plan.Track
    """The colour key of a track: what a reviewer most needs to know about it."""
    if detecting:
        return "detecting"
    if track.decision == "release":
        return "release"
    if track.possible_minor:
        return "minor"
    if track.kind == "manual":
        return "manual"
    return "redact" if track.decision == "redact" else "undecided"
