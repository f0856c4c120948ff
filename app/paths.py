"""Where bwc-redact keeps its own files for the person using it (not case data).

``data_dir()`` is the per-user data folder: ``$BWC_REDACT_DATA`` if set, else
``%LOCALAPPDATA%\\bwc-redact`` on Windows, ``~/Library/Application Support/bwc-redact``
on macOS and ``$XDG_DATA_HOME/bwc-redact`` (usually ``~/.local/share/bwc-redact``)
elsewhere. The demo case lives in its ``demo`` folder; the window's error log too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "bwc-redact"
DATA_ENV = "BWC_REDACT_DATA"


def data_dir() -> Path:
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / APP_NAME


def demo_dir() -> Path:
    return data_dir() / "demo"


def log_file() -> Path:
    return data_dir() / "window-errors.log"
