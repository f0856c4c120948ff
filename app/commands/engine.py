"""Engine commands: redact, detect, export (filled in by the engine work)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    pass
