"""The review window: wires the session, the views, the workers and the actions.

Layout: a toolbar; the player (with the review-pass bar above it and the
transport row below) beside the tracks panel; the timeline underneath; the
status bar with frame, time code, selection, user and the running job.

What each action does to the plan is in ``redaction.edits``; how an edit
reaches the case (and its ledger) is in ``app.state``; decoding and long jobs
are in ``app.workers``. This module only connects them and turns failures into
one-sentence dialogs.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from redaction import edits
from redaction.errors import RedactionError
from redaction.plan import Plan

from .reviewpass import review_items
from .shortcuts import SHORTCUTS, keys
from .state import Session
from .views.common import report_error, show_error
from .views.dialogs import (
    GoToDialog,
    NewCaseDialog,
    ReasonDialog,
    SegmentDialog,
    ShortcutsDialog,
    SignInDialog,
)
from .views.export import ExportDialog
from .views.icons import icon
from .views.panels import JobPanel, ReviewBar, Transport
from .views.player import PlayerView
from .views.timeline import Timeline
from .views.tracks import TracksPanel
from .views.welcome import WelcomePage
from .workers import FrameServer, Job, ThumbnailServer
from .workflows.menu import install as install_workflow_menu

VIDEO_FILTER = "Video files (*.mp4 *.mov *.m4v *.mkv *.avi *.mts *.m2ts *.ts *.webm);;All files (*)"
DEFAULT_REASON = "GRAMA-PRIVATE"
REGION_SECONDS = 3.0  # how long a new manual region lasts when no in/out marks enclose it
MAX_RECENT = 8


def short_time(seconds: float) -> str:
    """Compact time for lists: ``M:SS.s`` (``H:MM:SS`` past an hour); exact times are in the status bar."""
    if seconds >= 3600:
        h, rest = divmod(int(seconds), 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}"
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{int(s * 10) / 10:04.1f}"


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        from PySide6.QtWidgets import QApplication

        from .views.style import apply_theme

        apply_theme(QApplication.instance())
        self.settings = settings or QSettings()
        self.setWindowTitle("bwc-redact")
        self.setAcceptDrops(True)
        self.session: Session | None = None
        self.frames: FrameServer | None = None
        self.thumbs: ThumbnailServer | None = None
        self.readers: list = []
        self.jobs: list[Job] = []
        self.detect_job: Job | None = None
        self.review_index = 0
        self.speed = 0.0  # playback: frames of video per frame of wall time (negative: backwards)
        self._play_origin: tuple[float, int] | None = None
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(15)
        self.play_timer.timeout.connect(self._tick)
        self._build_actions()
        self._build_ui()
        self._build_menus()
        self._update_actions()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        self.welcome.set_recent(self.recent_cases())
        self.toolbar.hide()  # until a case is open

    # ================================================================ building
    def _action(self, name: str, text: str, slot, *, checkable: bool = False, tip: str = "") -> QAction:  # noqa: ANN001
        action = QAction(text, self)
        sequence = keys(name)
        if sequence:
            action.setShortcuts([QKeySequence(k) for k in sequence])
            action.setShortcutContext(Qt.WindowShortcut)
        action.setCheckable(checkable)
        shortcut = f" ({sequence[0]})" if sequence else ""
        action.setToolTip((tip or text.replace("…", "").replace("&", "")) + shortcut)
        action.setStatusTip(tip or text)
        action.triggered.connect(slot)
        self.addAction(action)
        self.a[name] = action
        return action

    def _build_actions(self) -> None:
        self.a: dict[str, QAction] = {}
        A = self._action  # noqa: N806
        A("new_case", "&New case…", self.new_case)
        A("open_case", "&Open case…", self.open_case_dialog)
        A("demo", "Open the &demo case", self.open_demo)
        A("ingest", "&Add recording…", self.add_recording, tip="Copy a recording into the case as evidence")
        A("switch_user", "Switch &user…", self.switch_user)
        A("close_case", "&Close case", self.close_case)
        A("quit", "&Quit", self.close)
        A("undo", "&Undo", self.undo)
        A("redo", "&Redo", self.redo)
        A("redact", "&Redact", lambda: self.decide_selected("redact"), tip="Redact the selected tracks")
        A("redact_reason", "Redact with &reason…", self.redact_with_reason)
        A("release", "Re&lease…", lambda: self.decide_selected("release"), tip="Release the selected tracks")
        A("undecide", "&Clear decision", lambda: self.decide_selected(None))
        A("merge", "&Merge tracks", self.merge, tip="Join the selected tracks into one")
        A("split", "&Split track here", self.split, tip="Cut the selected track in two at this frame")
        A("add_key", "Add &keyframe here", self.add_keyframe, tip="Pin the selected track's box on this frame")
        A("delete_key", "&Delete keyframe here", self.delete_keyframe)
        A("extend", "&Extend track to here", self.extend_track)
        A("end", "End track &here", self.end_track)
        A("delete", "Delete track or segment", self.delete_selected)
        A("default_reason", "Default redaction reason…", self.choose_default_reason)
        A("draw", "&Draw region", self.toggle_draw, checkable=True,
          tip="Draw a box over anything the detector missed (face, screen, document, tattoo, plate)")
        A("preview", "&Preview release", self.toggle_preview, checkable=True,
          tip="Show the frame exactly as the release will burn it")
        A("fit", "Zoom to &fit", lambda: self.player.fit())
        A("zoom_in", "Zoom &in", lambda: self.player.zoom_by(1.25))
        A("zoom_out", "Zoom &out", lambda: self.player.zoom_by(0.8))
        A("timeline_fit", "Fit &timeline", lambda: self.timeline.canvas.fit())
        A("play", "Play / pause", self.toggle_play)
        A("shuttle_back", "Play backwards (J)", lambda: self.shuttle(-1))
        A("shuttle_stop", "Pause (K)", lambda: self.shuttle(0))
        A("shuttle_fwd", "Play forwards (L)", lambda: self.shuttle(1))
        A("prev_frame", "Previous frame", lambda: self.step(-1))
        A("next_frame", "Next frame", lambda: self.step(1))
        A("back_second", "Back one second", lambda: self.step_seconds(-1))
        A("fwd_second", "Forward one second", lambda: self.step_seconds(1))
        A("prev_key", "Previous keyframe", lambda: self.jump_keyframe(-1))
        A("next_key", "Next keyframe", lambda: self.jump_keyframe(1))
        A("start", "First frame", lambda: self.go(0))
        A("end_frame", "Last frame", lambda: self.go(10**12))
        A("goto", "&Go to…", self.go_to_dialog)
        A("mark_in", "Mark &in", lambda: self.mark("in"))
        A("mark_out", "Mark &out", lambda: self.mark("out"))
        A("clear_marks", "&Clear marks", self.clear_marks)
        A("segment", "New &segment from marks…", self.new_segment,
          tip="Black out and/or mute the marked range, with an ordinance reason")
        A("detect", "Detect &faces", self.detect, tip="Find and track every face in the recording")
        A("review", "&Review pass", self.toggle_review, checkable=True,
          tip="Step through every undecided track and every released face that shows")
        A("review_next", "&Next review item", lambda: self.review_step(1))
        A("review_prev", "&Previous review item", lambda: self.review_step(-1))
        A("export", "&Export release…", self.export, tip="Approve and export the release package")
        A("shortcuts", "&Keyboard shortcuts", self.show_shortcuts)
        A("about", "&About bwc-redact", self.about)

    def _build_ui(self) -> None:
        self.stack = QStackedWidget(self)
        self.welcome = WelcomePage()
        self.welcome.openCase.connect(self.open_case_dialog)
        self.welcome.newCase.connect(self.new_case)
        self.welcome.openDemo.connect(self.open_demo)
        self.welcome.openRecent.connect(lambda path: self.open_case(Path(path)))
        self.stack.addWidget(self.welcome)

        self.player = PlayerView()
        self.player.boxEdited.connect(self._box_edited)
        self.player.regionDrawn.connect(self._region_drawn)
        self.player.trackClicked.connect(self._player_track_clicked)
        self.player.wheelSteps.connect(self.step)
        self.player.zoomChanged.connect(lambda z: self.transport.zoom.setText("" if z == 1 else f"zoom {z:.1f}×"))
        self.review_bar = ReviewBar()
        self.review_bar.hide()
        self.review_bar.next.connect(lambda: self.review_step(1))
        self.review_bar.previous.connect(lambda: self.review_step(-1))
        self.review_bar.leave.connect(lambda: self.a["review"].trigger())
        self.review_bar.redact.connect(lambda tid: self.decide([tid], "redact"))
        self.review_bar.release.connect(lambda tid: self.decide([tid], "release"))
        self.transport = Transport([self.a[n] for n in ("start", "back_second", "prev_frame", "play", "next_frame",
                                                         "fwd_second", "end_frame")])
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(4, 4, 4, 0)
        column.setSpacing(4)
        column.addWidget(self.review_bar)
        column.addWidget(self.player, 1)
        column.addWidget(self.transport)

        self.tracks = TracksPanel()
        self.tracks.selectionChanged.connect(lambda ids: self.session and self.session.select_tracks(ids))
        self.tracks.activated.connect(self.jump_to_track)
        self.tracks.decisionClicked.connect(self.toggle_decision)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 4, 4, 0)
        self.tracks_title = QLabel("<b>Tracks</b>")
        rcol.addWidget(self.tracks_title)
        rcol.addWidget(self.tracks, 1)

        top = QSplitter(Qt.Horizontal)
        top.addWidget(left)
        top.addWidget(right)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([900, 520])
        self.timeline = Timeline()
        c = self.timeline.canvas
        c.scrubbed.connect(self._scrub)
        c.trackClicked.connect(self._lane_clicked)
        c.segmentClicked.connect(lambda sid: self.session and self.session.select_segment(sid))
        c.segmentResized.connect(self._segment_resized)
        c.segmentActivated.connect(self.edit_segment)
        self.split_main = QSplitter(Qt.Vertical)
        self.split_main.addWidget(top)
        self.split_main.addWidget(self.timeline)
        self.split_main.setStretchFactor(0, 3)
        self.split_main.setStretchFactor(1, 1)
        self.split_main.setSizes([600, 260])
        self.stack.addWidget(self.split_main)
        self.setCentralWidget(self.stack)

        self.toolbar = bar = self.addToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        bar.addWidget(QLabel(" Recording "))
        self.recording_box = QComboBox()
        self.recording_box.setMinimumWidth(260)
        self.recording_box.setToolTip("The recording under review")
        self.recording_box.activated.connect(self._recording_chosen)
        bar.addWidget(self.recording_box)
        for name in ("ingest", None, "detect", None, "draw", "preview", "review", None, "undo", "redo", None,
                     "export"):
            if name is None:
                bar.addSeparator()
            else:
                bar.addAction(self.a[name])

        status = self.statusBar()
        self.st_frame = QLabel("")
        self.st_select = QLabel("")
        self.st_user = QLabel("")
        self.jobs_panel = JobPanel()
        status.addWidget(self.st_frame)
        status.addWidget(self.st_select, 1)
        status.addPermanentWidget(self.jobs_panel)
        status.addPermanentWidget(self.st_user)

    def _build_menus(self) -> None:
        menus = {
            "&File": ["new_case", "open_case", "@recent", "demo", None, "ingest", None, "switch_user", "close_case",
                      None, "quit"],
            "&Edit": ["undo", "redo", None, "redact", "redact_reason", "release", "undecide", None, "draw", "add_key",
                      "delete_key", "extend", "end", "split", "merge", "delete", None, "default_reason"],
            "&View": ["preview", None, "fit", "zoom_in", "zoom_out", "timeline_fit"],
            "&Playback": ["play", "shuttle_back", "shuttle_stop", "shuttle_fwd", None, "prev_frame", "next_frame",
                          "back_second", "fwd_second", "prev_key", "next_key", "start", "end_frame", None, "goto"],
            "&Marks": ["mark_in", "mark_out", "clear_marks", None, "segment"],
            "&Review": ["detect", None, "review", "review_next", "review_prev", None, "export"],
            "&Help": ["shortcuts", None, "about"],
        }
        for title, names in menus.items():
            menu = self.menuBar().addMenu(title)
            menu.setToolTipsVisible(True)
            for name in names:
                if name is None:
                    menu.addSeparator()
                elif name == "@recent":
                    self.recent_menu = menu.addMenu("Open &recent")
                    self.recent_menu.aboutToShow.connect(self._fill_recent)
                else:
                    menu.addAction(self.a[name])
        install_workflow_menu(self)  # Workflows: deadlines dashboard, next-of-kin viewing (app.workflows)
        self._set_icons()

    def _set_icons(self) -> None:
        for name, shape in (("start", "start"), ("back_second", "back"), ("prev_frame", "prev_frame"),
                            ("play", "play"), ("next_frame", "next_frame"), ("fwd_second", "forward"),
                            ("end_frame", "end")):
            self.a[name].setIcon(icon(shape))

    # ================================================================ cases
    def recent_cases(self) -> list[str]:
        value = self.settings.value("recent/cases", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent_cases() if p != str(path)]
        self.settings.setValue("recent/cases", items[:MAX_RECENT])
        self.welcome.set_recent(self.recent_cases())

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_cases():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.open_case(Path(p)))
        if not self.recent_cases():
            self.recent_menu.addAction("No recent cases").setEnabled(False)

    def open_case_dialog(self) -> None:
        start = self.settings.value("paths/last_case_dir", str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, "Open case folder", str(start))
        if path:
            self.open_case(Path(path))

    def new_case(self) -> None:
        dialog = NewCaseDialog(self, str(self.settings.value("paths/last_case_dir", "")))
        if dialog.exec() and dialog.result_case is not None:
            self._use_case(dialog.result_case)

    def open_case(self, path: Path, user: str | None = None, password: str | None = None, *,
                  recording: int | None = None, then=None) -> bool:  # noqa: ANN001
        """Open a case folder and sign in (asking for the password unless given); open
        ``recording`` (default: the newest) and call ``then`` once it shows."""
        from review import Case

        try:
            case = Case.open(path)
        except RedactionError as error:
            show_error(self, "Open case", str(error))
            return False
        if password is not None and user:
            try:
                case.sign_in(user, password)
            except RedactionError as error:
                case.close()
                show_error(self, "Sign in", str(error))
                return False
        else:
            dialog = SignInDialog(case.info().title, case.sign_in, [u.name for u in case.users() if u.active],
                                  user, self)
            if not dialog.exec():
                case.close()
                return False
        self._use_case(case, recording, then)
        return True

    def _use_case(self, case, recording: int | None = None, then=None) -> None:  # noqa: ANN001
        self.close_case()
        self.session = s = Session(case, self)
        s.planChanged.connect(self._plan_changed)
        s.provisionalChanged.connect(self._plan_changed)
        s.frameChanged.connect(self._frame_changed)
        s.selectionChanged.connect(self._selection_changed)
        s.marksChanged.connect(self._marks_changed)
        s.userChanged.connect(self._update_actions)
        s.recordingChanged.connect(self._update_actions)
        s.error.connect(lambda m: show_error(self, "Undo", m))
        s.undo.indexChanged.connect(self._update_actions)
        root = case.layout.root
        self.settings.setValue("paths/last_case_dir", str(root.parent))
        self._remember(root)
        self.setWindowTitle(f"{case.info().title} — bwc-redact")
        self.stack.setCurrentWidget(self.split_main)
        self.toolbar.show()
        self._fill_recordings()
        recordings = case.recordings()
        if recordings:
            self.open_recording(recording if recording is not None else recordings[-1].id, then=then)
        else:
            self.player.message = ("This case has no recordings yet.\nAdd one with Ctrl+I or drop a video file "
                                   "on this window.")
            self.player.update()
        self._update_actions()

    def close_case(self) -> None:
        self.stop()
        for job in list(self.jobs):
            job.cancel()
        self._close_servers()
        if self.session is not None:
            self.session.case.close()
            self.session.deleteLater()
            self.session = None
        self.recording_box.clear()
        self.player.set_plan(None)
        self.player.image = None
        self.player.message = ""
        self.tracks.set_tracks(None, [], [])
        self.timeline.canvas.frame_count = 0
        self.timeline.canvas.plan = None
        self.timeline.canvas.update()
        self.stack.setCurrentWidget(self.welcome)
        self.toolbar.hide()
        self.setWindowTitle("bwc-redact")
        self._update_actions()

    def _close_servers(self) -> None:
        for server in (self.frames, self.thumbs):
            if server is not None:
                server.close()
        self.frames = self.thumbs = None
        for reader in self.readers:
            reader.close()
        self.readers = []

    def switch_user(self) -> None:
        if self.session is None:
            return
        case = self.session.case
        dialog = SignInDialog(case.info().title, self.session.sign_in, [u.name for u in case.users() if u.active],
                              None, self)
        dialog.exec()
        self._update_actions()

    # ================================================================ recordings
    def _fill_recordings(self) -> None:
        self.recording_box.clear()
        if self.session is None:
            return
        for rec in self.session.case.recordings():
            self.recording_box.addItem(f"{rec.id}: {rec.original_name}", rec.id)

    def _recording_chosen(self, index: int) -> None:
        rec_id = self.recording_box.itemData(index)
        if rec_id is not None and (self.session.recording is None or self.session.recording.id != rec_id):
            self.open_recording(rec_id)

    def open_recording(self, rec_id: int, then=None) -> None:  # noqa: ANN001
        """Probe and open a recording on a worker (an hour of footage takes a moment to index)."""
        from redaction.decode import FrameReader
        from redaction.probe import probe

        s = self.session
        self.stop()
        self.player.message = "Opening the recording…"
        self.player.image = None
        self.player.update()

        def work(progress, cancel):  # noqa: ANN001, ANN202
            rec = s.case.recording(rec_id)
            info = probe(rec.path)
            player = FrameReader(info, cache_size=48)
            thumbs = FrameReader(info, cache_size=2, threads=1)
            return rec, info, s.case.plan(rec.id), player, thumbs

        def opened(result) -> None:  # noqa: ANN001
            if self.session is not s:
                for reader in result[3:]:
                    reader.close()
                return
            self._install_recording(*result)
            if then:
                then()

        self.start_job(Job("Opening recording", work, self), opened, quiet=True)

    def _install_recording(self, rec, info, plan, player_reader, thumb_reader) -> None:  # noqa: ANN001
        self._close_servers()
        s = self.session
        self.readers = [player_reader, thumb_reader]
        self.frames = FrameServer(player_reader, self)
        self.frames.ready.connect(self._frame_ready)
        self.frames.failed.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.thumbs = ThumbnailServer(thumb_reader, self.frames.idle, parent=self)
        self.thumbs.ready.connect(self._thumb_ready)
        self.tracks.model.thumbs = self.thumbs
        self.tracks.model.fps = info.fps or 30.0
        self.tracks.model.timecode = lambda f: short_time(info.timebase.seconds(f))
        self.player.set_video(info.width, info.height)
        self.player.message = ""
        key_frames = [i for i in (info.timebase.index_of_pts(k.pts) for k in info.keyframes) if i is not None]
        self.timeline.canvas.thumbs = self.thumbs
        self.timeline.canvas.set_video(info.frame_count, info.fps, info.timebase.timecode, key_frames)
        i = self.recording_box.findData(rec.id)
        if i < 0:
            self._fill_recordings()
            i = self.recording_box.findData(rec.id)
        self.recording_box.setCurrentIndex(i)
        s.recording, s.info, s.plan = rec, info, plan
        s.frame = -1
        s.selected, s.selected_segment, s.mark_in, s.mark_out, s.provisional = [], None, None, None, []
        s.undo.clear()
        s.recordingChanged.emit()
        s.planChanged.emit()
        s.selectionChanged.emit()
        s.marksChanged.emit()
        s.set_frame(0)
        self._load_waveform(info)
        self.statusBar().showMessage(
            f"Recording {rec.id}: {info.width}×{info.height}, {info.frame_count} frames, "
            f"{info.timebase.timecode(info.frame_count - 1)}", 6000)

    def _load_waveform(self, info) -> None:  # noqa: ANN001
        from .audio import frame_peaks

        canvas = self.timeline.canvas
        if info.main_audio is None:
            canvas.no_audio = True
            canvas.update()
            return
        job = Job("Reading audio", lambda progress, cancel: frame_peaks(info, progress=progress, cancel=cancel), self)

        def done(peaks) -> None:  # noqa: ANN001
            if self.session and self.session.info is info:
                canvas.peaks = peaks
                canvas.no_audio = peaks is None
                canvas.update()

        self.start_job(job, done, quiet=True)

    def add_recording(self) -> None:
        if self.session is None:
            return
        start = self.settings.value("paths/last_video_dir", str(Path.home()))
        files, _ = QFileDialog.getOpenFileNames(self, "Add recordings to the case", str(start), VIDEO_FILTER)
        if files:
            self.settings.setValue("paths/last_video_dir", str(Path(files[0]).parent))
            self.ingest([Path(f) for f in files])

    def ingest(self, files: list[Path]) -> None:
        """Copy files into the case one after another; open the last and detect faces in it."""
        if self.session is None or not files:
            return
        s = self.session
        path, rest = files[0], files[1:]
        job = Job(f"Adding {path.name}", lambda progress, cancel: s.case.ingest(path, progress=progress,
                                                                                 cancel=cancel), self)

        def done(result) -> None:  # noqa: ANN001
            self._fill_recordings()
            if result.duplicate:
                self.statusBar().showMessage(f"{path.name} is already in the case as recording "
                                             f"{result.recording.id} (same SHA-256).", 8000)
            if rest:
                self.ingest(rest)
            else:
                self.open_recording(result.recording.id, then=self._detect_if_new)

        self.start_job(job, done)

    def _detect_if_new(self) -> None:
        s = self.session
        if s and s.plan is not None and not s.plan.engine and s.can_edit:
            self.detect()

    def dragEnterEvent(self, event) -> None:  # noqa: ANN001, N802
        if self.session is not None and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: ANN001, N802
        files = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        files = [f for f in files if f.is_file()]
        if files:
            self.ingest(files)

    # ================================================================ jobs
    def start_job(self, job: Job, on_success, quiet: bool = False) -> Job:  # noqa: ANN001
        self.jobs.append(job)

        def succeeded(result) -> None:  # noqa: ANN001
            try:
                on_success(result)
            except Exception as error:  # noqa: BLE001 - one sentence, never a traceback
                report_error(self, job.title, error)

        job.succeeded.connect(succeeded)
        job.failed.connect(lambda m: show_error(self, job.title, m))
        job.cancelled.connect(lambda: self.statusBar().showMessage(f"{job.title}: cancelled; nothing was kept.", 6000))
        job.ended.connect(lambda: self.jobs.remove(job) if job in self.jobs else None)
        job.ended.connect(self._update_actions)
        if not quiet:
            self.jobs_panel.track(job)
        job.start()
        self._update_actions()
        return job

    def detect(self) -> None:
        s = self.session
        if s is None or s.recording is None or self.detect_job is not None:
            return
        replace = False
        if s.plan.tracks or s.plan.segments:
            answer = QMessageBox.question(
                self, "Detect faces again",
                f"Recording {s.recording.id} already has {len(s.plan.tracks)} tracks and {len(s.plan.segments)} "
                "segments. Detecting again replaces them (their history stays in the ledger). Continue?")
            if answer != QMessageBox.Yes:
                return
            replace = True
        from .detection import detection_plan

        rec = s.recording
        job = Job("Detecting faces", lambda progress, cancel: detection_plan(
            rec.path, progress=progress, cancel=cancel, on_update=lambda tracks: job.update.emit(tracks),
            sha256=rec.sha256), self)
        job.update.connect(lambda tracks: self.session is s and s.show_provisional(tracks))
        self.detect_job = job

        def finished(plan) -> None:  # noqa: ANN001
            if self.session is not s:
                return
            s.record_detection(plan, replace)
            minors = sum(1 for t in s.plan.tracks if t.possible_minor)
            self.statusBar().showMessage(
                f"Detection found {len(s.plan.tracks)} faces ({minors} possible minors); every one is undecided "
                "until you decide it — start the review pass with F6.", 12000)

        def ended() -> None:
            self.detect_job = None
            if self.session is s:
                s.show_provisional([])

        job.ended.connect(ended)
        self.start_job(job, finished)

    # ================================================================ frames
    def _frame_changed(self, frame: int) -> None:
        s = self.session
        if self.frames is not None:
            preview = s.plan if self.a["preview"].isChecked() else None
            self.frames.request(frame, preview)
        canvas = self.timeline.canvas
        canvas.frame = frame
        if self.speed:
            canvas.ensure_visible(frame)
        canvas.update()
        self._status()

    def _frame_ready(self, frame: int, image, preview: bool) -> None:  # noqa: ANN001
        self.player.set_image(frame, image, preview)

    def _thumb_ready(self, key) -> None:  # noqa: ANN001
        if key[1] is None:
            self.timeline.canvas.update()
        else:
            self.tracks.model.refresh_thumb(key)

    def _scrub(self, frame: int) -> None:
        self.stop()
        if self.session:
            self.session.set_frame(frame)

    def go(self, frame: int) -> None:
        if self.session and self.session.info:
            self.session.set_frame(frame)
            self.timeline.canvas.ensure_visible(self.session.frame)

    def step(self, n: int) -> None:
        self.stop()
        if self.session:
            self.go(self.session.frame + n)

    def step_seconds(self, n: float) -> None:
        if self.session and self.session.info:
            self.step(int(round(n * (self.session.info.fps or 30))))

    def jump_keyframe(self, direction: int) -> None:
        s = self.session
        if not s or len(s.selected) != 1:
            self.statusBar().showMessage("Select one track to step between its keyframes.", 4000)
            return
        frames = [k.frame for k in s.plan.track(s.selected[0]).keyframes]
        target = [f for f in frames if (f > s.frame if direction > 0 else f < s.frame)]
        if target:
            self.step(0)
            self.go(min(target) if direction > 0 else max(target))

    def go_to_dialog(self) -> None:
        if self.session and self.session.info:
            dialog = GoToDialog(self.session.info.timebase, self.session.frame, self)
            if dialog.exec() and dialog.frame is not None:
                self.go(dialog.frame)

    # playback ---------------------------------------------------------------
    def toggle_play(self) -> None:
        self.shuttle(0 if self.speed else 1)

    def shuttle(self, direction: int) -> None:
        """J/K/L: each L (or J) press doubles the speed that way, up to 8x; K stops."""
        if not self.session or not self.session.info:
            return
        if direction == 0:
            self.stop()
            return
        if self.speed and (self.speed > 0) == (direction > 0):
            self.speed = max(-8.0, min(8.0, self.speed * 2))
        else:
            self.speed = float(direction)
        self._play_origin = (time.monotonic(), self.session.frame)
        self.play_timer.start()
        self.a["play"].setIcon(icon("pause"))
        self.statusBar().showMessage(f"Playing {'backwards ' if self.speed < 0 else ''}{abs(self.speed):g}×", 2000)

    def stop(self) -> None:
        if self.speed:
            self.speed = 0.0
            self.play_timer.stop()
            self._set_icons()

    def _set_icons(self) -> None:
        for name, shape in (("start", "start"), ("back_second", "back"), ("prev_frame", "prev_frame"),
                            ("play", "play"), ("next_frame", "next_frame"), ("fwd_second", "forward"),
                            ("end_frame", "end")):
            self.a[name].setIcon(icon(shape))

    def _tick(self) -> None:
        s = self.session
        if not s or not s.info or not self._play_origin:
            self.stop()
            return
        started, origin = self._play_origin
        fps = s.info.fps or 30.0
        target = origin + int((time.monotonic() - started) * fps * self.speed)
        if target >= s.frame_count - 1 or target <= 0:
            s.set_frame(target)
            self.stop()
            return
        if target != s.frame:
            s.set_frame(target)

    # ================================================================ plan views
    def _plan_changed(self) -> None:
        s = self.session
        if s is None:
            return
        self.player.set_plan(s.plan, s.provisional)
        self.tracks.set_tracks(s.plan, s.provisional, s.selected)
        canvas = self.timeline.canvas
        canvas.plan, canvas.provisional = s.plan, s.provisional
        canvas.update()
        n = len(s.plan.tracks) if s.plan else 0
        undecided = len(s.plan.undecided()) if s.plan else 0
        extra = f" · detecting: {len(s.provisional)} so far" if s.provisional else ""
        self.tracks_title.setText(f"<b>Tracks</b> &nbsp; {n} · {undecided} undecided{extra}")
        if self.a["preview"].isChecked() and self.frames is not None and s.info:
            self.frames.request(s.frame, s.plan)
        self._refresh_review()
        self._update_actions()

    def _selection_changed(self) -> None:
        s = self.session
        self.player.set_selected(s.selected)
        self.tracks.set_selected(s.selected)
        canvas = self.timeline.canvas
        canvas.selected, canvas.selected_segment = s.selected, s.selected_segment
        canvas.update()
        self._status()
        self._update_actions()

    def _marks_changed(self) -> None:
        s = self.session
        canvas = self.timeline.canvas
        canvas.mark_in, canvas.mark_out = s.mark_in, s.mark_out
        canvas.update()
        self._status()
        self._update_actions()

    def _status(self) -> None:
        s = self.session
        if not s or not s.info:
            self.st_frame.setText("")
            self.st_select.setText("")
            return
        total = s.timecode(s.frame_count - 1)
        self.transport.show_time(s.timecode(s.frame), total, s.frame, s.frame_count)
        self.st_frame.setText(f"Frame {s.frame} · {s.timecode(s.frame)}")
        parts = []
        if s.selected:
            track = next((t for t in s.plan.tracks if t.id == s.selected[0]), None)
            if len(s.selected) > 1:
                parts.append(f"Selected: {', '.join(s.selected)}")
            elif track is not None:
                key = track.keyframe_at(s.frame)
                where = ("keyframe (" + key.source + ")") if key else (
                    "interpolated" if track.box_at(s.frame) else "not on this frame")
                parts.append(f"Selected: {track.id} ({track.decision or 'undecided'}) · {where}")
        elif s.selected_segment:
            parts.append(f"Selected: segment {s.selected_segment}")
        if s.mark_in is not None or s.mark_out is not None:
            a = s.timecode(s.mark_in) if s.mark_in is not None else "start"
            b = s.timecode(s.mark_out) if s.mark_out is not None else "end"
            parts.append(f"In {a} · Out {b}")
        self.st_select.setText("   ·   ".join(parts))

    def _update_actions(self) -> None:
        s = self.session
        has_case = s is not None
        has_rec = has_case and s.recording is not None and s.info is not None
        edit = has_rec and s.can_edit
        one = edit and len(s.selected) == 1
        any_sel = edit and bool(s.selected)
        for name, on in {
            "ingest": has_case and s.can("recording.ingest"), "switch_user": has_case, "close_case": has_case,
            "undo": edit and s.undo.canUndo(), "redo": edit and s.undo.canRedo(),
            "redact": any_sel, "redact_reason": any_sel, "release": any_sel, "undecide": any_sel,
            "merge": edit and len(s.selected) >= 2, "split": one, "add_key": one, "delete_key": one,
            "extend": one, "end": one, "delete": edit and (bool(s.selected) or bool(s.selected_segment)),
            "draw": edit, "segment": edit, "detect": edit and self.detect_job is None,
            "export": has_rec, "review": has_rec, "review_next": has_rec, "review_prev": has_rec,
            "preview": has_rec, "goto": has_rec, "mark_in": has_rec, "mark_out": has_rec, "clear_marks": has_rec,
            "default_reason": True,
        }.items():
            self.a[name].setEnabled(bool(on))
        if has_case:
            self.a["undo"].setText(f"&Undo {s.undo.undoText()}".strip())
            self.a["redo"].setText(f"&Redo {s.undo.redoText()}".strip())
        if s is not None and s.case.user is not None:
            user = s.case.user
            role = user.role.value.replace("_", " ")
            ro = "" if s.can_edit else " · read-only"
            self.st_user.setText(f"Signed in: {user.name} ({role}){ro}")
        else:
            self.st_user.setText("Not signed in" if has_case else "")

    # ================================================================ editing
    def apply(self, edit: edits.Edit | None, what: str = "Edit") -> bool:
        if self.session is None or edit is None:
            return False
        try:
            changed = self.session.apply(edit)
        except Exception as error:  # noqa: BLE001 - one sentence, never a traceback
            report_error(self, what, error)
            return False
        if changed:
            self.statusBar().showMessage(f"{edit.label} — saved to the case.", 4000)
        return changed

    def _edit(self, what: str, make) -> bool:  # noqa: ANN001
        """Build an edit from the current plan; a refusal (PlanError) is a dialog, not a crash."""
        if self.session is None or self.session.plan is None:
            return False
        try:
            edit = make(self.session.plan)
        except Exception as error:  # noqa: BLE001
            report_error(self, what, error)
            return False
        return self.apply(edit, what)

    def default_reason(self) -> str:
        return str(self.settings.value("review/default_reason", DEFAULT_REASON))

    def choose_default_reason(self) -> None:
        dialog = ReasonDialog("Default redaction reason", "The reason code recorded when you redact a track "
                              "with R or a click (possible minors always get D3-MINOR). Pick per track with "
                              "Shift+Ctrl+R.", "withhold", required=True, current=self.default_reason(), parent=self)
        if dialog.exec() and dialog.code:
            self.settings.setValue("review/default_reason", dialog.code)

    def decide_selected(self, decision) -> None:  # noqa: ANN001
        if self.session:
            self.decide(list(self.session.selected), decision)

    def decide(self, ids: list[str], decision, reason: str | None = None, note: str = "") -> bool:  # noqa: ANN001
        s = self.session
        if not s or not ids:
            return False
        tracks = [s.plan.track(i) for i in ids]
        if decision == "release" and reason is None:
            minors = [t.id for t in tracks if t.possible_minor]
            message = (f"Release {', '.join(ids)}: the face will show in the public release."
                       + (f" {', '.join(minors)} may show a minor (ordinance D.3): a release reason is required."
                          if minors else " A release reason code is optional."))
            dialog = ReasonDialog("Release", message, "release", required=bool(minors), parent=self)
            if not dialog.exec():
                return False
            reason, note = dialog.code, dialog.note.text()
        if decision == "redact" and reason is None:
            edit = edits.Edit("No change")
            for track in tracks:
                code = "D3-MINOR" if track.possible_minor else self.default_reason()
                edit = edit.then(edits.set_decision(s.plan, track.id, "redact", code, note))
            if len(ids) > 1:
                edit = dataclasses.replace(edit, label=f"Redact {len(ids)} tracks")
            return self.apply(edit, "Redact")
        return self._edit("Decision", lambda plan: edits.set_decisions(plan, ids, decision, reason, note))

    def redact_with_reason(self) -> None:
        s = self.session
        if not s or not s.selected:
            return
        dialog = ReasonDialog("Redact", f"Redact {', '.join(s.selected)} under which reason?", "withhold",
                              required=True, current=self.default_reason(), parent=self)
        if dialog.exec() and dialog.code:
            self.decide(list(s.selected), "redact", dialog.code, dialog.note.text())

    def toggle_decision(self, track_id: str) -> None:
        s = self.session
        if not s or not s.can_edit:
            return
        track = s.plan.track(track_id)
        self.decide([track_id], "release" if track.decision == "redact" else "redact")

    def merge(self) -> None:
        s = self.session
        if s:
            self._edit("Merge", lambda plan: edits.merge_tracks(plan, s.selected))

    def _edit_selected_at_frame(self, label: str, edit: Callable[[Plan, str, int], object]) -> None:
        """An edit of the one selected track at the current frame (nothing if not exactly one)."""
        s = self.session
        if s and len(s.selected) == 1:
            self._edit(label, lambda plan: edit(plan, s.selected[0], s.frame))

    def split(self) -> None:
        self._edit_selected_at_frame("Split", edits.split_track)

    def add_keyframe(self) -> None:
        self._edit_selected_at_frame("Add keyframe", edits.add_keyframe)

    def delete_keyframe(self) -> None:
        self._edit_selected_at_frame("Delete keyframe", edits.delete_keyframe)

    def extend_track(self) -> None:
        self._edit_selected_at_frame("Extend track", edits.extend_track)

    def end_track(self) -> None:
        self._edit_selected_at_frame("End track", edits.end_track)

    def delete_selected(self) -> None:
        s = self.session
        if not s:
            return
        if s.selected_segment:
            self._edit("Delete segment", lambda plan: edits.delete_segment(plan, s.selected_segment))
        elif s.selected:
            ids = list(s.selected)

            def make(plan):  # noqa: ANN001, ANN202
                edit = edits.Edit("No change")
                for track_id in ids:
                    edit = edit.then(edits.delete_track(plan, track_id))
                return dataclasses.replace(edit, label=f"Delete {', '.join(ids)}")

            self._edit("Delete", make)

    def _box_edited(self, track_id: str, frame: int, box) -> None:  # noqa: ANN001
        self._edit("Move box", lambda plan: edits.set_box(plan, track_id, frame, box))

    def _region_drawn(self, frame: int, box) -> None:  # noqa: ANN001
        s = self.session
        if not s or not s.can_edit:
            return
        if s.mark_in is not None and s.mark_out is not None and s.mark_in <= frame <= s.mark_out:
            start, end = s.mark_in, s.mark_out
        else:
            start, end = frame, frame + int(round(REGION_SECONDS * (s.info.fps or 30))) - 1
        reason = self.default_reason()

        if self._edit("Draw region", lambda plan: edits.add_region(plan, start, box, end=end, reason=reason)):
            track = s.plan.track(s.selected[0]) if s.selected else None
            if track is not None:
                self.statusBar().showMessage(
                    f"Region {track.id} hides this box from {s.timecode(track.first_frame)} to "
                    f"{s.timecode(track.last_frame)}. Move it on other frames to follow the object; "
                    "E extends it to the playhead, Shift+E ends it there.", 10000)

    def _player_track_clicked(self, track_id: str, additive: bool) -> None:
        s = self.session
        if not s:
            return
        if not track_id:
            s.select_tracks([])
            s.select_segment(None)
        elif additive:
            ids = [i for i in s.selected if i != track_id] + ([track_id] if track_id not in s.selected else [])
            s.select_tracks(ids)
        else:
            s.select_tracks([track_id])

    def _lane_clicked(self, track_id: str, additive: bool) -> None:
        self._player_track_clicked(track_id, additive)

    def jump_to_track(self, track_id: str) -> None:
        s = self.session
        if s:
            track = s.plan.track(track_id)
            s.select_tracks([track_id])
            if track.first_frame is not None:
                self.step(0)
                self.go(track.first_frame)

    def toggle_draw(self) -> None:
        self.player.set_draw_mode(self.a["draw"].isChecked())

    def toggle_preview(self) -> None:
        if self.session and self.frames is not None and self.session.info:
            preview = self.session.plan if self.a["preview"].isChecked() else None
            self.frames.request(self.session.frame, preview)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802
        if event.key() == Qt.Key_Escape and self.a["draw"].isChecked():
            self.a["draw"].setChecked(False)
            self.toggle_draw()
            return
        super().keyPressEvent(event)

    # ================================================================ marks and segments
    def mark(self, which: str) -> None:
        if self.session:
            self.session.set_mark(which, self.session.frame)

    def clear_marks(self) -> None:
        if self.session:
            self.session.set_mark("in", None)
            self.session.set_mark("out", None)

    def new_segment(self) -> None:
        s = self.session
        if not s:
            return
        if s.mark_in is None or s.mark_out is None:
            show_error(self, "New segment", "Mark where the segment starts (I) and where it ends (O) first.")
            return
        start, end = s.mark_in, s.mark_out + 1  # the out mark's frame is included
        dialog = SegmentDialog(s.timecode(start), s.timecode(end - 1), parent=self)
        if dialog.exec():
            v = dialog.values()
            if self._edit("New segment", lambda plan: edits.add_segment(plan, start, end, **v)):
                self.clear_marks()

    def edit_segment(self, segment_id: str) -> None:
        s = self.session
        if not s or not s.can_edit:
            return
        seg = next((x for x in s.plan.segments if x.id == segment_id), None)
        if seg is None:
            return
        dialog = SegmentDialog(s.timecode(seg.start), s.timecode(seg.end - 1), video=bool(seg.video),
                               audio=seg.audio, reason=seg.reason, note=seg.note, parent=self)
        if dialog.exec():
            self._edit("Change segment", lambda plan: edits.change_segment(plan, segment_id, **dialog.values()))

    def _segment_resized(self, segment_id: str, start: int, end: int) -> None:
        # A body drag arrives here too, as both edges moved by the same number of frames.
        self._edit("Move segment", lambda plan: edits.change_segment(plan, segment_id, start=start, end=end))

    # ================================================================ review pass and export
    def toggle_review(self) -> None:
        on = self.a["review"].isChecked()
        self.review_bar.setVisible(on)
        if on:
            self.review_index = 0
            self._refresh_review(jump=True)

    def _items(self):  # noqa: ANN202
        s = self.session
        return review_items(s.plan, s.timecode) if s and s.plan else []

    def _refresh_review(self, jump: bool = False) -> None:
        if not self.review_bar.isVisible() or not self.session:
            return
        items = self._items()
        if items:
            self.review_index = min(self.review_index, len(items) - 1)
        item = items[self.review_index] if items else None
        self.review_bar.show_item(item, self.review_index + 1, len(items), len(self.session.plan.undecided()))
        if jump and item is not None:
            self.session.select_tracks([item.track_id])
            self.step(0)
            self.go(item.start)

    def review_step(self, direction: int) -> None:
        if not self.a["review"].isChecked():
            self.a["review"].setChecked(True)
            self.toggle_review()
            return
        items = self._items()
        if items:
            self.review_index = (self.review_index + direction) % len(items)
        self._refresh_review(jump=True)

    def export(self) -> None:
        s = self.session
        if not s or not s.recording:
            return
        if s.plan.undecided() and s.can_edit:
            n = len(s.plan.undecided())
            show_error(self, "Export", f"{n} track{'s have' if n != 1 else ' has'} no decision yet. The review pass "
                       "(F6) takes you to each one; export opens when every track is decided.")
            if not self.a["review"].isChecked():
                self.a["review"].setChecked(True)
                self.toggle_review()
            return
        try:
            dialog = ExportDialog(s, self)
        except Exception as error:  # noqa: BLE001
            report_error(self, "Export", error)
            return

        def switch() -> None:
            self.switch_user()
            dialog.refresh()

        dialog.switchUser.connect(switch)
        dialog.exec()

    # ================================================================ undo, help, demo
    def undo(self) -> None:
        if self.session:
            self.session.undo.undo()

    def redo(self) -> None:
        if self.session:
            self.session.undo.redo()

    def show_shortcuts(self) -> None:
        ShortcutsDialog([(" / ".join(k), text) for _name, k, text in SHORTCUTS], self).exec()

    def about(self) -> None:
        QMessageBox.about(self, "About bwc-redact",
                          "<b>bwc-redact</b><br>Review and redact body-worn-camera footage before release.<br>"
                          "Originals are never altered; every change is in the case's hash-chained ledger.")

    def open_demo(self, folder: Path | None = None, fresh: bool = False) -> None:
        """Prepare the demo case on a worker (footage, case, ingest), open it, then detect faces."""
        from . import demo

        job = Job("Preparing the demo", lambda progress, cancel: demo.prepare(folder, fresh=fresh, say=lambda _m: None,
                                                                                progress=progress, cancel=cancel),
                  self)

        def ready(result) -> None:  # noqa: ANN001
            if self.open_case(result.case_path, demo.OFFICER, demo.password(demo.OFFICER),
                              recording=result.recording_id, then=self._detect_if_new):
                self.statusBar().showMessage(
                    f"Demo case in {result.case_path} — signed in as {demo.OFFICER}; the approver is "
                    f"{demo.APPROVER} (password {demo.password(demo.APPROVER)}).", 15000)

        self.player.message = "Preparing the demo footage…"
        self.stack.setCurrentWidget(self.split_main)
        self.toolbar.show()
        self.start_job(job, ready)

    # ================================================================ closing
    def closeEvent(self, event) -> None:  # noqa: ANN001, N802
        if self.detect_job is not None:
            answer = QMessageBox.question(self, "Quit", "Face detection is still running. Stop it and quit? "
                                          "Everything already saved stays in the case.")
            if answer != QMessageBox.Yes:
                event.ignore()
                return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.close_case()
        QThreadPool.globalInstance().waitForDone(5000)  # cancelled jobs stop within a frame
        super().closeEvent(event)
