"""The installed Qt binding is one the window can live with.

PySide6 6.12.0 loses a reference to ``None`` on every call that returns
nothing; on Python 3.11 (where ``None`` is not immortal) the window then
aborts after a few thousand paint calls. pyproject excludes that release; this
test catches it, or a later release with the same fault, on any installation.
"""

from __future__ import annotations

import sys

from tests.window_support import window_env_fixture as window_env  # noqa: F401


def test_void_qt_calls_keep_none_alive(qapp, window_env):  # noqa: ANN001, F811
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(64, 64, QImage.Format_RGB32)
    painter = QPainter(image)
    try:
        before = sys.getrefcount(None)
        for _ in range(2000):
            painter.drawLine(QPointF(1, 1), QPointF(5, 5))
            painter.fillRect(QRectF(1, 1, 5, 5), QColor("red"))
        lost = before - sys.getrefcount(None)
    finally:
        painter.end()
    import PySide6

    assert lost < 100, (f"PySide6 {PySide6.__version__} loses a reference to None per call ({lost} in 4000 calls): "
                        "the window would crash; install another PySide6-Essentials release.")
