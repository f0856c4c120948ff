"""Transport icons drawn with QPainter: crisp at any scale, readable on the dark
theme (the style's standard media icons are dark grey there and look disabled)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap

_SIZE = 32


def _triangle(path: QPainterPath, x: float, w: float, left: bool) -> None:
    top, bottom, mid = 7.0, 25.0, 16.0
    if left:
        path.moveTo(x + w, top)
        path.lineTo(x, mid)
        path.lineTo(x + w, bottom)
    else:
        path.moveTo(x, top)
        path.lineTo(x + w, mid)
        path.lineTo(x, bottom)
    path.closeSubpath()


def _shapes(name: str) -> QPainterPath:
    path = QPainterPath()
    if name == "play":
        _triangle(path, 10, 15, False)
    elif name == "pause":
        path.addRect(QRectF(9, 7, 5, 18))
        path.addRect(QRectF(18, 7, 5, 18))
    elif name == "prev_frame":
        path.addRect(QRectF(8, 8, 3, 16))
        _triangle(path, 12, 11, True)
    elif name == "next_frame":
        _triangle(path, 9, 11, False)
        path.addRect(QRectF(21, 8, 3, 16))
    elif name == "back":
        _triangle(path, 5, 11, True)
        _triangle(path, 16, 11, True)
    elif name == "forward":
        _triangle(path, 5, 11, False)
        _triangle(path, 16, 11, False)
    elif name == "start":
        path.addRect(QRectF(5, 8, 3, 16))
        _triangle(path, 9, 9, True)
        _triangle(path, 18, 9, True)
    elif name == "end":
        _triangle(path, 5, 9, False)
        _triangle(path, 14, 9, False)
        path.addRect(QRectF(24, 8, 3, 16))
    return path


def icon(name: str, color: str = "#e6e7ea") -> QIcon:
    result = QIcon()
    for mode, tint in ((QIcon.Normal, color), (QIcon.Disabled, "#5a5e66"), (QIcon.Active, "#ffffff")):
        pixmap = QPixmap(_SIZE, _SIZE)
        pixmap.fill(Qt.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillPath(_shapes(name), QColor(tint))
        p.end()
        result.addPixmap(pixmap, mode)
    return result

