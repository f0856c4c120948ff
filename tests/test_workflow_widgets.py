"""The due-dates dashboard and the next-of-kin preview window (offscreen Qt)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QAction, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget  # noqa: E402

from app.workflows.dashboard import DueDashboard  # noqa: E402
from app.workflows.preview import PreviewWindow  # noqa: E402
from review.nok import PreviewSession  # noqa: E402
from review.workdays import WorkCalendar  # noqa: E402
from tests.review_support import base_clip_fixture, fast_hashing_fixture, open_as, password, reviewed_case  # noqa: E402,F401
from tests.workflow_support import critical_case  # noqa: E402

NOW = datetime.fromisoformat("2026-11-09T00:00:00+00:00")


def _statuses(board: DueDashboard) -> list[tuple[str, str]]:
    return [(board.table.item(r, 2).text(), board.table.item(r, 0).text()) for r in range(board.table.rowCount())]


def test_dashboard_lists_overdue_first_and_marks_through_the_case(qtbot, tmp_path, monkeypatch):
    case = critical_case(tmp_path / "case")
    case.set_incident_facts(False)
    case.sign_in("chief", password("chief"))
    case.mark_done("C1", "2026-11-04T08:00:00-07:00")
    calendar = WorkCalendar("America/Denver")
    board = DueDashboard(lambda now: case.clocks(NOW, calendar), calendar,
                         lambda item, note: case.mark_done(item.key, note=note))
    qtbot.addWidget(board)
    rows = _statuses(board)
    assert rows[0] == ("C2", "OVERDUE")  # due 8 Nov 14:05 MST
    assert ("D1", "due") in rows and ("C1", "done") in rows
    assert "1 overdue" in board.summary.text()
    board.only_open.setChecked(True)
    assert "C1" not in [k for k, _ in _statuses(board)] and "D4a" not in [k for k, _ in _statuses(board)]
    # Mark C2 done as the approver, from the dashboard.
    row = [k for k, _ in _statuses(board)].index("C2")
    board.table.selectRow(row)
    assert board.mark_button.isEnabled()
    assert board.mark(board.selected_item(), "links sent by secure share")
    assert "C2" not in [k for k, _ in _statuses(board)]
    # A preview host is refused by the case layer; the board shows the sentence and does not crash.
    case.sign_in("paul", password("paul"))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    d1 = next(i for i in board.items if i.key == "D1")
    assert not board.mark(d1)
    assert shown and "may not mark critical-incident deadlines" in shown[0]
    case.close()


def test_dashboard_for_a_registry_and_without_incidents(qtbot, tmp_path):
    from tests.workflow_support import make_registry, open_registry

    critical_case(tmp_path / "case").close()
    registry = open_registry(make_registry(tmp_path / "registry"), "alice")
    empty = DueDashboard.for_registry(registry)
    qtbot.addWidget(empty)
    assert empty.table.rowCount() == 0 and "No critical-incident case" in empty.summary.text()
    registry.register_case(tmp_path / "case")
    empty.refresh(NOW)
    assert empty.table.rowCount() >= 6 and not empty.mark_button.isVisible()
    registry.close()


@pytest.fixture(name="viewing_case")
def viewing_case_fixture(tmp_path, base_clip):
    path, rec_id = reviewed_case(tmp_path, base_clip)
    case = open_as(path, "alice")
    case.export(rec_id)
    case.add_content_warning(rec_id, 20, 25, "use of force")
    case.sign_in("paul", password("paul"))
    yield case, rec_id
    case.close()


def test_preview_records_the_viewing_and_shows_the_watermark(qtbot, viewing_case):
    case, rec_id = viewing_case
    source = case.preview_sources()[0]
    session = PreviewSession(case, source, ["Maria Roe"])
    window = PreviewWindow(session)
    qtbot.addWidget(window)
    ended = []
    window.ended.connect(ended.append)
    window.begin()
    window.resize(640, 400)
    window.show()
    viewing = session.viewing
    assert viewing is not None and viewing.ended_at is None and viewing.host == "paul"
    assert case.viewing(viewing.id).started_at == viewing.started_at
    text = window.screen_view.watermark
    assert case.info().case_id in text and viewing.id in text
    # The watermark is painted over the picture: the top band differs from the frame without it.
    with_mark = window.screen_view.grab().toImage()
    window.screen_view.watermark = ""
    without = window.screen_view.grab().toImage()
    window.screen_view.watermark = text
    assert with_mark != without
    # No way to take the footage: no actions, no context menu, copy puts nothing on the clipboard.
    assert window.contextMenuPolicy() == Qt.NoContextMenu
    assert window.findChildren(QAction) == []
    QApplication.clipboard().clear()
    qtbot.keyClick(window, Qt.Key_C, Qt.ControlModifier)
    assert QApplication.clipboard().text() == "" and QApplication.clipboard().image().isNull()
    window.close()
    assert ended and ended[0].ended_at is not None
    assert case.viewing(viewing.id).ended_at == ended[0].ended_at


def test_preview_pauses_before_a_content_warning_and_skips_past_it(qtbot, viewing_case):
    case, _ = viewing_case
    window = PreviewWindow(PreviewSession(case, case.preview_sources()[0], ["Maria Roe"]))
    qtbot.addWidget(window)
    window.begin()
    window.play()
    for _ in range(30):
        window.tick()
        if not window.playing:
            break
    assert not window.playing and "use of force" in window.banner.text()
    assert window.position < 20
    warning, go, skip = window.warning_buttons[0]
    skip.click()
    assert window.position == 25
    go.click()
    assert window.position == 20
    window.end_viewing()


def test_other_windows_shortcuts_are_blocked_while_viewing(qtbot, viewing_case):
    case, _ = viewing_case
    other = QWidget()
    qtbot.addWidget(other)
    fired = []
    export = QAction("Export", other)
    export.setShortcut(QKeySequence("Ctrl+E"))
    export.setShortcutContext(Qt.ApplicationShortcut)
    export.triggered.connect(lambda: fired.append("export"))
    other.addAction(export)
    other.show()
    window = PreviewWindow(PreviewSession(case, case.preview_sources()[0], ["Maria Roe"]))
    qtbot.addWidget(window)
    window.begin()
    # Shortcuts only reach an active window; windows left by earlier tests may still hold focus.
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key_E, Qt.ControlModifier)
    assert fired == [] and window.blocker.blocked >= 1
    window.end_viewing()
    with qtbot.waitActive(other):
        other.activateWindow()
    qtbot.keyClick(other, Qt.Key_E, Qt.ControlModifier)
    assert fired == ["export"]  # the filter is gone with the viewing


def test_the_workflows_menu_of_a_main_window(qtbot, viewing_case, monkeypatch):
    from types import SimpleNamespace

    from PySide6.QtWidgets import QMainWindow

    from app.workflows.menu import install

    case, _ = viewing_case
    window = QMainWindow()
    qtbot.addWidget(window)
    window.session = None
    menu = install(window)
    assert [a.text() for a in menu.menu.actions()] == ["Critical-incident &deadlines…", "Next-of-kin &viewing…"]
    assert not menu.viewing.isEnabled() and menu.show_deadlines() is None
    window.session = SimpleNamespace(case=case)
    menu._update()
    assert menu.viewing.isEnabled()
    board = menu.show_deadlines()
    qtbot.addWidget(board)
    assert "No critical-incident case" in board.summary.text()  # this case is not a critical incident
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    case.sign_in("alice", password("alice"))
    assert menu.start_viewing() is None and "may not host a next-of-kin viewing" in warnings[0]
    case.sign_in("paul", password("paul"))
    preview = menu.start_viewing((case.preview_sources()[0], ["Maria Roe"], ""))
    qtbot.addWidget(preview)
    assert preview.isFullScreen() and preview.session.viewing.host == "paul"
    preview.close()
    assert case.viewing(preview.session.viewing.id).ended_at is not None
