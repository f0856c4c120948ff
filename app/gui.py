"""Start the review window: the application object, theme, settings, and a
last-resort error handler so no traceback ever reaches the person using it."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from .paths import APP_NAME


def _excepthook(window_getter):  # noqa: ANN001, ANN202
    def hook(kind, value, tb) -> None:  # noqa: ANN001
        from .views.common import describe, show_error

        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        try:
            raise value.with_traceback(tb)
        except BaseException as error:  # noqa: BLE001 - logged with its traceback by describe()
            message = describe("That action", error)
        show_error(window_getter(), "bwc-redact", message)

    return hook


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    from .views.style import apply_theme

    apply_theme(app)
    return app


def run(case: Path | None = None, user: str | None = None, demo: Path | None = None, fresh: bool = False) -> int:
    app = application()
    from .main_window import MainWindow

    window = MainWindow(QSettings())
    sys.excepthook = _excepthook(lambda: window)
    window.show()
    if demo is not None:
        QTimer.singleShot(0, lambda: window.open_demo(demo, fresh))
    elif case is not None:
        QTimer.singleShot(0, lambda: window.open_case(case, user))
    return app.exec()
