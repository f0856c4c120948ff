"""The ``bwc-redact`` command line.

Each group of subcommands lives in ``app/commands/<group>.py`` and exposes
``register(subparsers)``; this module only wires them together and turns any
``RedactionError`` into a one-line message and a non-zero exit, never a
traceback. Nothing here imports Qt: only ``bwc-redact gui`` (or no command at
all) loads the window.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from redaction.errors import Cancelled, RedactionError

# Order is the order shown in --help.
COMMAND_MODULES = ("app.commands.engine", "app.commands.case", "app.commands.gui", "app.commands.workflow")

EXIT_ERROR = 1
EXIT_CANCELLED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bwc-redact",
        description="Review and redact body-worn-camera footage; keep the original untouched and provable.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        # No command: a records officer double-clicking the program gets the window.
        from app.commands.gui import open_window

        args.handler = lambda _args: open_window()
    try:
        return int(args.handler(args) or 0)
    except Cancelled as error:
        print(f"bwc-redact: {error}", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("bwc-redact: interrupted; nothing partial was kept.", file=sys.stderr)
        return EXIT_CANCELLED
    except RedactionError as error:
        print(f"bwc-redact: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
