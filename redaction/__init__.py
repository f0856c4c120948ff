"""The redaction engine: probe, decode, detect, track, flag, render, export.

Qt-free by contract (see ``[tool.importlinter]`` in pyproject.toml): the window
and the command line both drive this package, never the other way round.
"""

__version__ = "0.1.0"
