"""The export dialog: readiness (decisions, approval), progress with cancel, then
a summary with the hashes, the redaction log and a button that runs verify.

Export is blocked while any track is undecided. An export also needs an
approval of this exact plan by an approver (ordinance F.3); an approver who
opens this dialog can give it here, after seeing the plan hash. The records
officer then exports. The case store enforces all of it; the dialog explains.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..workers import Job, format_eta


def _mono(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.Monospace)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


class ExportDialog(QDialog):
    switchUser = Signal()
    exported = Signal(object)  # ExportRecord

    def __init__(self, session, parent: QWidget | None = None) -> None:  # noqa: ANN001 - app.state.Session
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Export release")
        self.setMinimumSize(720, 520)
        self.job: Job | None = None
        self.record = None
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._ready_page())
        self.pages.addWidget(self._progress_page())
        self.pages.addWidget(self._result_page())
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        self.refresh()

    # ------------------------------------------------------------ pages
    def _ready_page(self) -> QWidget:
        page = QWidget()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.RichText)
        self.deliver = QCheckBox("Also copy the release package to a new folder:")
        self.deliver_path = QLineEdit()
        self.deliver_path.setPlaceholderText("a new, empty folder")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.deliver_path, 1)
        row.addWidget(browse)
        self.approve_btn = QPushButton("Approve this plan")
        self.approve_btn.setToolTip("Approve exactly the plan shown (its SHA-256 is recorded with your approval).")
        self.approve_btn.clicked.connect(self._approve)
        self.switch_btn = QPushButton("Switch user…")
        self.switch_btn.clicked.connect(self.switchUser.emit)
        self.export_btn = QPushButton("Export")
        self.export_btn.setDefault(True)
        self.export_btn.clicked.connect(self._export)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.switch_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.approve_btn)
        buttons.addWidget(self.export_btn)
        buttons.addWidget(close)
        layout = QVBoxLayout(page)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.deliver)
        layout.addLayout(row)
        layout.addLayout(buttons)
        return page

    def _progress_page(self) -> QWidget:
        page = QWidget()
        self.progress_label = QLabel("Exporting…")
        self.bar = QProgressBar()
        self.eta = QLabel("")
        cancel = QPushButton("Cancel")
        cancel.setToolTip("Stop the export; nothing partial is kept.")
        cancel.clicked.connect(lambda: self.job and self.job.cancel())
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.eta)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(cancel)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _result_page(self) -> QWidget:
        page = QWidget()
        self.summary = QFormLayout()
        self.log_view = QTextBrowser()
        self.log_view.setOpenExternalLinks(False)
        self.verify_out = QTextBrowser()
        self.verify_out.setMaximumHeight(130)
        self.verify_out.hide()
        self.verify_btn = QPushButton("Verify case")
        self.verify_btn.setToolTip("Re-hash every original and release, walk the ledger and check its signatures.")
        self.verify_btn.clicked.connect(self._verify)
        open_btn = QPushButton("Open folder")
        open_btn.clicked.connect(lambda: self.record and QDesktopServices.openUrl(
            QUrl.fromLocalFile(str(self.record.folder))))
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(open_btn)
        buttons.addWidget(self.verify_btn)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(page)
        title = QLabel("<b>Release exported</b>")
        layout.addWidget(title)
        layout.addLayout(self.summary)
        layout.addWidget(QLabel("Redaction log (what was withheld and why; never what it shows):"))
        layout.addWidget(self.log_view, 1)
        layout.addWidget(self.verify_out)
        layout.addLayout(buttons)
        return page

    # ------------------------------------------------------------ state
    def refresh(self) -> None:
        s = self.session
        plan = s.plan
        rec = s.recording
        user = s.case.user
        digest = s.case.plan_hash(rec.id)
        undecided = plan.undecided()
        approvals = [a for a in s.case.approvals(rec.id) if a.plan_hash == digest]
        lines = [f"<p>Recording {rec.id}: <b>{rec.original_name}</b> — {len(plan.tracks)} tracks, "
                 f"{len(plan.segments)} segments.</p>",
                 f"<p>Plan SHA-256: <code>{digest}</code></p>"]
        ok = True
        if undecided:
            ok = False
            names = ", ".join(t.id for t in undecided[:8]) + (" …" if len(undecided) > 8 else "")
            lines.append(f"<p style='color:#f2c94c'>✗ {len(undecided)} tracks have no decision yet ({names}). "
                         "Finish the review pass (F6) first.</p>")
        else:
            lines.append("<p style='color:#30a46c'>✓ Every track has a decision.</p>")
        if approvals:
            a = approvals[-1]
            lines.append(f"<p style='color:#30a46c'>✓ Approved by <b>{a.approver}</b> at {a.approved_at} "
                         "(this exact plan).</p>")
        else:
            ok = False
            lines.append("<p style='color:#f2c94c'>✗ This plan is not approved. An approver (Chief of Police or "
                         "City Attorney) must approve it (ordinance F.3); any later edit needs a new approval.</p>")
        role = user.role.value if user else None
        who = f"{user.name} ({user.role.value.replace('_', ' ')})" if user else "nobody"
        lines.append(f"<p>Signed in as {who}.</p>")
        can_approve = role == "approver" and not approvals and not undecided
        can_export = role == "records_officer" and ok
        if role == "approver" and approvals:
            lines.append("<p>Nothing left for an approver here; a records officer exports.</p>")
        elif not can_approve and not can_export and not undecided:
            need = "an approver" if not approvals else "a records officer"
            lines.append(f"<p>Switch to {need} to continue.</p>")
        self.digest = digest
        self.status.setText("".join(lines))
        self.approve_btn.setVisible(role == "approver")
        self.approve_btn.setEnabled(can_approve)
        self.export_btn.setVisible(role == "records_officer")
        self.export_btn.setEnabled(can_export)
        self.export_btn.setToolTip("" if can_export else "Every track needs a decision and the plan an approval.")
        for widget in (self.deliver, self.deliver_path):
            widget.setVisible(role == "records_officer")

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Copy the release package to", str(Path.home()))
        if path:
            self.deliver_path.setText(str(Path(path) / f"release-{self.session.recording.id}"))
            self.deliver.setChecked(True)

    def _approve(self) -> None:
        from .common import report_error

        try:
            self.session.case.approve(self.session.recording.id, self.digest, "approved in the review window")
        except Exception as error:  # noqa: BLE001 - shown as one sentence
            report_error(self, "Approval", error)
        self.refresh()

    def _export(self) -> None:
        out = Path(self.deliver_path.text()).expanduser() if self.deliver.isChecked() and self.deliver_path.text() else None
        case, rec_id = self.session.case, self.session.recording.id
        self.job = Job("Export", lambda progress, cancel: case.export(rec_id, out, progress=progress, cancel=cancel),
                       self)
        self.job.progress.connect(self._progress)
        self.job.succeeded.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self.pages.setCurrentIndex(1)
        self.bar.setRange(0, 0)
        self.job.start()

    def _progress(self, done: int, total: int) -> None:
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        eta = self.job.eta.update(done, total) if self.job else None
        self.progress_label.setText(f"Exporting: frame {done} of {total}")
        self.eta.setText(format_eta(eta))

    def _failed(self, message: str) -> None:
        from .common import show_error

        self.pages.setCurrentIndex(0)
        show_error(self, "Export failed", message)
        self.refresh()

    def _cancelled(self) -> None:
        self.pages.setCurrentIndex(0)
        self.status.setText(self.status.text() + "<p style='color:#f2c94c'>Export cancelled; nothing partial was kept.</p>")

    def _done(self, record) -> None:  # noqa: ANN001
        self.record = record
        self.exported.emit(record)
        rows = [("Export", record.id), ("Original SHA-256", record.original_sha256),
                ("Release SHA-256", record.release_sha256), ("Plan SHA-256", record.plan_hash),
                ("Manifest SHA-256", record.manifest_sha256), ("Release file", str(record.release_path))]
        if record.delivered_to:
            rows.append(("Copied to", str(record.delivered_to)))
        for name, value in rows:
            self.summary.addRow(name, _mono(value))
        log = record.folder / "redaction-log.html"
        try:
            self.log_view.setHtml(log.read_text(encoding="utf-8"))
        except OSError as error:
            self.log_view.setPlainText(f"The redaction log could not be read: {error}")
        self.pages.setCurrentIndex(2)

    def _verify(self) -> None:
        from review.verify import verify_case

        path = self.session.case.layout.root
        self.verify_btn.setEnabled(False)
        self.verify_out.show()
        self.verify_out.setPlainText("Verifying…")
        self.vjob = Job("Verify", lambda progress, cancel: verify_case(path, progress=progress), self)
        self.vjob.succeeded.connect(self._verified)
        self.vjob.failed.connect(lambda m: self.verify_out.setPlainText(m))
        self.vjob.ended.connect(lambda: self.verify_btn.setEnabled(True))
        self.vjob.start()

    def _verified(self, report) -> None:  # noqa: ANN001
        color = "#30a46c" if report.ok else "#ff6b6b"
        body = "<br>".join(line.replace("<", "&lt;") for line in report.lines())
        self.verify_out.setHtml(f"<div style='color:{color}'>{body}</div>")
